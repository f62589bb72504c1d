"""The Python sample, with requests: a JSON body as `json=` a Python value, a urlencoded
body as `data=` its fields, a multipart body as `files=` (each file with the part's
Content-Type Try it sends) and `data=`, any other text as
`data=` its UTF-8 bytes (samples/python_values.py decides when requests would send the
same)."""

from __future__ import annotations

from samples.literals import py_literal
from samples.python_values import form_fields, json_value, py_fields, py_value
from samples.request import SampleRequest, Text, plain_text
from samples.writers.expressions import concat, lines_of, secrets_comment


def write_python(request: SampleRequest) -> str:
    def expr(text: Text) -> str:
        return concat(
            text, literal=py_literal, env=lambda n: f"os.environ[{py_literal(n)}]", op=" + "
        )

    lines = secrets_comment(request, "#")
    if request.secrets:
        lines += ["import os", ""]
    lines += ["import requests", "", f"url = {expr(request.url)}"]
    arguments = [py_literal(request.method), "url"]
    headers = request.headers
    if request.form_parts:
        # requests writes multipart/form-data with its own boundary.
        headers = tuple((n, v) for n, v in headers if n.lower() != "content-type")
    if headers:
        lines.append("headers = {")
        lines += [f"    {py_literal(n)}: {expr(v)}," for n, v in headers]
        lines.append("}")
        arguments.append("headers=headers")
    if request.form_parts:
        texts = [part for part in request.form_parts if not part.file]
        files = [part for part in request.form_parts if part.file]
        lines.append("data = {")
        lines += [f"    {py_literal(p.name)}: {py_literal(p.value)}," for p in texts]
        lines += ["}", "files = {"]
        # (file name, file, Content-Type): the part's type as Try it sends it, which
        # requests would otherwise leave out.
        lines += [
            f"    {py_literal(p.name)}: ({py_literal(p.value)}, "
            f'open({py_literal(p.value)}, "rb"), {py_literal(p.content_type)}),'
            for p in files
        ]
        lines.append("}")
        arguments += ["data=data", "files=files"]
    elif request.body_file:
        lines.append(f'body = open({py_literal(request.body_file)}, "rb")')
        arguments.append("data=body")
    elif request.body is not None and (kind := _body_kind(request)) == "json":
        _, value = json_value(request.body)
        lines.append(f"payload = {py_value(value)}")
        arguments.append("json=payload")
    elif request.body is not None and kind == "form":
        fields = form_fields(request.body, placeholders=request.body_placeholders) or []
        lines.append(f"data = {py_fields(fields)}")
        arguments.append("data=data")
    elif request.body is not None:
        chunks = lines_of(request.body)
        if len(chunks) == 1:
            lines.append(f"body = {py_literal(request.body)}")
        else:
            lines += ["body = (", *(f"    {py_literal(c)}" for c in chunks), ")"]
        arguments.append('data=body.encode("utf-8")')
    arguments.append("timeout=30")
    lines += [
        "",
        f"response = requests.request({', '.join(arguments)})",
        "print(response.status_code, response.reason)",
        "print(response.text)",
    ]
    return "\n".join(lines)


def _body_kind(request: SampleRequest) -> str:
    """ "json" or "form" when requests would send the body's value as it is; else "text"."""
    content_type = request.header("Content-Type")
    media = plain_text(content_type).split(";")[0].strip().lower() if content_type else ""
    body = request.body or ""
    if (media == "application/json" or media.endswith("+json")) and json_value(body)[0]:
        return "json"
    if (
        media == "application/x-www-form-urlencoded"
        and body
        and form_fields(body, placeholders=request.body_placeholders) is not None
    ):
        return "form"
    return "text"
