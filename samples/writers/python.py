"""The Python sample, with requests; the body is sent as UTF-8."""

from __future__ import annotations

from samples.literals import py_literal
from samples.request import SampleRequest, Text
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
        fields = [(n, v) for n, v, is_file in request.form_parts if not is_file]
        files = [(n, v) for n, v, is_file in request.form_parts if is_file]
        lines.append("data = {")
        lines += [f"    {py_literal(n)}: {py_literal(v)}," for n, v in fields]
        lines += ["}", "files = {"]
        lines += [f'    {py_literal(n)}: open({py_literal(v)}, "rb"),' for n, v in files]
        lines.append("}")
        arguments += ["data=data", "files=files"]
    elif request.body_file:
        lines.append(f'body = open({py_literal(request.body_file)}, "rb")')
        arguments.append("data=body")
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
