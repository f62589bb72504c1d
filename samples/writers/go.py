"""The Go sample, with net/http."""

from __future__ import annotations

from samples.literals import go_literal
from samples.request import SampleRequest, Text
from samples.writers.expressions import concat, multiline, secrets_comment


def write_go(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return concat(text, literal=go_literal, env=lambda n: f"os.Getenv({go_literal(n)})", op="+")

    imports = ["fmt", "io", "net/http"]
    if request.secrets:
        imports.append("os")
    if request.body is not None:
        imports.append("strings")
    lines = secrets_comment(request, "//")
    lines += ["package main", "", "import ("]
    lines += [f"\t{go_literal(name)}" for name in imports]
    lines += [")", "", "func main() {"]
    reader = "nil"
    if request.body is not None:
        body = multiline(request.body, literal=go_literal, op="+", indent="\t\t")
        lines.append(f"\tbody := {body}")
        reader = "strings.NewReader(body)"
    lines += [
        f"\treq, err := http.NewRequest({go_literal(request.method)}, {expr(request.url)}, "
        f"{reader})",
        "\tif err != nil {",
        "\t\tpanic(err)",
        "\t}",
    ]
    lines += [f"\treq.Header.Set({go_literal(n)}, {expr(v)})" for n, v in request.headers]
    lines += [
        "\tresp, err := http.DefaultClient.Do(req)",
        "\tif err != nil {",
        "\t\tpanic(err)",
        "\t}",
        "\tdefer resp.Body.Close()",
        "\tdata, err := io.ReadAll(resp.Body)",
        "\tif err != nil {",
        "\t\tpanic(err)",
        "\t}",
        "\tfmt.Println(resp.Status)",
        "\tfmt.Println(string(data))",
        "}",
    ]
    return "\n".join(lines)
