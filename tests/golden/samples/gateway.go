// Secrets are read from environment variables:
//   OCP_APIM_SUBSCRIPTION_KEY: your subscription key, in the Ocp-Apim-Subscription-Key header
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

func main() {
	body := "{\"name\": \"it's\", \"count\": 1}\n"
	req, err := http.NewRequest("POST", "https://portal.example.com/gateway/keyed/v1/items/a%20b%2Fc?mode=fast%20%26%20safe", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ocp-Apim-Subscription-Key", os.Getenv("OCP_APIM_SUBSCRIPTION_KEY"))
	req.Header.Set("X-Trace", "t-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Status)
	fmt.Println(string(data))
}