// Secrets are read from environment variables:
//   OCP_APIM_SUBSCRIPTION_KEY: your subscription key, in the Ocp-Apim-Subscription-Key header
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class Sample {
    public static void main(String[] args) throws Exception {
        String body =
            "{\"name\": \"it's\", \"count\": 1}\n";
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://portal.example.com/gateway/keyed/v1/items/a%20b%2Fc?mode=fast%20%26%20safe"))
            .method("POST", HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json")
            .header("Ocp-Apim-Subscription-Key", System.getenv("OCP_APIM_SUBSCRIPTION_KEY"))
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