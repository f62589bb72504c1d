"""Import, export, import again: the second registration sends what the first sends.

Each sample document in tests/specs is imported, exported as OpenAPI 3.0 and the
export imported under another slug; so is the demo registration. The two
registrations are compared operation by operation: method, path, name, slug and
operationId; parameters (name, location, required, type, allowed values, default);
the URL a call sends with the same values (through templating.bind, so a query
placeholder of the template, ``api-version={apiversion}``, and a query-string
parameter ``api-version`` count as the same thing when they send the same URL);
body examples and response examples, compared as parsed JSON.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from django.conf import settings
from openapi_spec_validator import OpenAPIV30SpecValidator, validate

from catalog.models import Api, Operation, Parameter, ParameterLocation, ParameterType
from httpcore.masking import is_secret_name
from httpcore.templating import Placeholder, bind, parse_template
from openapi.documents import load_document
from openapi.export import export_document, export_json, export_yaml
from openapi.sync import import_openapi
from tests.openapi.test_openapi_export import add_operation, make_api
from tests.sample_specs import spec_files

pytestmark = pytest.mark.django_db

SPEC_FILES = spec_files()
SERVICE_URL = "https://api.example.com/base"
# Header parameters the export turns into something else: Content-Type is the request
# body's media type; credentials are security schemes.
NOT_PARAMETERS = {"content-type"}


def _parsed(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _sample(where: str, name: str, parameter, *, fixed: str | None = None) -> str:
    if fixed is not None:
        return fixed
    if parameter is not None and parameter.choices:
        return parameter.choices[0]
    kind = parameter.type if parameter is not None else ParameterType.STRING
    return {
        ParameterType.INTEGER: "7",
        ParameterType.NUMBER: "1.5",
        ParameterType.BOOLEAN: "true",
    }.get(kind, f"{where}-{name}")


def _wire_parameters(operation: Operation) -> dict[tuple[str, str], dict]:
    """Parameters keyed by where and how they go on the wire, with the row behind each.

    A template placeholder in the path is ("path", name); a template query pair whose
    value is one placeholder, k={x}, and a query-string row named k are both
    ("query", k).
    """
    template = parse_template(operation.url_template)
    rows = list(operation.parameters.all())
    by_name = {p.name: p for p in rows if p.location == ParameterLocation.TEMPLATE}
    wire: dict[tuple[str, str], dict] = {}
    for name in template.path_names:
        wire[("path", name)] = {"row": by_name.get(name), "required": True}
    for item in template.query:
        placeholders = [part for part in item.value if isinstance(part, Placeholder)]
        if len(item.value) == 1 and placeholders:
            row = by_name.get(placeholders[0].name)
            wire[("query", item.key)] = {"row": row, "required": bool(row and row.required)}
        elif not placeholders:
            # A literal pair, k=fixed, is sent every time: a required k whose only value
            # is fixed sends the same.
            fixed = unquote("".join(str(part) for part in item.value))
            wire[("query", unquote(item.key))] = {"row": None, "required": True, "fixed": fixed}
    for row in rows:
        if row.location == ParameterLocation.QUERY:
            wire.setdefault(("query", row.name), {"row": row, "required": row.required})
        elif row.location in (ParameterLocation.HEADER, ParameterLocation.COOKIE):
            key = (str(row.location), row.name.lower() if row.location == "header" else row.name)
            wire.setdefault(key, {"row": row, "required": row.required})
    return wire


def _secret_names(operation: Operation) -> frozenset[str]:
    return frozenset(p.name.lower() for p in operation.parameters.all() if p.secret)


def _parameter_summary(operation: Operation) -> dict:
    secret_names = _secret_names(operation)
    summary = {}
    for (where, name), entry in _wire_parameters(operation).items():
        row = entry["row"]
        if where == "header" and name in NOT_PARAMETERS:
            continue
        secret = row is not None and (row.secret or is_secret_name(name, secret_names=secret_names))
        if "fixed" in entry:
            allowed, default = [entry["fixed"]], entry["fixed"]
        else:
            allowed = row.choices if row else []
            # A secret's default is never exported.
            default = "(secret)" if secret else (row.default if row else "")
        summary[f"{where} {name}"] = {
            "required": entry["required"],
            "type": row.type if row else "string",
            "allowed": allowed,
            "default": default,
            "secret": secret,
        }
    return summary


def _urls(operation: Operation, *, values: dict[tuple[str, str, str], str]) -> list[str]:
    """The URL sent with every parameter filled, and with only the required ones."""
    template = parse_template(operation.url_template)
    wire = _wire_parameters(operation)
    urls = []
    for only_required in (False, True):

        def value(key: tuple[str, str], *, only_required: bool = only_required) -> str:
            entry = wire.get(key)
            if only_required and not (entry and entry["required"]):
                return ""
            return values.get((operation.slug, *key), "")

        template_values = {name: value(("path", name)) for name in template.path_names}
        for item in template.query:
            for part in item.value:
                if isinstance(part, Placeholder):
                    template_values[part.name] = (
                        value(("query", item.key)) if len(item.value) == 1 else "x"
                    )
        query_values = [
            (row.name, value(("query", row.name)))
            for row in operation.parameters.all()
            if row.location == ParameterLocation.QUERY
        ]
        request = bind(
            service_url=operation.api.service_url,
            method=operation.method,
            template=template,
            template_values=template_values,
            query_values=query_values,
        )
        urls.append(request.url)
    return urls


def _path_of(operation: Operation) -> str:
    template = parse_template(operation.url_template)
    return "".join(
        f"{{{part.name}}}" if isinstance(part, Placeholder) else part for part in template.path
    )


def _snapshot(api: Api, *, values: dict) -> dict:
    operations = {}
    for operation in api.operations.current().prefetch_related("parameters", "responses"):
        wire = _wire_parameters(operation)
        for key, entry in wire.items():
            # Per operation: two operations may fix one query key to different values.
            values.setdefault(
                (operation.slug, *key), _sample(*key, entry["row"], fixed=entry.get("fixed"))
            )
        responses = sorted(
            (doc.status_code, doc.content_type, json.dumps(_parsed(doc.example), sort_keys=True))
            for doc in operation.responses.all()
        )
        operations[f"{operation.method} {_path_of(operation)} ({operation.slug})"] = {
            "name": operation.name,
            "slug": operation.slug,
            "operationId": operation.operation_id or operation.slug,
            "deprecated": operation.deprecated,
            "tags": operation.tag_list,
            "description": operation.description,
            "parameters": _parameter_summary(operation),
            "request content type": operation.request_content_type if operation.takes_body else "",
            "body example": _parsed(operation.body_example) if operation.takes_body else "",
            "responses": responses,
            "operation": operation,
        }
    return operations


def _differences(first: Api, second: Api) -> list[str]:
    """Each field that differs, as "operation: field: first != second"."""
    values: dict[tuple[str, str, str], str] = {}
    before = _snapshot(first, values=values)
    after = _snapshot(second, values=values)
    problems = []
    for key in sorted(set(before) | set(after)):
        if key not in after:
            problems.append(f"{key}: missing after the round trip")
            continue
        if key not in before:
            problems.append(f"{key}: appeared in the round trip")
            continue
        one, two = before[key], after[key]
        for field in one:
            if field == "operation":
                continue
            if field == "parameters":
                for name in sorted(set(one[field]) | set(two[field])):
                    left, right = one[field].get(name), two[field].get(name)
                    if left != right:
                        problems.append(f"{key}: parameter {name}: {left} != {right}")
                continue
            if one[field] != two[field]:
                problems.append(f"{key}: {field}: {one[field]!r} != {two[field]!r}")
        urls_before = _urls(one["operation"], values=values)
        urls_after = _urls(two["operation"], values=values)
        if urls_before != urls_after:
            problems.append(f"{key}: URL: {urls_before} != {urls_after}")
    return problems


def _export_and_import(first: Api, *, slug: str) -> Api:
    document = export_document(api=first)
    validate(document, cls=OpenAPIV30SpecValidator)
    as_yaml = load_document(text=export_yaml(api=first))
    assert load_document(text=export_json(api=first)) == as_yaml == document
    import_openapi(document=as_yaml, api_slug=slug, service_url=SERVICE_URL)
    return Api.objects.get(slug=slug)


@pytest.mark.parametrize("spec", SPEC_FILES, ids=[path.name for path in SPEC_FILES])
def test_imported_document_survives_export_and_import(spec):
    document = load_document(text=spec.read_text(encoding="utf-8"))
    import_openapi(document=document, api_slug="first", service_url=SERVICE_URL)
    first = Api.objects.get(slug="first")
    second = _export_and_import(first, slug="second")
    assert _differences(first, second) == []


def test_demo_registration_survives_export_and_import(demo_api):
    demo_api.service_url = SERVICE_URL
    demo_api.save()
    second = _export_and_import(demo_api, slug="demo-again")
    assert _differences(demo_api, second) == []
    assert settings.PORTAL_DEMO_API_KEY not in json.dumps(
        [list(op.parameters.values()) for op in second.operations.all()], default=str
    )


# --- what the portal registers beyond a plain OpenAPI document ---------------------------

BEARER = {
    "name": "Authorization",
    "location": ParameterLocation.HEADER,
    "required": True,
    "secret": True,
    "default": "Bearer s3cr3t-bearer-token",
}

OK = [(200, "OK.", "", "")]


def _portal_api() -> Api:
    api = make_api("portal", service_url=SERVICE_URL, description="Portal features.")
    add_operation(
        api,
        "search",
        "/tenants/{tenant}/items/{item}.json?api-version={apiversion}&format=json&label=a%20b"
        "&q={q}",
        tags="Items, Search",
        description="Find items.",
        parameters=[
            {"name": "tenant", "required": True, "description": "The tenant."},
            {"name": "item", "required": True, "type": "integer"},
            {
                "name": "apiversion",
                "required": True,
                "default": "2024-01-01",
                "allowed_values": "2024-01-01\n2023-06-01",
            },
            {"name": "q", "default": "text"},
            {
                "name": "limit",
                "location": ParameterLocation.QUERY,
                "type": "integer",
                "allowed_values": "10\n20",
                "default": "10",
            },
            {"name": "ratio", "location": ParameterLocation.QUERY, "type": "number"},
            {"name": "flag", "location": ParameterLocation.QUERY, "type": "boolean"},
            {"name": "X-Trace", "location": ParameterLocation.HEADER, "default": "on"},
            {
                "name": "X-Api-Key",
                "location": ParameterLocation.HEADER,
                "required": True,
                "default": "s3cr3t-header-key",
            },
            {"name": "theme", "location": ParameterLocation.COOKIE, "default": "dark"},
        ],
        responses=[
            (200, "Found.", "application/json", '{"items": [{"id": 1, "ok": true}]}'),
            (404, "No such item.", "application/json", ""),
        ],
    )
    add_operation(
        api,
        "create-item",
        "/tenants/{tenant}/items",
        method="POST",
        operation_id="createItem",
        request_content_type="application/json",
        body_example='{\n  "name": "x",\n  "size": 1.5,\n  "tags": null\n}',
        parameters=[
            {"name": "tenant", "required": True},
            {
                "name": "code",
                "location": ParameterLocation.QUERY,
                "required": True,
                "secret": True,
                "default": "s3cr3t-query-code",
            },
        ],
        responses=[(201, "Created.", "text/plain", "created"), (400, "", "", "")],
    )
    add_operation(
        api,
        "upload",
        "/tenants/{tenant}/files/{name}",
        method="PUT",
        request_content_type="application/xml",
        body_example="<file/>",
        parameters=[
            {"name": "tenant", "required": True},
            {"name": "name", "required": True},
            BEARER,
        ],
        responses=[(200, "Stored.", "application/xml", "<ok/>")],
    )
    add_operation(
        api,
        "purge",
        "/tenants/{tenant}",
        method="DELETE",
        deprecated=True,
        parameters=[{"name": "tenant", "required": True}, BEARER],
        responses=[(204, "Gone.", "", "")],
    )
    return api


def test_portal_registration_survives_export_and_import():
    first = _portal_api()
    second = _export_and_import(first, slug="portal-again")
    assert _differences(first, second) == []
    text = export_json(api=first) + export_yaml(api=first)
    assert "s3cr3t" not in text
    for parameter in Parameter.objects.filter(operation__api=second):
        assert "s3cr3t" not in parameter.default


# Cases where a naive importer loses what the export wrote.


def test_secret_path_parameter_stays_secret():
    api = make_api("secret-path", service_url=SERVICE_URL)
    add_operation(
        api,
        "get",
        "/keys/{key}",
        parameters=[{"name": "key", "required": True, "secret": True, "default": "s3cr3t"}],
        responses=OK,
    )
    second = _export_and_import(api, slug="secret-path-again")
    assert _differences(api, second) == []


def test_optional_credential_beside_a_required_one_stays_optional():
    api = make_api("optional-key", service_url=SERVICE_URL)
    optional = {
        "name": "X-Api-Key",
        "location": ParameterLocation.HEADER,
        "default": "s3cr3t",
    }
    add_operation(api, "get", "/things", parameters=[BEARER, optional], responses=OK)
    second = _export_and_import(api, slug="optional-key-again")
    assert _differences(api, second) == []


def test_operation_without_responses_keeps_its_description():
    api = make_api("no-responses", service_url=SERVICE_URL)
    add_operation(api, "ping", "/ping", description="Ping.")
    second = _export_and_import(api, slug="no-responses-again")
    assert _differences(api, second) == []


def test_slug_that_differs_from_the_operation_id_is_kept():
    api = make_api("slugs", service_url=SERVICE_URL)
    add_operation(api, "list", "/things", operation_id="listThings", responses=OK)
    second = _export_and_import(api, slug="slugs-again")
    assert _differences(api, second) == []


def test_operations_under_x_portal_paths_come_back():
    api = make_api("clashes", service_url=SERVICE_URL)
    add_operation(api, "list-xml", "/items?format=xml", responses=OK)
    add_operation(api, "list-json", "/items?format=json", responses=OK)
    add_operation(api, "get-by-id", "/items/{id}", parameters=[{"name": "id"}], responses=OK)
    add_operation(
        api,
        "delete-by-key",
        "/items/{key}",
        method="DELETE",
        parameters=[{"name": "key"}],
        responses=OK,
    )
    add_operation(api, "same-again", "/items?format=json", responses=OK)
    assert "x-portal-paths" in export_document(api=api)
    second = _export_and_import(api, slug="clashes-again")
    assert sorted(second.operations.values_list("slug", flat=True)) == [
        "delete-by-key",
        "get-by-id",
        "list-json",
        "list-xml",
        "same-again",
    ]
    assert _differences(api, second) == []
