"""The curl sample, for a POSIX shell.

Words in single quotes (samples/literals.py); the body with --data-raw (-d reads
"@file"), or through `printf '...' | curl --data-binary @-` when it holds carriage
returns or control characters; `Name;` for an empty header, `Content-Type:` to stop curl
adding a form type, --globoff for brackets in the URL.
"""

from __future__ import annotations

import re

from samples.literals import is_plain, sh_literal
from samples.request import SampleRequest, Secret, Text, plain_text
from samples.writers.expressions import merged, secrets_comment


def write_curl(request: SampleRequest) -> str:
    def word(text: Text) -> str:
        return (
            "".join(f'"${p.env}"' if isinstance(p, Secret) else sh_literal(p) for p in merged(text))
            or "''"
        )

    options: list[str] = []
    url = plain_text(request.url)
    if any(c in url for c in "[]{}"):
        options.append("--globoff")  # curl would read brackets and braces as URL globs
    for name, value in request.headers:
        if request.form_parts and name.lower() == "content-type":
            continue  # curl writes multipart/form-data with its own boundary
        # "Name:" would remove curl's header of that name; "Name;" sends it empty.
        options.append(
            f"--header {word((f'{name};',))}"
            if value == ("",)
            else f"--header {word((f'{name}: ', *value))}"
        )
    pipe = ""
    if request.form_parts:
        # --form-string: a text value starting with @ or < is not a file to read.
        for part in request.form_parts:
            if part.file:
                options.append(f"--form {sh_literal(f'{part.name}=@{part.value}')}")
            else:
                options.append(f"--form-string {sh_literal(f'{part.name}={part.value}')}")
    elif request.body_file:
        options.append(f"--data-binary {sh_literal('@' + request.body_file)}")
    elif request.body is not None:
        if not request.has_header("Content-Type"):
            # Without this curl sends application/x-www-form-urlencoded.
            options.append("--header 'Content-Type:'")
        if is_plain(request.body):
            # --data-raw, not -d: -d reads "@file" and strips line breaks from files.
            options.append(f"--data-raw {sh_literal(request.body)}")
        else:
            # Carriage returns and control characters go through printf's escapes.
            table = {"\\": "\\\\", "%": "%%", "\r": "\\r", "\t": "\\t"}
            escaped = "".join(
                table.get(c) or (c if c.isprintable() or c == "\n" else _octal_bytes(c))
                for c in request.body
            )
            pipe = f"printf {'-- ' if escaped.startswith('-') else ''}{sh_literal(escaped)} | "
            options.append("--data-binary @-")
    elif request.needs_zero_length:
        options.append("--header 'Content-Length: 0'")
    if request.method == "HEAD":
        command = f"curl --head {word(request.url)}"
    elif request.method == "GET":
        command = f"curl {word(request.url)}"
    else:
        method = request.method
        method = method if re.fullmatch(r"[A-Za-z0-9_-]+", method) else sh_literal(method)
        command = f"curl --request {method} {word(request.url)}"
    lines = [pipe + command, *(f"  {option}" for option in options)]
    return "\n".join([*secrets_comment(request, "#"), " \\\n".join(lines)])


def _octal_bytes(char: str) -> str:
    return "".join(f"\\{byte:03o}" for byte in char.encode("utf-8"))
