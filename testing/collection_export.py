"""Collections as files, for git: a collection written as YAML or JSON.

Keys come in a fixed order and every list in the collection's own order, so two
exports of the same collection are the same text and a change to one request is a
change to a few lines. The format is `testing.collection_schema`.

Secrets never leave the portal in a file (docs/design.md, "Secrets: masked wherever
they go"):

* a secret variable is written with its name and ``secret: true``, never its value;
* a secret value stored literally in a request (an encrypted header or cookie value,
  or a value of a parameter marked secret) is written as a reference to a secret
  variable named after the header or parameter, e.g. ``{{authorization}}``,
  which is added to ``variables`` without a value. A value that only refers to
  variables, such as ``Bearer {{api_key}}``, holds nothing secret and is written
  as it is.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import yaml
from django.contrib.auth.models import User

from catalog.models import Operation
from console.kept_files import loaded
from console.servers import GATEWAY, SERVICE
from gateway import public_urls, registry
from httpcore.masking import is_secret
from portal.secrets import PREFIX as ENCRYPTED_PREFIX
from portal.secrets import decrypt
from testing.checks import format_checks, format_extract
from testing.collection_schema import FORMAT_VERSION
from testing.models import Collection, CollectionVariable, SavedRequest
from testing.variables import refers_only

FORMATS = ("yaml", "json")


class _FlowList(list):
    """A short list written on one line, e.g. a [name, value] pair."""


class _FlowDict(dict):
    """A short mapping written on one line, e.g. {api: ..., operation: ...}."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        # Anchors (&id001) would tie unrelated parts of the file together.
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # A literal block keeps a JSON body readable; "\r" would not survive one.
    style = "|" if "\n" in value and "\r" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(
    _FlowList, lambda dumper, value: dumper.represent_sequence("tag:yaml.org,2002:seq", value, True)
)
_Dumper.add_representer(
    _FlowDict,
    lambda dumper, value: dumper.represent_mapping("tag:yaml.org,2002:map", value, True),
)


def export_collection(
    *, collection: Collection, format: str = "yaml", viewer: User | None = None
) -> str:
    """The collection as a YAML (default) or JSON document, without any secret value.

    `viewer`: whom the file is written for (the collection's owner when not given): the
    service URL of an API on the gateway is written for staff only."""
    document = collection_document(collection=collection, viewer=viewer)
    if format == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if format == "yaml":
        return yaml.dump(
            document,
            Dumper=_Dumper,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            # Long values stay on one line: a re-wrapped line is a noisy diff.
            width=100_000,
        )
    raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")


class _SecretVariables:
    """Names of the secret variables that stand for literal secrets in the export."""

    def __init__(self, variables: list[CollectionVariable]) -> None:
        self.plain = {v.name for v in variables if not v.secret}
        self.secret = {v.name for v in variables if v.secret}
        self.added: set[str] = set()

    def reference_for(self, name: str) -> str:
        base = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "secret"
        if base[0].isdigit():
            # A variable name starts with a letter or "_".
            base = "_" + base
        candidate, number = base, 1
        # A plain variable of that name holds something else; never make it secret.
        while candidate in self.plain:
            number += 1
            candidate = f"{base}_{number}"
        if candidate not in self.secret:
            self.added.add(candidate)
        return "{{" + candidate + "}}"


def collection_document(*, collection: Collection, viewer: User | None = None) -> dict[str, Any]:
    """The export as plain data, in the file's key order."""
    variables = list(collection.variables.all())
    secrets = _SecretVariables(variables)
    saved_requests = collection.requests.select_related("operation__api").prefetch_related(
        "operation__parameters", "operation__api__servers"
    )
    viewer = viewer if viewer is not None else collection.owner
    requests = [
        _request_document(saved=saved, secrets=secrets, viewer=viewer) for saved in saved_requests
    ]
    exported: list[dict[str, str | bool]] = [
        {"name": v.name, "secret": True} if v.secret else {"name": v.name, "value": v.value}
        for v in variables
    ]
    exported += [{"name": name, "secret": True} for name in secrets.added]
    exported.sort(key=lambda variable: str(variable["name"]))
    return {
        "portal_collection": FORMAT_VERSION,
        "name": collection.name,
        "description": collection.description,
        "ignored_headers": [
            name.strip() for name in collection.ignored_headers.split(",") if name.strip()
        ],
        "variables": exported,
        "requests": requests,
    }


def _exported_value(*, name: str, value: str, secret: bool, secrets: _SecretVariables) -> str:
    if not (secret or value.startswith(ENCRYPTED_PREFIX)):
        return value
    plain = decrypt(value)
    if not plain or refers_only(plain):
        return plain
    return secrets.reference_for(name)


def _template_order(operation: Operation | None, values: dict[str, str]) -> list[str]:
    """The operation's parameter order, so the export does not depend on the database's."""
    known = [p.name for p in operation.parameters.all()] if operation else []
    return [n for n in known if n in values] + sorted(n for n in values if n not in known)


def _server_url(*, saved: SavedRequest, viewer: User) -> str:
    """The URL a request's server is written as; "" for the API's first server (the
    default), and for the staff-only service URL to anyone but staff."""
    operation = saved.operation
    if operation is None or not saved.server or saved.server == GATEWAY:
        return ""
    api = operation.api
    if saved.server == SERVICE:
        if not registry.on_gateway(api.pk) or not public_urls.sees_backend(viewer):
            return ""
        return api.service_url
    current = next((s.url for s in api.servers.all() if str(s.pk) == saved.server), "")
    # A server removed since is written as it was: the import then says it is not there.
    return current or saved.server_url


def _request_document(
    *, saved: SavedRequest, secrets: _SecretVariables, viewer: User
) -> dict[str, Any]:
    operation = saved.operation
    secret_names = (
        {p.name.lower() for p in operation.parameters.all() if p.secret} if operation else set()
    )
    values = saved.values or {}
    template = values.get("template") or {}

    def export(name: str, value: str) -> str:
        # As the history masks: by name (a parameter marked secret, a credential header
        # or word) or by an auth scheme in the value, in any section.
        secret = is_secret(name, str(value), secret_names=secret_names)
        return _exported_value(name=name, value=str(value), secret=secret, secrets=secrets)

    document: dict[str, Any] = {"name": saved.name}
    if operation is None:
        # The operation was deleted; the label says which one it was.
        document["operation"] = None
        document["operation_label"] = saved.operation_label
    else:
        document["operation"] = _FlowDict(api=operation.api.slug, operation=operation.slug)
    document["template"] = {
        name: export(name, template[name]) for name in _template_order(operation, template)
    }
    document["query"] = [_FlowList([k, export(k, v)]) for k, v in values.get("query") or []]
    document["headers"] = [_FlowList([n, export(n, v)]) for n, v in values.get("headers") or []]
    cookies = values.get("cookies") or []
    if cookies:
        # Only when there are some: files exported before cookies were kept stay as they were.
        document["cookies"] = [_FlowList([n, export(n, v)]) for n, v in cookies]
    document["body"] = values.get("body")
    files = list(saved.files.all())
    if files and values.get("content_type"):
        # Which editor the files belong to (a multipart part, the whole body).
        document["content_type"] = values["content_type"]
    if values.get("parts"):
        document["parts"] = [_FlowList([n, str(t)]) for n, t in values["parts"]]
    if files:
        # Within the body cap, so a collection with its files replays in CI too.
        document["files"] = [
            {
                "field": kept.field,
                "name": kept.name,
                "content_type": kept.content_type,
                "base64": base64.b64encode(loaded(kept).data).decode("ascii"),
            }
            for kept in files
        ]
    server = _server_url(saved=saved, viewer=viewer)
    if server:
        document["server"] = server
    expect: dict[str, Any] = {}
    if saved.expected_status is not None:
        expect["status"] = saved.expected_status
    if saved.checks:
        expect["checks"] = [format_checks([check]).strip() for check in saved.checks]
    if expect:
        document["expect"] = expect
    if saved.extract:
        document["extract"] = [format_extract([rule]).strip() for rule in saved.extract]
    if saved.repeat_until:
        document["repeat"] = {
            "until": format_checks([saved.repeat_until]).strip(),
            "max_tries": saved.repeat_max_tries,
            "delay_seconds": float(saved.repeat_delay_seconds),
        }
    return document
