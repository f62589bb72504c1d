"""The raw HTTP sample: the request as Try it sends it, with Host and Content-Length,
for reading (secrets as `<NAME>`)."""

from __future__ import annotations

from samples.request import SampleRequest, Secret, Text


def write_http(request: SampleRequest) -> str:
    def text(value: Text) -> str:
        return "".join(f"<{p.env}>" if isinstance(p, Secret) else p for p in value)

    lines = [f"{request.method} {text(request.target)} HTTP/1.1", f"Host: {request.host}"]
    lines += [f"{name}: {text(value)}".rstrip(" ") for name, value in request.headers]
    if request.body is not None:
        lines.append(f"Content-Length: {len(request.body.encode('utf-8'))}")
    elif request.method not in {"GET", "HEAD"}:
        lines.append("Content-Length: 0")
    head = "\n".join(lines) + "\n"
    return head + ("\n" + request.body if request.body is not None else "")
