// Secrets are read from environment variables:
//   KEY: the key parameter, percent-encoded
//   AUTHORIZATION: the Authorization header, after "Bearer "
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

func main() {
	body := "{\n" +
		"  \"text\": \"it's \\\"quoted\\\" \\\\back\\\\slash $HOME ${PATH} `id` #{x} {$x} 100% a&b|c\",\n" +
		"  \"unicode\": \"é ü 中文 😀\",\n" +
		"  \"nested\": \"{\\\"say\\\": \\\"he said \\\\\\\"hi\\\\\\\"\\\", \\\"path\\\": \\\"C:\\\\\\\\temp\\\\\\\\new\\\"}\",\n" +
		"  \"newline escape\": \"one\\ntwo\"\n" +
		"}\n"
	req, err := http.NewRequest("POST", "https://api.example.com/v1/items/a%20b%2Fc%27d%22e%24f%60g%25h%26i%7Cj%20%C3%A9?mode=x%26y%7Cz%20100%25&key="+os.Getenv("KEY")+"&q=%C3%BC%20%F0%9F%98%80", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+os.Getenv("AUTHORIZATION"))
	req.Header.Set("X-Awkward", "it's \"q\" \\ $HOME `id` 100% a&b|c #{x}")
	req.Header.Set("X-Empty", "")
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