fetch("https://api.example.com/v1/search?term=rock%20%26%20roll", {
  method: "GET",
  headers: {
    "Accept": "application/json",
  },
})
  .then(async (response) => {
    console.log(response.status, response.statusText);
    console.log(await response.text());
  });