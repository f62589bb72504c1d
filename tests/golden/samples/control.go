package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

func main() {
	body := "line 1\r\n" +
		"\tline 2 'q' \"q\" \\ $x #{y} `z` 100%\r\n" +
		"\x1b[0m \u2028 é\r\n"
	req, err := http.NewRequest("PUT", "https://api.example.com/v1/notes/n1", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
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