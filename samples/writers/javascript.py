"""The JavaScript sample, for Node.js 18 or later (fetch)."""

from __future__ import annotations

from samples.literals import js_literal
from samples.request import SampleRequest, Text
from samples.writers.expressions import concat, multiline, secrets_comment


def write_javascript(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return concat(text, literal=js_literal, env=lambda n: f"process.env.{n}", op=" + ")

    lines = secrets_comment(request, "//")
    lines += [f"fetch({expr(request.url)}, {{", f"  method: {js_literal(request.method)},"]
    if request.headers:
        lines.append("  headers: {")
        lines += [f"    {js_literal(n)}: {expr(v)}," for n, v in request.headers]
        lines.append("  },")
    if request.body is not None:
        body = multiline(request.body, literal=js_literal, op="+", indent="    ")
        if request.has_header("Content-Type"):
            lines.append(f"  body:\n    {body},")
        else:
            # A string body would be sent with Content-Type: text/plain;charset=UTF-8.
            lines.append(f"  body: new TextEncoder().encode(\n    {body}\n  ),")
    lines += [
        "})",
        "  .then(async (response) => {",
        "    console.log(response.status, response.statusText);",
        "    console.log(await response.text());",
        "  });",
    ]
    return "\n".join(lines)
