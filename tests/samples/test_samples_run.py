"""The code samples run: curl, Python, Node.js and Java send what Try it sends.

For each request with awkward values, the form is posted to Try it and to the samples
panel; each sample is taken from the panel's HTML as a reader would copy it (the text of
its <pre>), run against the same scripted backend, and what the backend received
(method, request-target, the request's own headers, Content-Type and Content-Length, body
bytes) is compared with what Try it made it receive.

curl runs under /bin/sh (dash on Debian: POSIX, no bash extensions), Python is this
virtualenv's (with requests), Node.js is /usr/bin/node (20, built-in fetch); Java is
compiled with javac and run with java. Samples with hidden secrets run with the secrets in
their environment variables.

Samples of an API behind a subscription key call the portal's gateway: they run against
the gateway of a live server, which forwards them to the scripted backend.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Api, Operation, Parameter, ParameterLocation
from catalog.registration import create_missing_template_parameters
from gateway.models import CallSource, GatewayCall
from openapi.sync import import_openapi
from tests.backends import RecordedRequest, reply_with, scripted_server
from tests.factories import make_product, make_subscription, make_user
from tests.markup import attr, one

pytestmark = pytest.mark.django_db

CURL = shutil.which("curl") or "/usr/bin/curl"
NODE = shutil.which("node") or "/usr/bin/node"
JAVAC = shutil.which("javac") or "/usr/bin/javac"
JAVA = shutil.which("java") or "/usr/bin/java"
TIMEOUT = 60

AWKWARD = 'it\'s "quoted" \\back\\slash $HOME `id` 100% a&b|c é ü 😀 ~ #x </pre><b>&amp;'
JSON_BODY = json.dumps(
    {
        "text": AWKWARD,
        "nested": {"json": json.dumps({"inner": 'say "hi"', "path": "C:\\temp\\new"})},
        "dollar": "${PATH} $(id)",
        "lines": "one\ntwo",
    },
    indent=2,
    ensure_ascii=False,
)

# name: (method, template, request content type, parameters, form data)
CASES = {
    "json_body_awkward_everywhere": (
        "POST",
        "/items/{item}?mode={mode}",
        "application/json",
        [("q", ParameterLocation.QUERY, False)],
        {
            "item": "a b/c?d#e%f&g|h'i\"j`k$l é",
            "mode": "x&y=z|w 100% $HOME",
            "q": "ü 😀 'q' \"q\" \\",
            "headers": [
                ("Content-Type", "application/json; charset=utf-8"),
                ("X-Awkward", 'it\'s "q" \\ $HOME `id` 100% a&b|c'),
                ("X-Empty", ""),
            ],
            "body": JSON_BODY + "\n",
        },
    ),
    "text_body_with_crlf_tab_and_no_content_type": (
        "PUT",
        "/notes/{note}",
        "",
        [],
        {
            "note": "n1",
            "headers": [("X-Trace", "t-1")],
            "body": "line 1\r\nline\t2 'q' \"q\" \\ $x `y` 100%\r\n-\u2028- é\r\n\r\n",
        },
    ),
    "body_starting_with_a_dash": (
        "POST",
        "/dash",
        "text/plain",
        [],
        {"headers": [], "body": "-n\r\n--data @file\n"},
    ),
    "get_with_query_values_only": (
        "GET",
        "/search?term={term}",
        "",
        [("page", ParameterLocation.QUERY, False), ("empty", ParameterLocation.QUERY, False)],
        {
            "term": "rock & roll | 100% \"live\" 'now' `id` $1",
            "page": "2",
            "empty": "",
            "headers": [("Accept", "application/json"), ("X-Empty", "")],
        },
    ),
    "post_without_body": (
        "POST",
        "/jobs/{job}/start",
        "application/json",
        [],
        {"job": "j-1", "headers": [("X-Request", "start")], "body": ""},
    ),
    "urlencoded_body_with_a_repeated_name": (
        "POST",
        "/forms/{form}",
        "application/x-www-form-urlencoded",
        [],
        {
            "form": "f1",
            "headers": [("Content-Type", "application/x-www-form-urlencoded")],
            "body": "tag=a+b&tag=%C3%A9&note=it%27s+%22q%22+100%25&empty=",
        },
    ),
    "secrets_from_the_environment": (
        "POST",
        "/secure/{tenant}?api_key={apikey}",
        "application/json",
        [
            ("apikey", ParameterLocation.TEMPLATE, True),
            ("token", ParameterLocation.QUERY, True),
        ],
        {
            "tenant": "t 1",
            "apikey": "k/e+y=1&2 $HOME",
            "token": "tok 'en' \"x\"",
            "headers": [
                ("Authorization", "Bearer s3cr3t-t0ken-value"),
                ("Ocp-Apim-Subscription-Key", "sub-key-0123456789"),
                ("Content-Type", "application/json"),
            ],
            "body": '{"a": "$AUTHORIZATION stays text"}',
        },
    ),
}


def make_operation(
    backend_url: str, *, method: str, template: str, content_type: str, extra: list
) -> Operation:
    api = Api.objects.create(name="Run", slug="run", service_url=f"{backend_url}/base")
    operation = Operation.objects.create(
        api=api,
        name="Op",
        slug="op",
        method=method,
        url_template=template,
        request_content_type=content_type,
    )
    create_missing_template_parameters(operation=operation)
    for name, location, secret in extra:
        if location == ParameterLocation.TEMPLATE:
            Parameter.objects.filter(operation=operation, name=name).update(secret=secret)
        else:
            Parameter.objects.create(
                operation=operation, name=name, location=location, secret=secret
            )
    return operation


def form_data(operation: Operation, values: dict) -> dict:
    data: dict = {}
    for parameter in operation.parameters.all():
        if parameter.name in values:
            data[f"param-{parameter.location}-{parameter.name}"] = values[parameter.name]
    data["header_name"] = [name for name, _ in values["headers"]] + [""]
    data["header_value"] = [value for _, value in values["headers"]] + [""]
    if "body" in values:
        data["body"] = values["body"]
    return data


def panel_samples(client, operation: Operation, data: dict, *, reveal: bool) -> dict[str, str]:
    """The samples as a reader copies them: the text of each <pre> in the panel's HTML."""
    url = f"/apis/{operation.api.slug}/operations/{operation.slug}/samples"
    response = client.post(url, {**data, "reveal": "1" if reveal else ""})
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("[data-samples-errors]") is None, soup.get_text()
    return {
        attr(pane, "data-sample"): one(pane, "pre code").get_text()
        for pane in soup.select("[data-sample]")
    }


def run(command: list[str], *, cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(
        command,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), **env},
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-2000:])


def run_sample(language: str, code: str, *, directory: Path, env: dict[str, str]) -> None:
    directory.mkdir(exist_ok=True)
    if language == "curl":
        (directory / "sample.sh").write_text(code, encoding="utf-8")
        run(["/bin/sh", "sample.sh"], cwd=directory, env=env)
    elif language == "python":
        (directory / "sample.py").write_text(code, encoding="utf-8")
        run([sys.executable, "sample.py"], cwd=directory, env=env)
    elif language == "javascript":
        (directory / "sample.js").write_text(code, encoding="utf-8")
        run([NODE, "sample.js"], cwd=directory, env=env)
    elif language == "java":
        (directory / "Sample.java").write_text(code, encoding="utf-8")
        # No -encoding: the sample is ASCII, whatever the platform's default charset.
        run([JAVAC, "-d", "classes", "Sample.java"], cwd=directory, env=env)
        run([JAVA, "-cp", "classes", "Sample"], cwd=directory, env=env)
    else:
        raise AssertionError(language)


def received(request: RecordedRequest, names: list[str]) -> dict:
    return {
        "method": request.method,
        "target": request.target,
        "headers": {name.lower(): request.header(name) for name in names},
        "body": request.body,
    }


# A JVM start costs a second: Java runs on the three richest cases.
JAVA_CASES = {
    "json_body_awkward_everywhere",
    "text_body_with_crlf_tab_and_no_content_type",
    "secrets_from_the_environment",
}
RUNS = [
    (case, language)
    for case in CASES
    for language in ["curl", "python", "javascript", "java"]
    if language != "java" or case in JAVA_CASES
]


@pytest.mark.parametrize(("case", "language"), RUNS)
def test_sample_sends_what_try_it_sends(client, tmp_path, case, language):
    method, template, content_type, extra, values = CASES[case]
    body = json.dumps({"ok": True}).encode()
    with scripted_server(
        reply_with(200, headers=[("Content-Type", "application/json")], body=body)
    ) as backend:
        operation = make_operation(
            backend.url, method=method, template=template, content_type=content_type, extra=extra
        )
        data = form_data(operation, values)
        answer = client.post("/apis/run/operations/op/try", data)
        assert answer.status_code == 200
        assert len(backend.requests) == 1, BeautifulSoup(answer.content, "html.parser").get_text()
        sent_by_try_it = backend.requests[0]

        secrets = case == "secrets_from_the_environment"
        samples = panel_samples(client, operation, data, reveal=not secrets)
        env = {}
        if secrets:
            # A secret in the URL is read as it appears there: percent-encoded.
            env = {
                "APIKEY": quote(values["apikey"], safe=""),
                "TOKEN": quote(values["token"], safe=""),
                "AUTHORIZATION": "s3cr3t-t0ken-value",
                "OCP_APIM_SUBSCRIPTION_KEY": "sub-key-0123456789",
            }
            for value in ["s3cr3t-t0ken-value", "sub-key-0123456789", "k%2Fe%2By"]:
                assert value not in samples[language]
        run_sample(language, samples[language], directory=tmp_path / language, env=env)
        assert len(backend.requests) == 2
        sent_by_sample = backend.requests[1]

    # The request's own headers, and the framing of its body; each client adds its own
    # User-Agent, Accept-Encoding and the like, as outbound does.
    names = [name for name, _ in values["headers"]] + ["Content-Type", "Content-Length"]
    json_value = language == "python" and content_type == "application/json"
    assert_same_request(sent_by_sample, sent_by_try_it, names, json_value=json_value)


def assert_same_request(
    sample: RecordedRequest, try_it: RecordedRequest, names: list[str], *, json_value: bool
) -> None:
    """The same request as Try it sent. `json_value`: the Python sample's json= sends the
    same JSON value, serialised by requests (json.dumps: its spacing and escapes), so the
    bodies are equal as JSON and their lengths may differ."""
    if json_value and try_it.body:
        names = [name for name in names if name != "Content-Length"]
        by_sample, by_try_it = received(sample, names), received(try_it, names)
        assert json.loads(by_sample.pop("body")) == json.loads(by_try_it.pop("body"))
        assert by_sample == by_try_it
    else:
        assert received(sample, names) == received(try_it, names)


# --- An API behind a subscription key: the sample calls the live gateway ----------------

GATEWAY_KEY_HEADER = "Ocp-Apim-Subscription-Key"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["curl", "python"])
def test_a_keyed_apis_sample_calls_the_gateway_and_the_backend_gets_no_key(
    client, live_server, tmp_path, language
):
    """The panel is asked for by the live portal's host, so its gateway URL is the live
    server's; the sample, with the key in its environment variable, goes through the
    gateway to the backend, which sees the call as Try it made it send, without the key."""
    body = json.dumps({"ok": True}).encode()
    with scripted_server(
        reply_with(200, headers=[("Content-Type", "application/json")], body=body)
    ) as backend:
        operation = make_operation(
            backend.url,
            method="POST",
            template="/items/{item}?mode={mode}",
            content_type="application/json",
            # The gateway forwards the headers an operation declares (and a few standard
            # ones), so X-Trace is a header parameter.
            extra=[("X-Trace", ParameterLocation.HEADER, False)],
        )
        Api.objects.filter(pk=operation.api_id).update(url_suffix="run/v1")
        product = make_product(operation.api)
        key = make_subscription(user=make_user("dev"), product=product).key("primary")
        values = {
            # No "/" in the value: the live server (wsgiref) hands Django the decoded path
            # only, where an encoded "/" reads as a separator (gateway/views.py, raw_rest).
            "item": "a b&c é",
            "mode": "x&y 100%",
            "headers": [
                ("Content-Type", "application/json"),
                (GATEWAY_KEY_HEADER, key),
                ("X-Trace", 'it\'s "q" $HOME'),
            ],
            "body": '{"text": "it\'s $HOME `id`"}\n',
        }
        data = form_data(operation, values)
        answer = client.post("/apis/run/operations/op/try", data)
        assert answer.status_code == 200
        assert len(backend.requests) == 1, BeautifulSoup(answer.content, "html.parser").get_text()
        sent_by_try_it = backend.requests[0]

        host = live_server.url.removeprefix("http://")
        url = f"/apis/{operation.api.slug}/operations/{operation.slug}/samples"
        response = client.post(url, data, HTTP_HOST=host)
        soup = BeautifulSoup(response.content, "html.parser")
        code = soup.select_one(f"[data-sample={language}] pre code").get_text()
        assert f"{live_server.url}/gateway/run/v1/items/" in code
        assert key not in code
        run_sample(
            language,
            code,
            directory=tmp_path / language,
            env={"OCP_APIM_SUBSCRIPTION_KEY": key},
        )
        assert len(backend.requests) == 2
        sent_by_sample = backend.requests[1]

    assert sent_by_sample.header(GATEWAY_KEY_HEADER) is None
    assert all(key not in value for _, value in sent_by_sample.headers)
    names = ["Content-Type", "Content-Length", "X-Trace"]
    assert_same_request(sent_by_sample, sent_by_try_it, names, json_value=language == "python")
    assert sent_by_sample.target == "/base/items/a%20b%26c%20%C3%A9?mode=x%26y%20100%25"
    assert list(GatewayCall.objects.order_by("id").values_list("source", "status_code")) == [
        (CallSource.TRY_IT, 200),
        (CallSource.GATEWAY, 200),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["curl", "python"])
def test_a_keyed_apis_cookie_sample_reaches_the_backend_through_the_gateway(
    client, live_server, tmp_path, language
):
    """The sample's Cookie header goes through the gateway: the backend gets the
    documented cookies as Try it sent them, the secret one from its variable."""
    with scripted_server(reply_with(200, body=b"ok")) as backend:
        operation = make_operation(
            backend.url,
            method="GET",
            template="/items",
            content_type="",
            extra=[
                ("session_token", ParameterLocation.COOKIE, True),
                ("theme", ParameterLocation.COOKIE, False),
            ],
        )
        Api.objects.filter(pk=operation.api_id).update(url_suffix="run/v1")
        product = make_product(operation.api)
        key = make_subscription(user=make_user("dev"), product=product).key("primary")
        values = {
            "session_token": "tok-7f3a9c",
            "theme": "dark",
            "headers": [(GATEWAY_KEY_HEADER, key)],
        }
        data = form_data(operation, values)
        assert client.post("/apis/run/operations/op/try", data).status_code == 200
        [sent_by_try_it] = backend.requests
        assert sent_by_try_it.header("Cookie") == "session_token=tok-7f3a9c; theme=dark"

        url = f"/apis/{operation.api.slug}/operations/{operation.slug}/samples"
        response = client.post(url, data, HTTP_HOST=live_server.url.removeprefix("http://"))
        soup = BeautifulSoup(response.content, "html.parser")
        code = soup.select_one(f"[data-sample={language}] pre code").get_text()
        assert f"{live_server.url}/gateway/run/v1/items" in code
        assert "tok-7f3a9c" not in code
        run_sample(
            language,
            code,
            directory=tmp_path / language,
            env={"OCP_APIM_SUBSCRIPTION_KEY": key, "SESSION_TOKEN": "tok-7f3a9c"},
        )
        assert len(backend.requests) == 2
    assert backend.requests[1].header("Cookie") == sent_by_try_it.header("Cookie")


# --- A multipart body: the sample reads the file the reader names -----------------------

BODIES_SPEC = Path(__file__).resolve().parent.parent / "specs" / "oas30-bodies.yaml"


def multipart_parts(request: RecordedRequest) -> list[tuple[str, str | None, str | None, bytes]]:
    """The parts the backend received: name, file name, Content-Type and content."""
    head = f"Content-Type: {request.header('Content-Type')}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + request.body)
    assert message.is_multipart()
    parts = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(content, bytes)
        content_type = part["Content-Type"]
        parts.append((name, part.get_filename(), content_type and str(content_type), content))
    return parts


@pytest.mark.parametrize(
    ("language", "documented_type"),
    [("curl", None), ("python", None), ("python", "application/vnd.example.receipt")],
    ids=["curl", "python", "python with a documented type"],
)
def test_a_multipart_sample_sends_the_parts_try_it_sends(
    client, tmp_path, language, documented_type
):
    """Try it uploads a file; the sample (Python: files= and data=), its `<file>`
    placeholder replaced by the file's name as a reader does, reads the same file. Each
    client writes its own boundary; Python names the file part's Content-Type Try it
    sends (the document's encoding.contentType, else application/octet-stream), curl
    picks its own."""
    receipt = b"receipt \x00\xff bytes\r\n"
    fields = {
        "content_type": "multipart/form-data",
        "part-sku": "ABC-1 'q' \"é\"",
        "part-quantity": "2",
    }
    with scripted_server(reply_with(201)) as backend:
        document = yaml.safe_load(BODIES_SPEC.read_text())
        if documented_type:
            media = document["paths"]["/orders"]["post"]["requestBody"]["content"]
            media["multipart/form-data"]["encoding"] = {"receipt": {"contentType": documented_type}}
        api = import_openapi(document=document, api_slug="bodies", service_url=backend.url).api
        # Not on the gateway: the sample calls the backend itself, as Try it does.
        Api.objects.filter(pk=api.pk).update(url_suffix="")
        operation = Operation.objects.get(api=api, operation_id="createOrder")
        upload = SimpleUploadedFile("receipt.pdf", receipt, content_type="text/plain")
        answer = client.post(
            f"/apis/bodies/operations/{operation.slug}/try", {**fields, "part-receipt": upload}
        )
        assert answer.status_code == 200
        assert len(backend.requests) == 1, BeautifulSoup(answer.content, "html.parser").get_text()
        samples = panel_samples(client, operation, fields, reveal=True)
        directory = tmp_path / language
        directory.mkdir()
        (directory / "receipt.pdf").write_bytes(receipt)
        code = samples[language]
        # Python's files= names the file twice: the part's file name and the file read.
        assert code.count("<file>") == (2 if language == "python" else 1)
        run_sample(language, code.replace("<file>", "receipt.pdf"), directory=directory, env={})
        assert len(backend.requests) == 2
    by_try_it, by_sample = backend.requests
    part_type = documented_type or "application/octet-stream"  # never the browser's
    expected = [
        ("sku", None, None, "ABC-1 'q' \"é\"".encode()),
        ("quantity", None, None, b"2"),
        ("receipt", "receipt.pdf", part_type, receipt),
    ]
    assert multipart_parts(by_try_it) == expected
    if language == "python":
        assert multipart_parts(by_sample) == expected
    else:
        assert [(n, f, c) for n, f, _, c in multipart_parts(by_sample)] == [
            (n, f, c) for n, f, _, c in expected
        ]
    assert (by_sample.method, by_sample.target) == (by_try_it.method, by_try_it.target)
