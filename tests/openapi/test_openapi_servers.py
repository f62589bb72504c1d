"""The document's servers become the API's service URL and extra servers (openapi/servers.py)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from catalog.models import Api
from openapi.export import export_document
from openapi.plans import ImportSummary
from openapi.servers import MAX_PER_SERVER
from openapi.sync import import_openapi

pytestmark = pytest.mark.django_db

PATHS = {"/a": {"get": {"operationId": "a", "responses": {"200": {"description": "OK"}}}}}


def document(*servers: dict, **extra) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Regions", "version": "1"},
        "servers": list(servers),
        "paths": PATHS,
        **extra,
    }


def registered(api: Api) -> list[tuple[str, str]]:
    return [(server.url, server.description) for server in api.servers.all()]


def server_lines(summary: ImportSummary) -> list[str]:
    return [line for line in summary.lines() if line.startswith("  server")]


REGIONS = {
    "url": "https://{region}.api.example.com/{version}",
    "description": "Production",
    "variables": {
        "region": {"default": "eu", "enum": ["us", "eu", "ap"]},
        "version": {"default": "v1"},
    },
}


def test_variables_take_their_defaults_and_each_enum_value_is_a_server():
    summary = import_openapi(
        document=document(
            REGIONS, {"url": "https://sandbox.example.com/v1/", "description": "Sandbox"}
        )
    )
    api = summary.api
    # The first server with its defaults is the service URL, as before.
    assert api.service_url == "https://eu.api.example.com/v1"
    assert registered(api) == [
        ("https://us.api.example.com/v1", "Production; region: us"),
        ("https://ap.api.example.com/v1", "Production; region: ap"),
        ("https://sandbox.example.com/v1", "Sandbox"),
    ]
    assert server_lines(summary) == [
        "  server   added: https://us.api.example.com/v1",
        "  server   added: https://ap.api.example.com/v1",
        "  server   added: https://sandbox.example.com/v1",
    ]


def test_the_values_of_one_server_are_capped_with_a_note():
    many = {
        "url": "https://{zone}.example.com/{stage}",
        "variables": {
            "zone": {"default": "z0", "enum": [f"z{i}" for i in range(4)]},
            "stage": {"default": "live", "enum": ["live", "beta", "dev"]},
        },
    }
    summary = import_openapi(document=document({"url": "https://main.example.com"}, many))
    urls = [url for url, _ in registered(summary.api)]
    assert len(urls) == MAX_PER_SERVER == 10
    assert urls[:4] == [
        "https://z0.example.com/live",
        "https://z0.example.com/beta",
        "https://z0.example.com/dev",
        "https://z1.example.com/live",
    ]
    assert summary.api.servers.get(url="https://z0.example.com/beta").description == (
        "zone: z0, stage: beta"
    )
    assert (
        "/servers/1: the server https://{zone}.example.com/{stage} has 12 values of its "
        "variables; the first 10 are registered."
    ) in summary.notes


def test_a_server_variable_without_a_default_skips_that_server_with_a_note():
    summary = import_openapi(
        document=document(
            {"url": "https://main.example.com"},
            {"url": "https://{region}.example.com", "variables": {"region": {"enum": ["eu"]}}},
        )
    )
    assert registered(summary.api) == []
    assert (
        "/servers/1: the server https://{region}.example.com skipped: it uses {region} but "
        "gives it no default value."
    ) in summary.notes


def test_relative_servers_are_resolved_against_the_document_url_else_skipped():
    doc = document({"url": "https://main.example.com/v1"}, {"url": "/v2"}, {"url": "../beta/"})
    summary = import_openapi(document=doc)
    assert registered(summary.api) == []
    assert summary.notes == [
        "/servers/1: the server /v2 skipped: it is relative and the import names no document "
        "URL to resolve it against.",
        "/servers/2: the server ../beta/ skipped: it is relative and the import names no "
        "document URL to resolve it against.",
    ]
    summary = import_openapi(
        document=doc, document_url="https://docs.example.com/specs/regions/openapi.yaml"
    )
    assert registered(summary.api) == [
        ("https://docs.example.com/v2", ""),
        ("https://docs.example.com/specs/beta", ""),
    ]
    assert summary.notes == []


def test_a_relative_first_server_becomes_the_service_url_with_a_document_url():
    doc = document({"url": "/api/v1"})
    api = import_openapi(document=doc, document_url="https://docs.example.com/openapi.json").api
    assert api.service_url == "https://docs.example.com/api/v1"


def test_servers_that_break_the_rules_are_skipped_with_the_reason(settings):
    settings.PORTAL_OUTBOUND_ALLOWED_PORTS = ["80", "443"]
    summary = import_openapi(
        document=document(
            {"url": "https://main.example.com"},
            {"url": "http://169.254.169.254/latest"},
            {"url": "http://10.1.2.3/api"},
            {"url": "ftp://files.example.com"},
            {"url": "https://ok.example.com:9999"},
            {"url": "https://fine.example.com"},
        )
    )
    assert registered(summary.api) == [("https://fine.example.com", "")]
    assert summary.notes == [
        "/servers/1: the server http://169.254.169.254/latest skipped: 169.254.169.254 is a "
        "link-local or cloud metadata address and cannot be a backend.",
        "/servers/2: the server http://10.1.2.3/api skipped: 10.1.2.3 is not allowed by the "
        "portal's network policy: only public addresses and the networks in "
        "PORTAL_OUTBOUND_ALLOWED_NETWORKS.",
        "/servers/3: the server ftp://files.example.com skipped: The service URL must start "
        "with http:// or https://.",
        "/servers/4: the server https://ok.example.com:9999 skipped: Port 9999 is not allowed "
        "by the portal's network policy (allowed: 80, 443; see PORTAL_OUTBOUND_ALLOWED_PORTS).",
    ]


def test_reimport_synchronises_the_servers():
    first = document(
        {"url": "https://main.example.com"},
        {"url": "https://old.example.com"},
        {"url": "https://kept.example.com", "description": "Kept"},
    )
    api = import_openapi(document=first).api
    second = document(
        {"url": "https://main.example.com"},
        {"url": "https://kept.example.com", "description": "Kept, renamed"},
        {"url": "https://new.example.com"},
    )
    summary = import_openapi(document=second)
    assert summary.api.pk == api.pk
    assert registered(api) == [
        ("https://kept.example.com", "Kept, renamed"),
        ("https://new.example.com", ""),
    ]
    assert server_lines(summary) == [
        "  server   added: https://new.example.com",
        "  server   changed: https://kept.example.com",
        "  server   removed: https://old.example.com",
    ]
    again = import_openapi(document=second)
    assert server_lines(again) == []
    assert registered(api) == [
        ("https://kept.example.com", "Kept, renamed"),
        ("https://new.example.com", ""),
    ]


def test_with_a_service_url_override_every_document_server_is_an_extra_server():
    api = import_openapi(
        document=document({"url": "https://main.example.com"}, {"url": "https://b.example.com"}),
        service_url="https://override.example.com",
    ).api
    assert api.service_url == "https://override.example.com"
    assert registered(api) == [("https://main.example.com", ""), ("https://b.example.com", "")]


def test_swagger_2_gives_one_server_per_scheme():
    doc = {
        "swagger": "2.0",
        "info": {"title": "Old", "version": "1"},
        "host": "old.example.com",
        "basePath": "/api",
        "schemes": ["http", "https", "wss"],
        "paths": {"/a": {"get": {"responses": {"200": {"description": "OK"}}}}},
    }
    summary = import_openapi(document=doc)
    assert summary.api.service_url == "https://old.example.com/api"
    assert registered(summary.api) == [("http://old.example.com/api", "")]
    assert summary.notes == [
        "/schemes: the server wss://old.example.com/api skipped: The service URL must start "
        "with http:// or https://."
    ]


def test_path_and_operation_servers_are_noted_as_not_supported():
    paths = {
        "/a": {
            "servers": [{"url": "https://a.example.com"}],
            "get": {"responses": {"200": {"description": "OK"}}},
        },
        "/b": {
            "post": {
                "servers": [{"url": "https://b.example.com"}],
                "responses": {"200": {"description": "OK"}},
            }
        },
    }
    summary = import_openapi(
        document={**document({"url": "https://main.example.com"}), "paths": paths}
    )
    assert registered(summary.api) == []
    assert summary.notes == [
        "servers given for a path or an operation are not supported (/a, POST /b): those "
        "operations are called at the API's servers."
    ]


def test_the_command_resolves_relative_servers_against_document_url(tmp_path, capsys):
    path = tmp_path / "doc.json"
    path.write_text(
        '{"openapi": "3.0.3", "info": {"title": "Cmd", "version": "1"}, '
        '"servers": [{"url": "https://cmd.example.com"}, {"url": "/v2"}], '
        '"paths": {"/a": {"get": {"responses": {"200": {"description": "OK"}}}}}}'
    )
    call_command("import_openapi", str(path), "--document-url", "https://docs.example.com/x.json")
    assert "  server   added: https://docs.example.com/v2" in capsys.readouterr().out
    assert registered(Api.objects.get(slug="cmd")) == [("https://docs.example.com/v2", "")]


def test_the_export_lists_the_other_servers_and_reads_back_the_same():
    api = import_openapi(document=document(REGIONS)).api
    exported = export_document(api=api)
    assert exported["servers"] == [
        {"url": "https://eu.api.example.com/v1"},
        {"url": "https://us.api.example.com/v1", "description": "Production; region: us"},
        {"url": "https://ap.api.example.com/v1", "description": "Production; region: ap"},
    ]
    again = import_openapi(document=exported, api_slug="copy").api
    assert again.service_url == api.service_url
    assert registered(again) == registered(api)
