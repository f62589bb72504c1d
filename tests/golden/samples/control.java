import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class Sample {
    public static void main(String[] args) throws Exception {
        String body =
            "line 1\r\n" +
            "\tline 2 'q' \"q\" \\ $x #{y} `z` 100%\r\n" +
            "\033[0m \u2028 \u00e9\r\n";
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://api.example.com/v1/notes/n1"))
            .method("PUT", HttpRequest.BodyPublishers.ofString(body))
            .header("X-Trace", "t-1")
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