"""manage.py import_openapi: a document in, a summary out; problems as a CommandError."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Api, Operation
from tests.sample_specs import SPECS

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_openapi", *args, stdout=out)
    return out.getvalue()


def test_imports_a_sample_spec_and_prints_the_summary():
    output = run(str(SPECS / "oas30-bookshop.yaml"), "--api", "bookshop")
    lines = output.splitlines()
    assert lines[0] == 'Imported "Corner Bookshop" (bookshop): 3 added, 0 changed, 0 removed.'
    assert lines[1:] == [
        "  added    list-books  GET /books",
        "  added    shelve-book  POST /books",
        "  added    show-book-by-isbn  GET /books/{isbn}",
    ]
    api = Api.objects.get(slug="bookshop")
    assert api.service_url == "https://shop.example.com/api/v1"
    assert api.operations.count() == 3
    # Again: nothing changes.
    again = run(str(SPECS / "oas30-bookshop.yaml"), "--api", "bookshop").splitlines()
    assert again == [
        'Imported "Corner Bookshop" (bookshop): 0 added, 0 changed, 0 removed.',
        "  3 unchanged.",
    ]


def test_service_url_option_and_notes():
    output = run(str(SPECS / "oas31-webhooks.json"), "--service-url", "https://hooks.example.com/")
    assert output.splitlines() == [
        'Imported "Match Feed" (match-feed): 1 added, 0 changed, 0 removed.',
        "  added    list-matches  GET /matches",
        "Note: 2 webhook(s) skipped (goalScored, matchFinished): webhooks are requests the API "
        "sends to you, not operations to try.",
    ]
    assert Api.objects.get().service_url == "https://hooks.example.com"


def test_problems_are_listed_and_nothing_is_imported():
    with pytest.raises(CommandError) as caught:
        run(str(SPECS / "oas30-links.yaml"))
    assert str(caught.value) == (
        f"{SPECS / 'oas30-links.yaml'}: nothing imported, 1 problem:\n"
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
    data = (SPECS / "swagger20-catalogue.json").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    output = run("-", "--api", "old-catalogue")
    assert output.startswith('Imported "Library Catalogue" (old-catalogue): 4 added')
    assert Operation.objects.filter(api__slug="old-catalogue").count() == 4
