"""The C# sample, with HttpClient (.NET 6 or later)."""

from __future__ import annotations

from samples.literals import cs_literal
from samples.request import SampleRequest, Text
from samples.writers.expressions import concat, multiline, secrets_comment

CONTENT_HEADERS = frozenset(
    {
        "allow",
        "content-disposition",
        "content-encoding",
        "content-language",
        "content-location",
        "content-md5",
        "content-range",
        "content-type",
        "expires",
        "last-modified",
    }
)


def write_csharp(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return concat(
            text,
            literal=cs_literal,
            env=lambda n: f"Environment.GetEnvironmentVariable({cs_literal(n)})",
            op=" + ",
        )

    content = [(n, v) for n, v in request.headers if n.lower() in CONTENT_HEADERS]
    lines = secrets_comment(request, "//")
    lines += [
        "using System;",
        "using System.Net.Http;",
        "using System.Text;",
        "",
        "using var client = new HttpClient();",
        f"using var request = new HttpRequestMessage(new HttpMethod({cs_literal(request.method)}), "
        f"{expr(request.url)});",
    ]
    lines += [
        f"request.Headers.TryAddWithoutValidation({cs_literal(n)}, {expr(v)});"
        for n, v in request.headers
        if n.lower() not in CONTENT_HEADERS
    ]
    if request.body is not None:
        body = multiline(request.body, literal=cs_literal, op="+", indent="    ")
        lines.append(
            f"request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(\n    {body}));"
        )
    elif content:
        lines.append("request.Content = new ByteArrayContent(Array.Empty<byte>());")
    # Content headers belong to the content; a content type is not added otherwise.
    lines += [
        f"request.Content.Headers.TryAddWithoutValidation({cs_literal(n)}, {expr(v)});"
        for n, v in content
    ]
    lines += [
        "",
        "using var response = await client.SendAsync(request);",
        'Console.WriteLine($"{(int)response.StatusCode} {response.ReasonPhrase}");',
        "Console.WriteLine(await response.Content.ReadAsStringAsync());",
    ]
    return "\n".join(lines)
