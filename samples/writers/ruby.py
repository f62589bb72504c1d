"""The Ruby sample, with net/http."""

from __future__ import annotations

from functools import partial

from samples.literals import is_plain, ruby_literal
from samples.request import SampleRequest, Text
from samples.writers.expressions import concat, multiline, secrets_comment

_CLASSES = {
    "GET": "Get",
    "POST": "Post",
    "PUT": "Put",
    "PATCH": "Patch",
    "DELETE": "Delete",
    "HEAD": "Head",
    "OPTIONS": "Options",
}


def write_ruby(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return concat(
            text, literal=ruby_literal, env=lambda n: f"ENV.fetch({ruby_literal(n)})", op=" + "
        )

    lines = secrets_comment(request, "#")
    lines += ["require 'net/http'", "require 'uri'", "", f"uri = URI({expr(request.url)})"]
    known = _CLASSES.get(request.method)
    if known:
        lines.append(f"request = Net::HTTP::{known}.new(uri)")
    else:
        method = ruby_literal(request.method)
        lines.append(f"request = Net::HTTPGenericRequest.new({method}, true, true, uri)")
    lines += [f"request[{ruby_literal(n)}] = {expr(v)}" for n, v in request.headers]
    if request.body is not None:
        if is_plain(request.body):
            lines.append(f"request.body = {ruby_literal(request.body)}")
        else:
            body = multiline(
                request.body, literal=partial(ruby_literal, double=True), op="+", indent="  "
            )
            lines.append(f"request.body =\n  {body}")
    lines += [
        "",
        "https = uri.scheme == 'https'",
        "response = Net::HTTP.start(uri.hostname, uri.port, use_ssl: https) do |http|",
        "  http.request(request)",
        "end",
        'puts "#{response.code} #{response.message}"',
        "puts response.body",
    ]
    return "\n".join(lines)
