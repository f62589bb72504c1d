"""manage.py import_openapi: a document in, a summary out; problems as a CommandError."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from operations.models import Api, Operation

pytestmark = pytest.mark.django_db

SPECS = Path(settings.BASE_DIR).parent / "shared" / "specs"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_openapi", *args, stdout=out)
    return out.getvalue()


def test_imports_a_sample_spec_and_prints_the_summary():
    assert SPECS.is_dir()
    output = run(str(SPECS / "oas30-petstore.yaml"), "--api", "petstore")
    lines = output.splitlines()
    assert lines[0] == 'Imported "Swagger Petstore" (petstore): 3 added, 0 changed, 0 removed.'
    assert lines[1:] == [
        "  added    list-pets  GET /pets",
        "  added    create-pets  POST /pets",
        "  added    show-pet-by-id  GET /pets/{petId}",
    ]
    api = Api.objects.get(slug="petstore")
    assert api.service_url == "http://petstore.swagger.io/v1"
    assert api.operations.count() == 3
    # Again: nothing changes.
    again = run(str(SPECS / "oas30-petstore.yaml"), "--api", "petstore").splitlines()
    assert again == [
        'Imported "Swagger Petstore" (petstore): 0 added, 0 changed, 0 removed.',
        "  3 unchanged.",
    ]


def test_service_url_option_and_notes():
    output = run(
        str(SPECS / "oas31-webhook-example.yaml"), "--service-url", "https://hooks.example.com/"
    )
    assert output.splitlines()[0] == (
        'Imported "Webhook Example" (webhook-example): 1 added, 0 changed, 0 removed.'
    )
    assert "Note: 1 webhook(s) skipped (newPet)" in output
    assert Api.objects.get().service_url == "https://hooks.example.com"


def test_problems_are_listed_and_nothing_is_imported():
    with pytest.raises(CommandError) as caught:
        run(str(SPECS / "oas30-link-example.yaml"))
    assert str(caught.value) == (
        f"{SPECS / 'oas30-link-example.yaml'}: nothing imported, 1 problem:\n"
        "  /servers: the document has no server; give the service URL (--service-url or the "
        "admin field)"
    )
    assert not Api.objects.exists()


def test_several_problems(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "openapi": "3.0.0",
                "info": {"title": "Bad"},
                "servers": [{"url": "https://bad.example.com"}],
                "paths": {
                    "/a": {"get": {"parameters": [{"in": "query"}], "responses": {}}},
                    "/b": {"get": {"$ref": "other.yaml#/get"}},
                },
            }
        )
    )
    with pytest.raises(CommandError) as caught:
        run(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: nothing imported, 3 problems:\n")
    assert "  /paths/~1a/get/parameters/0/name: required" in message
    assert "  /paths/~1b/get/$ref: external reference 'other.yaml#/get'" in message
    assert "  /paths/~1b/get/responses: required" in message


def test_a_file_that_is_not_a_document(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just: [some, yaml\n")
    with pytest.raises(CommandError, match="is not valid YAML"):
        run(str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "missing.yaml"))


def test_reads_standard_input(monkeypatch):
    data = (SPECS / "swagger20-petstore-expanded.json").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    output = run("-", "--api", "old-pets")
    assert output.startswith('Imported "Swagger Petstore" (old-pets): 4 added')
    assert Operation.objects.filter(api__slug="old-pets").count() == 4
