"""Collections as files: export to YAML or JSON for git, import them back.

The file holds what a collection *means*, never where it lives: no ids, no
timestamps, no baselines (a baseline is captured by the first replay on the
portal that imports the file). Keys come in a fixed order and every list in the
collection's own order, so two exports of the same collection are the same text
and a change to one request is a change to a few lines.

Secrets never leave the portal in a file (docs/design.md, "Secrets: masked wherever
they go"):

* a secret variable is written with its name and ``secret: true``, never its value;
* a secret value stored literally in a request (an encrypted header value, or a
  value of a parameter marked secret) is written as a reference to a secret
  variable named after the header or parameter, e.g. ``{{authorization}}``,
  which is added to ``variables`` without a value. A value that only refers to
  variables, such as ``Bearer {{api_key}}``, holds nothing secret and is written
  as it is.

Example (an exported demo collection, shortened)::

    portal_collection: 1
    name: AzureML batch flow
    description: Submit a batch job, start it, wait until it is finished, delete it.
    ignored_headers:
    - Date
    - Server
    variables:
    - name: api_key
      secret: true
    - name: workspace
      value: demo-workspace
    requests:
    - name: BES Submit
      operation: {api: azureml-demo, operation: bes-submit}
      template:
        workspace: '{{workspace}}'
      query: []
      headers:
      - [Authorization, 'Bearer {{api_key}}']
      body: |
        {"Inputs": ...}
      expect:
        status: 200
        checks:
        - json $.Results
      extract:
      - jobid = json $
      repeat:
        until: json $.StatusCode = Finished
        max_tries: 30
        delay_seconds: 1.0

Import reads YAML or JSON (JSON is YAML), checks the whole file before writing
anything and reports every problem with its place in the file.
"""

from __future__ import annotations

import builtins
import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.contrib.auth.models import User
from django.db import transaction

from catalog.models import Api, Operation, ParameterLocation
from httpcore.headers import TOKEN, refusal_reason
from httpcore.masking import is_secret
from httpcore.templating import TemplateError, parse_template
from portal.secrets import PREFIX as ENCRYPTED_PREFIX
from portal.secrets import decrypt, encrypt
from testing.checks import (
    CheckSyntaxError,
    format_checks,
    format_extract,
    parse_checks,
    parse_extract,
)
from testing.models import Collection, CollectionVariable, SavedRequest
from testing.variables import NAME as VARIABLE_NAME
from testing.variables import VARIABLE, refers_only

FORMAT_VERSION = 1
FORMATS = ("yaml", "json")
# Far above any real collection (bodies included); parsing is not free.
MAX_FILE_CHARS = 10_000_000

# Bounds of the saved request form, so an imported request can be edited as it is.
MAX_TRIES = 100
MAX_DELAY_SECONDS = 60.0


class CollectionFileError(ValueError):
    """A file that cannot be imported; `problems` names each one with its place."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- Export ---------------------------------------------------------------------------


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


def export_collection(*, collection: Collection, format: str = "yaml") -> str:
    """The collection as a YAML (default) or JSON document, without any secret value."""
    document = collection_document(collection=collection)
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


def collection_document(*, collection: Collection) -> dict[str, Any]:
    """The export as plain data, in the file's key order."""
    variables = list(collection.variables.all())
    secrets = _SecretVariables(variables)
    saved_requests = collection.requests.select_related("operation__api").prefetch_related(
        "operation__parameters"
    )
    requests = [_request_document(saved=saved, secrets=secrets) for saved in saved_requests]
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


def _request_document(*, saved: SavedRequest, secrets: _SecretVariables) -> dict[str, Any]:
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
    document["body"] = values.get("body")
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


# --- Import ---------------------------------------------------------------------------

_TOP_FIELDS = (
    "portal_collection",
    "name",
    "description",
    "ignored_headers",
    "variables",
    "requests",
)
_VARIABLE_FIELDS = ("name", "value", "secret")
_REQUEST_FIELDS = (
    "name",
    "operation",
    "operation_label",
    "template",
    "query",
    "headers",
    "body",
    "expect",
    "extract",
    "repeat",
)
_OPERATION_FIELDS = ("api", "operation")
_EXPECT_FIELDS = ("status", "checks")
_REPEAT_FIELDS = ("until", "max_tries", "delay_seconds")


def _shown(value: Any) -> str:
    """A value as the file's reader wrote it: JSON for scalars, a kind for the rest."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Problems:
    def __init__(self) -> None:
        self.items: builtins.list[str] = []

    def add(self, place: str, message: str) -> None:
        self.items.append(f"{place}: {message}")

    def fields(self, value: dict, place: str, allowed: tuple[str, ...]) -> None:
        for key in value:
            if key not in allowed:
                self.add(f"{place}.{key}" if place else str(key), "unknown field")

    def mapping(self, value: Any, place: str) -> dict | None:
        if isinstance(value, dict):
            return value
        self.add(place, f"expected a mapping, got {_shown(value)}")
        return None

    def list(self, value: Any, place: str) -> builtins.list[Any] | None:
        if isinstance(value, list):
            return value
        self.add(place, f"expected a list, got {_shown(value)}")
        return None

    def text(self, value: Any, place: str, *, max_length: int | None = None) -> str | None:
        if not isinstance(value, str):
            hint = " (put it in quotes)" if isinstance(value, int | float | bool) else ""
            self.add(place, f"expected a string, got {_shown(value)}{hint}")
            return None
        if max_length is not None and len(value) > max_length:
            self.add(place, f"longer than {max_length} characters")
            return None
        return value

    def name(self, value: Any, place: str, *, max_length: int) -> str | None:
        if value is None:
            self.add(place, "missing")
            return None
        text = self.text(value, place, max_length=max_length)
        if text is not None and not text.strip():
            self.add(place, "must not be empty")
            return None
        return text.strip() if text is not None else None

    def boolean(self, value: Any, place: str) -> bool | None:
        if isinstance(value, bool):
            return value
        self.add(place, f"expected true or false, got {_shown(value)}")
        return None

    def integer(self, value: Any, place: str, *, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(place, f"expected a whole number from {low} to {high}, got {_shown(value)}")
            return None
        return value

    def number(self, value: Any, place: str, *, low: float, high: float) -> float | None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            self.add(place, f"expected a number from {low:g} to {high:g}, got {_shown(value)}")
            return None
        return float(value)

    def strings(self, value: Any, place: str) -> builtins.list[tuple[str, str]]:
        """A list of strings, each with its own place."""
        items = self.list(value, place)
        found = []
        for index, item in enumerate(items or []):
            text = self.text(item, f"{place}[{index}]")
            if text is not None:
                found.append((f"{place}[{index}]", text))
        return found

    def pairs(self, value: Any, place: str) -> builtins.list[tuple[str, str, str]]:
        """[[name, value], ...] as (place, name, value)."""
        items = self.list(value, place)
        found = []
        for index, item in enumerate(items or []):
            where = f"{place}[{index}]"
            if not (isinstance(item, list) and len(item) == 2):
                self.add(where, f"expected a [name, value] pair, got {_shown(item)}")
                continue
            name, text = self.text(item[0], f"{where}[0]"), self.text(item[1], f"{where}[1]")
            if name is not None and text is not None:
                found.append((where, name, text))
        return found


@dataclass
class _RequestPlan:
    name: str
    operation: Operation
    template: dict[str, str] = field(default_factory=dict)
    query: list[list[str]] = field(default_factory=list)
    headers: list[list[str]] = field(default_factory=list)
    body: str | None = None
    expected_status: int | None = None
    checks: list[dict] = field(default_factory=list)
    extract: list[dict] = field(default_factory=list)
    repeat_until: dict | None = None
    repeat_max_tries: int = 1
    repeat_delay_seconds: float = 1.0


@dataclass
class _Plan:
    name: str
    description: str = ""
    ignored_headers: str | None = None
    variables: list[tuple[str, str, bool]] = field(default_factory=list)
    requests: list[_RequestPlan] = field(default_factory=list)


def import_collection(*, text: str, owner: User, name: str | None = None) -> Collection:
    """Create a collection for `owner` from an exported file (YAML or JSON).

    Checks the whole file first and raises CollectionFileError listing every
    problem; then writes in one transaction, so an error imports nothing. An
    import never replaces anything: when the owner already has a collection of
    that name, the new one is named "<name> (2)" (or (3), ...). `name` overrides
    the file's name. A secret variable the file gives no value (an export never
    does) is created empty: the owner fills it in before running the collection; a
    value the file does give is stored encrypted.
    """
    if len(text) > MAX_FILE_CHARS:
        raise CollectionFileError([f"the file: larger than {MAX_FILE_CHARS // 1_000_000} MB"])
    plan = _read_plan(text=text, name=name)
    with transaction.atomic():
        return _write(plan=plan, owner=owner)


def _load(text: str) -> Any:
    """The document: JSON first when it looks like JSON (YAML refuses tab indentation,
    which JSON allows), else YAML."""
    json_error: json.JSONDecodeError | None = None
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            json_error = error
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        if json_error is not None:
            where = f"line {json_error.lineno}, column {json_error.colno}"
            raise CollectionFileError([f"{where}: not valid JSON ({json_error.msg})"]) from None
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"
        problem = getattr(error, "problem", None) or str(error)
        raise CollectionFileError([f"{where}: not valid YAML or JSON ({problem})"]) from None


def _read_plan(*, text: str, name: str | None) -> _Plan:
    document = _load(text)
    problems = _Problems()
    if not isinstance(document, dict):
        raise CollectionFileError(
            [
                f"the file: expected a mapping with portal_collection, name, variables and "
                f"requests, got {_shown(document)}"
            ]
        )
    problems.fields(document, "", _TOP_FIELDS)
    version = document.get("portal_collection")
    if version is None:
        problems.add("portal_collection", "missing; is this a collection file from the portal?")
    elif version != FORMAT_VERSION or isinstance(version, bool):
        problems.add("portal_collection", f"expected {FORMAT_VERSION}, got {_shown(version)}")
    plan = _Plan(name="")
    if name is not None:
        plan.name = name.strip()[:200] or "Imported collection"
    if "name" in document or name is None:
        file_name = problems.name(document.get("name"), "name", max_length=200)
        plan.name = plan.name or file_name or ""
    if "description" in document:
        plan.description = problems.text(document["description"], "description") or ""
    if "ignored_headers" in document:
        plan.ignored_headers = _read_ignored_headers(document["ignored_headers"], problems)
    plan.variables = _read_variables(_or_empty(document.get("variables"), []), problems)
    extracted: set[str] = set()
    requests = problems.list(_or_empty(document.get("requests"), []), "requests") or []
    for index, item in enumerate(requests):
        request = _read_request(item, f"requests[{index}]", problems)
        if request is not None:
            plan.requests.append(request)
            extracted |= {rule["variable"] for rule in request.extract}
    _check_references(document, plan=plan, extracted=extracted, problems=problems)
    if problems.items:
        raise CollectionFileError(problems.items)
    return plan


def _read_ignored_headers(value: Any, problems: _Problems) -> str | None:
    names = [text.strip() for _, text in problems.strings(value, "ignored_headers")]
    for index, header in enumerate(names):
        if not TOKEN.match(header):
            problems.add(f"ignored_headers[{index}]", f"not a header name: {_shown(header)}")
    joined = ", ".join(names)
    if len(joined) > 500:
        problems.add("ignored_headers", "longer than 500 characters in all")
    return joined


def _is_variable_name(name: str) -> bool:
    return bool(VARIABLE_NAME.match(name))


def _read_variables(value: Any, problems: _Problems) -> list[tuple[str, str, bool]]:
    found: list[tuple[str, str, bool]] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(problems.list(value, "variables") or []):
        place = f"variables[{index}]"
        variable = problems.mapping(item, place)
        if variable is None:
            continue
        problems.fields(variable, place, _VARIABLE_FIELDS)
        name = problems.name(variable.get("name"), f"{place}.name", max_length=100)
        text = problems.text(variable.get("value", ""), f"{place}.value")
        secret = problems.boolean(variable.get("secret", False), f"{place}.secret")
        if name is not None and not _is_variable_name(name):
            problems.add(f"{place}.name", f"{_shown(name)} cannot be written as {{{{{name}}}}}")
            name = None
        if name is not None and name in seen:
            problems.add(f"{place}.name", f'"{name}" is already defined in {seen[name]}')
            name = None
        if name is not None:
            seen[name] = place
        if name is not None and text is not None and secret is not None:
            found.append((name, text, secret))
    return found


def _find_operation(value: Any, place: str, problems: _Problems) -> Operation | None:
    if value is None:
        problems.add(place, "missing; write it as {api: <API slug>, operation: <operation slug>}")
        return None
    reference = problems.mapping(value, place)
    if reference is None:
        return None
    problems.fields(reference, place, _OPERATION_FIELDS)
    api_slug = problems.name(reference.get("api"), f"{place}.api", max_length=100)
    slug = problems.name(reference.get("operation"), f"{place}.operation", max_length=100)
    if api_slug is None or slug is None:
        return None
    api = Api.objects.filter(slug=api_slug).first()
    if api is None:
        problems.add(place, f'no API "{api_slug}" in the portal')
        return None
    operation = Operation.objects.filter(api=api, slug=slug).prefetch_related("parameters").first()
    if operation is None:
        problems.add(place, f'no operation "{slug}" in API "{api_slug}"')
    return operation


def _or_empty(value: Any, empty: Any) -> Any:
    """An empty YAML field (`query:`) reads as null; it means "none"."""
    return empty if value is None else value


def _parse_one(parser, text: str, place: str, problems: _Problems) -> dict | None:
    """One check or extraction rule from one line of the file."""
    try:
        parsed = parser(text)
    except CheckSyntaxError as error:
        problems.add(place, error.message)
        return None
    if len(parsed) != 1:
        problems.add(place, f"expected one line, got {_shown(text)}")
        return None
    return parsed[0]


def _read_request(item: Any, place: str, problems: _Problems) -> _RequestPlan | None:
    request = problems.mapping(item, place)
    if request is None:
        return None
    problems.fields(request, place, _REQUEST_FIELDS)
    name = problems.name(request.get("name"), f"{place}.name", max_length=200)
    operation = _find_operation(request.get("operation"), f"{place}.operation", problems)
    plan = _RequestPlan(name=name or "", operation=operation)  # type: ignore[arg-type]
    _read_values(request, place, operation, plan, problems)
    if request.get("expect") is not None:
        _read_expect(request["expect"], f"{place}.expect", plan, problems)
    for where, line in problems.strings(_or_empty(request.get("extract"), []), f"{place}.extract"):
        rule = _parse_one(parse_extract, line, where, problems)
        if rule is not None:
            plan.extract.append(rule)
    if request.get("repeat") is not None:
        _read_repeat(request["repeat"], f"{place}.repeat", plan, problems)
    return plan if name is not None and operation is not None else None


def _read_values(
    request: dict,
    place: str,
    operation: Operation | None,
    plan: _RequestPlan,
    problems: _Problems,
) -> None:
    parameters = list(operation.parameters.all()) if operation else []
    in_template = {p.name for p in parameters if p.location == ParameterLocation.TEMPLATE}
    in_query = {p.name for p in parameters if p.location == ParameterLocation.QUERY}
    template = problems.mapping(_or_empty(request.get("template"), {}), f"{place}.template") or {}
    for key, value in template.items():
        where = f"{place}.template.{key}"
        text = problems.text(value, where)
        if operation is not None and key not in in_template:
            problems.add(where, f'operation "{operation.slug}" has no URL template parameter')
        elif text is not None:
            plan.template[str(key)] = text
    if operation is not None and isinstance(template, dict):
        _check_template_complete(operation, template, f"{place}.template", problems)
    for where, key, value in problems.pairs(_or_empty(request.get("query"), []), f"{place}.query"):
        if operation is not None and key not in in_query:
            problems.add(where, f'operation "{operation.slug}" has no query parameter "{key}"')
        else:
            plan.query.append([key, value])
    for where, header, value in problems.pairs(
        _or_empty(request.get("headers"), []), f"{place}.headers"
    ):
        if not TOKEN.match(header):
            problems.add(where, f"not a header name: {_shown(header)}")
        elif (reason := refusal_reason(header)) is not None:
            problems.add(where, f"{reason}; it cannot be sent")
        else:
            plan.headers.append([header, value])
    body = request.get("body")
    if body is not None:
        plan.body = problems.text(body, f"{place}.body")


def _check_template_complete(
    operation: Operation, template: dict, place: str, problems: _Problems
) -> None:
    # Binding needs a value for every placeholder; say so now rather than at the first run.
    try:
        names = parse_template(operation.url_template).names
    except TemplateError:
        return
    missing = [name for name in names if name not in template]
    if missing:
        listed = ", ".join(f'"{name}"' for name in missing)
        problems.add(
            place,
            f"missing {listed} of the URL template {operation.url_template} "
            "(write '' to leave an optional query value empty)",
        )


def _read_expect(value: Any, place: str, plan: _RequestPlan, problems: _Problems) -> None:
    expect = problems.mapping(value, place)
    if expect is None:
        return
    problems.fields(expect, place, _EXPECT_FIELDS)
    if expect.get("status") is not None:
        plan.expected_status = problems.integer(
            expect["status"], f"{place}.status", low=100, high=599
        )
    for where, line in problems.strings(_or_empty(expect.get("checks"), []), f"{place}.checks"):
        check = _parse_one(parse_checks, line, where, problems)
        if check is not None:
            plan.checks.append(check)


def _read_repeat(value: Any, place: str, plan: _RequestPlan, problems: _Problems) -> None:
    repeat = problems.mapping(value, place)
    if repeat is None:
        return
    problems.fields(repeat, place, _REPEAT_FIELDS)
    until = problems.text(repeat.get("until"), f"{place}.until")
    if until is not None:
        plan.repeat_until = _parse_one(parse_checks, until, f"{place}.until", problems)
    tries = problems.integer(
        repeat.get("max_tries", 1), f"{place}.max_tries", low=1, high=MAX_TRIES
    )
    delay = problems.number(
        repeat.get("delay_seconds", 1.0), f"{place}.delay_seconds", low=0, high=MAX_DELAY_SECONDS
    )
    plan.repeat_max_tries = tries or 1
    plan.repeat_delay_seconds = 1.0 if delay is None else delay


def _check_references(
    document: dict, *, plan: _Plan, extracted: set[str], problems: _Problems
) -> None:
    """Every {{name}} in a request is a variable of the file or extracted by a request."""
    known = {name for name, _, _ in plan.variables} | extracted
    requests = document.get("requests")
    if not isinstance(requests, list):
        return
    for index, request in enumerate(requests):
        if not isinstance(request, dict):
            continue
        for where, text in _texts(request, f"requests[{index}]"):
            for match in VARIABLE.finditer(text):
                variable = match.group(1)
                if variable not in known:
                    problems.add(
                        where,
                        f'unknown variable "{variable}": define it under variables or '
                        "extract it from a request",
                    )


def _texts(request: dict, place: str) -> list[tuple[str, str]]:
    """The strings of a request that are sent, each with its place."""
    found: list[tuple[str, str]] = []
    template = request.get("template")
    if isinstance(template, dict):
        found += [(f"{place}.template.{k}", v) for k, v in template.items() if isinstance(v, str)]
    for key in ("query", "headers"):
        pairs = request.get(key)
        for i, pair in enumerate(pairs if isinstance(pairs, list) else []):
            if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str):
                found.append((f"{place}.{key}[{i}][1]", pair[1]))
    if isinstance(request.get("body"), str):
        found.append((f"{place}.body", request["body"]))
    return found


def _unique_name(*, owner: User, name: str) -> str:
    taken = set(Collection.objects.filter(owner=owner).values_list("name", flat=True))
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name[: 200 - len(suffix)] + suffix
    return candidate


def _stored(value: str, *, secret: bool) -> str:
    """A literal secret is kept encrypted; a reference to variables is kept readable."""
    if secret and value and not refers_only(value):
        return encrypt(value)
    return value


def _write(*, plan: _Plan, owner: User) -> Collection:
    collection = Collection(owner=owner, name=_unique_name(owner=owner, name=plan.name))
    collection.description = plan.description
    if plan.ignored_headers is not None:
        collection.ignored_headers = plan.ignored_headers
    collection.save()
    CollectionVariable.objects.bulk_create(
        CollectionVariable(
            collection=collection,
            name=name,
            value=encrypt(value) if secret else value,
            secret=secret,
        )
        for name, value, secret in plan.variables
    )
    SavedRequest.objects.bulk_create(
        _saved_request(collection=collection, order=order, request=request)
        for order, request in enumerate(plan.requests)
    )
    return collection


def _saved_request(*, collection: Collection, order: int, request: _RequestPlan) -> SavedRequest:
    operation = request.operation
    secret_names = {p.name.lower() for p in operation.parameters.all() if p.secret}

    def stored(name: str, value: str) -> str:
        return _stored(value, secret=is_secret(name, value, secret_names=secret_names))

    values = {
        "template": {k: stored(k, v) for k, v in request.template.items()},
        "query": [[k, stored(k, v)] for k, v in request.query],
        "headers": [[n, stored(n, v)] for n, v in request.headers],
        "body": request.body,
    }
    return SavedRequest(
        collection=collection,
        name=request.name,
        order=order,
        operation=operation,
        operation_label=f"{operation.api.name}: {operation.name}",
        values=values,
        expected_status=request.expected_status,
        checks=request.checks,
        extract=request.extract,
        repeat_until=request.repeat_until,
        repeat_max_tries=request.repeat_max_tries,
        repeat_delay_seconds=request.repeat_delay_seconds,
    )


# --- Finding a collection named on the command line -------------------------------------


class CollectionNotFound(LookupError):
    """No collection, or more than one, answers to a reference; the message says which."""


def find_collection(*, reference: str) -> Collection:
    """The collection with this id, else the one with this exact name."""
    if reference.isdigit():
        found = Collection.objects.filter(pk=int(reference)).select_related("owner").first()
        if found is not None:
            return found
    named = list(Collection.objects.filter(name=reference).select_related("owner")[:20])
    if not named:
        raise CollectionNotFound(f'No collection with the id or name "{reference}".')
    if len(named) > 1:
        ids = ", ".join(f"{c.pk} (owner {c.owner.get_username()})" for c in named)
        raise CollectionNotFound(
            f'{len(named)} collections are named "{reference}": {ids}. Give an id.'
        )
    return named[0]
