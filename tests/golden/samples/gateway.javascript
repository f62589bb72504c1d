// Secrets are read from environment variables:
//   OCP_APIM_SUBSCRIPTION_KEY: your subscription key, in the Ocp-Apim-Subscription-Key header
fetch("https://portal.example.com/gateway/keyed/v1/items/a%20b%2Fc?mode=fast%20%26%20safe", {
  method: "POST",
  headers: {
    "Content-Type": "application/json",
    "Ocp-Apim-Subscription-Key": process.env.OCP_APIM_SUBSCRIPTION_KEY,
    "X-Trace": "t-1",
  },
  body:
    "{\"name\": \"it's\", \"count\": 1}\n",
})
  .then(async (response) => {
    console.log(response.status, response.statusText);
    console.log(await response.text());
  });