"""The PHP sample, with the curl extension."""

from __future__ import annotations

from functools import partial

from samples.literals import is_plain, php_literal
from samples.request import SampleRequest, Text
from samples.writers.expressions import concat, multiline, secrets_comment


def write_php(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return concat(
            text, literal=php_literal, env=lambda n: f"getenv({php_literal(n)})", op=" . "
        )

    headers = [
        (f"{n};",) if v == ("",) else (f"{n}: ", *v) for n, v in request.headers
    ]  # libcurl, as the curl tool: "Name;" sends an empty header
    options = []
    if request.method == "HEAD":
        options.append("CURLOPT_NOBODY => true")
    elif request.method != "GET":
        options.append(f"CURLOPT_CUSTOMREQUEST => {php_literal(request.method)}")
    if request.body is not None and not request.has_header("Content-Type"):
        headers.append(("Content-Type:",))  # libcurl would add a form content type
    if request.needs_zero_length:
        headers.append(("Content-Length: 0",))
    if headers:
        rows = "".join(f"        {expr(h)},\n" for h in headers)
        options.append(f"CURLOPT_HTTPHEADER => [\n{rows}    ]")
    if request.body is not None:
        if is_plain(request.body):
            options.append(f"CURLOPT_POSTFIELDS => {php_literal(request.body)}")
        else:
            body = multiline(
                request.body, literal=partial(php_literal, double=True), op=".", indent="        "
            )
            options.append(f"CURLOPT_POSTFIELDS =>\n        {body}")
    options.append("CURLOPT_RETURNTRANSFER => true")
    lines = ["<?php", *secrets_comment(request, "//")]
    lines += [
        f"$ch = curl_init({expr(request.url)});",
        "curl_setopt_array($ch, [",
        *(f"    {option}," for option in options),
        "]);",
        "$response = curl_exec($ch);",
        "if ($response === false) {",
        "    throw new RuntimeException(curl_error($ch));",
        "}",
        'echo curl_getinfo($ch, CURLINFO_RESPONSE_CODE), "\\n", $response, "\\n";',
    ]
    return "\n".join(lines)
