// Secrets are read from environment variables:
//   KEY: the key parameter, percent-encoded
//   AUTHORIZATION: the Authorization header, after "Bearer "
fetch("https://api.example.com/v1/items/a%20b%2Fc%27d%22e%24f%60g%25h%26i%7Cj%20%C3%A9?mode=x%26y%7Cz%20100%25&key=" + process.env.KEY + "&q=%C3%BC%20%F0%9F%98%80", {
  method: "POST",
  headers: {
    "Content-Type": "application/json",
    "Authorization": "Bearer " + process.env.AUTHORIZATION,
    "X-Awkward": "it's \"q\" \\ $HOME `id` 100% a&b|c #{x}",
    "X-Empty": "",
  },
  body:
    "{\n" +
    "  \"text\": \"it's \\\"quoted\\\" \\\\back\\\\slash $HOME ${PATH} `id` #{x} {$x} 100% a&b|c\",\n" +
    "  \"unicode\": \"é ü 中文 😀\",\n" +
    "  \"nested\": \"{\\\"say\\\": \\\"he said \\\\\\\"hi\\\\\\\"\\\", \\\"path\\\": \\\"C:\\\\\\\\temp\\\\\\\\new\\\"}\",\n" +
    "  \"newline escape\": \"one\\ntwo\"\n" +
    "}\n",
})
  .then(async (response) => {
    console.log(response.status, response.statusText);
    console.log(await response.text());
  });