fetch("https://api.example.com/v1/notes/n1", {
  method: "PUT",
  headers: {
    "X-Trace": "t-1",
  },
  body: new TextEncoder().encode(
    "line 1\r\n" +
    "\tline 2 'q' \"q\" \\ $x #{y} `z` 100%\r\n" +
    "\u001b[0m \u2028 é\r\n"
  ),
})
  .then(async (response) => {
    console.log(response.status, response.statusText);
    console.log(await response.text());
  });