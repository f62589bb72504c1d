"""The Java sample, with java.net.http (Java 11 or later), as Sample.java."""

from __future__ import annotations

from samples.literals import java_literal
from samples.request import SampleRequest, Text
from samples.writers.expressions import concat, multiline, secrets_comment


def write_java(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return concat(
            text, literal=java_literal, env=lambda n: f"System.getenv({java_literal(n)})", op=" + "
        )

    method = java_literal(request.method)
    lines = secrets_comment(request, "//")
    lines += [
        "import java.net.URI;",
        "import java.net.http.HttpClient;",
        "import java.net.http.HttpRequest;",
        "import java.net.http.HttpResponse;",
        "",
        "public class Sample {",
        "    public static void main(String[] args) throws Exception {",
    ]
    if request.body is not None:
        body = multiline(request.body, literal=java_literal, op="+", indent="            ")
        lines.append(f"        String body =\n            {body};")
        publisher = f".method({method}, HttpRequest.BodyPublishers.ofString(body))"
    elif request.method == "GET":
        publisher = ".GET()"
    else:
        publisher = f".method({method}, HttpRequest.BodyPublishers.noBody())"
    lines += [
        f"        HttpRequest request = HttpRequest.newBuilder(URI.create({expr(request.url)}))",
        f"            {publisher}",
        *(f"            .header({java_literal(n)}, {expr(v)})" for n, v in request.headers),
        "            .build();",
        "        HttpClient client = HttpClient.newBuilder()",
        "            .version(HttpClient.Version.HTTP_1_1)",
        "            .build();",
        "        HttpResponse<String> response =",
        "            client.send(request, HttpResponse.BodyHandlers.ofString());",
        "        System.out.println(response.statusCode());",
        "        System.out.println(response.body());",
        "    }",
        "}",
    ]
    return "\n".join(lines)
