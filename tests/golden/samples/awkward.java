// Secrets are read from environment variables:
//   KEY: the key parameter, percent-encoded
//   AUTHORIZATION: the Authorization header, after "Bearer "
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class Sample {
    public static void main(String[] args) throws Exception {
        String body =
            "{\n" +
            "  \"text\": \"it's \\\"quoted\\\" \\\\back\\\\slash $HOME ${PATH} `id` #{x} {$x} 100% a&b|c\",\n" +
            "  \"unicode\": \"\u00e9 \u00fc \u4e2d\u6587 \ud83d\ude00\",\n" +
            "  \"nested\": \"{\\\"say\\\": \\\"he said \\\\\\\"hi\\\\\\\"\\\", \\\"path\\\": \\\"C:\\\\\\\\temp\\\\\\\\new\\\"}\",\n" +
            "  \"newline escape\": \"one\\ntwo\"\n" +
            "}\n";
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://api.example.com/v1/items/a%20b%2Fc%27d%22e%24f%60g%25h%26i%7Cj%20%C3%A9?mode=x%26y%7Cz%20100%25&key=" + System.getenv("KEY") + "&q=%C3%BC%20%F0%9F%98%80"))
            .method("POST", HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + System.getenv("AUTHORIZATION"))
            .header("X-Awkward", "it's \"q\" \\ $HOME `id` 100% a&b|c #{x}")
            .header("X-Empty", "")
            .build();
        HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .build();
        HttpResponse<String> response =
            client.send(request, HttpResponse.BodyHandlers.ofString());
        System.out.println(response.statusCode());
        System.out.println(response.body());
    }
}