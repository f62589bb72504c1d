"""Checks on a response, extraction rules, and the one-line syntax testers type. Pure,
but for the schema check, which reads the operation's documentation.

A check is a dict, as stored in SavedRequest.checks and repeat_until:

    {"kind": "status"|"header_present"|"header_equals"|"json_present"|"json_equals"|
             "body_contains"|"duration_under"|"schema", "target": str, "value": str}

and is written one per line in a textarea or an export file:

    status 200
    header Content-Type                      (present)
    header Content-Type = application/json
    json $.Results                           (present)
    json $.StatusCode = Finished
    body contains hashing
    duration < 500
    schema                                   (matches the documented schema for its status)

An extraction rule takes a value from a response into a variable for the next steps:

    {"variable": "jobid", "source": "json"|"header", "path": "$" or a header name}
    jobid = json $
    etag = header ETag

Blank lines and lines starting with "#" are ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from catalog.models import Operation
from console.rendering import decode_text, parse_content_type
from console.response_check import check_response
from httpcore.headers import TOKEN
from httpcore.masking import is_secret
from testing import jsonpath
from testing.variables import NAME as VARIABLE_NAME

KINDS = (
    "status",
    "header_present",
    "header_equals",
    "json_present",
    "json_equals",
    "body_contains",
    "duration_under",
    "schema",
)
SOURCES = ("json", "header")
STATUS = re.compile(r"[1-5][0-9][0-9]\Z")
NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?\Z")
# Long values found in a response are cut in details: they are shown in run reports.
MAX_SHOWN = 200
MAX_LINES = 200
# A failed schema check names this many violations.
MAX_SCHEMA_VIOLATIONS = 3
MAX_SCHEMA_SHOWN = 1000

HeaderList = Sequence[Sequence[str]]


@dataclass(frozen=True)
class CheckResult:
    label: str
    passed: bool
    detail: str


class CheckSyntaxError(ValueError):
    """A line of checks or extraction rules does not parse; line is 1-based."""

    def __init__(self, message: str, *, line: int) -> None:
        super().__init__(f"Line {line}: {message}")
        self.message = message
        self.line = line


# --- Evaluating -------------------------------------------------------------------


def label_of(check: dict) -> str:
    """How a check reads to a person, e.g. "$.StatusCode equals Finished"."""
    kind, target, value = _parts(check)
    labels = {
        "status": f"Status is {value}",
        "header_present": f"Header {target} is present",
        "header_equals": f"Header {target} equals {value}",
        "json_present": f"{target} is present",
        "json_equals": f"{target} equals {value}",
        "body_contains": f"Body contains '{value}'",
        "duration_under": f"Duration under {value} ms",
        "schema": "Matches the documented schema",
    }
    return labels.get(kind, f"Unknown check {kind!r}")


def evaluate(
    check: dict,
    *,
    status: int | None,
    headers: HeaderList,
    body: bytes,
    content_type: str,
    duration_ms: float,
    operation: Operation | None = None,
) -> CheckResult:
    """Whether the response satisfies the check, and what was found when it does not.
    `operation` is the one the request calls, for the schema check."""
    kind, target, value = _parts(check)
    label = label_of(check)
    if kind == "status":
        detail = _status_detail(expected=value, status=status)
    elif kind in ("header_present", "header_equals"):
        detail = _header_detail(kind=kind, name=target, expected=value, headers=headers)
    elif kind in ("json_present", "json_equals"):
        detail = _json_detail(
            kind=kind, path=target, expected=value, body=body, content_type=content_type
        )
    elif kind == "body_contains":
        text, _ = decode_text(body, charset=parse_content_type(content_type)[1])
        detail = None if value in text else "not found in the body"
    elif kind == "duration_under":
        detail = _duration_detail(limit=value, duration_ms=duration_ms)
    elif kind == "schema":
        detail = _schema_detail(
            operation=operation, status=status, body=body, content_type=content_type
        )
    else:
        detail = f"Unknown check kind {kind!r}; use one of {', '.join(KINDS)}."
    return CheckResult(label=label, passed=detail is None, detail=detail or "")


def _parts(check: object) -> tuple[str, str, str]:
    # Checks come from forms and from imported files: anything but strings reads as "".
    if not isinstance(check, dict):
        return "", "", ""
    kind, target, value = (
        item if isinstance(item, str) else ""
        for item in (check.get(key, "") for key in ("kind", "target", "value"))
    )
    return kind, target, value


def _status_detail(*, expected: str, status: int | None) -> str | None:
    if status is None:
        return "no response"
    if not STATUS.match(expected.strip()):
        return f"{expected!r} is not a status code"
    return None if int(expected.strip()) == status else f"got {status}"


def _header_values(headers: HeaderList, name: str) -> list[str]:
    wanted = name.strip().lower()
    return [value for key, value in headers if key.lower() == wanted]


def _header_detail(*, kind: str, name: str, expected: str, headers: HeaderList) -> str | None:
    values = _header_values(headers, name)
    if not values:
        return "header missing"
    if kind == "header_present" or expected.strip() in (v.strip() for v in values):
        return None
    # A credential header's value is not copied into run reports.
    if is_secret(name, values[0]) or is_secret(name, expected):
        return "the header has another value (not shown: it is secret)"
    return f"got {_shown(values[0])}"


@lru_cache(maxsize=4)
def _parsed_json(body: bytes, charset: str | None) -> tuple[bool, object]:
    # Several checks of one response parse the same body: parse it once.
    text, _ = decode_text(body, charset=charset)
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


def parse_body_json(body: bytes, content_type: str) -> tuple[bool, object]:
    """(True, document) when the body is JSON, whatever its declared type says."""
    if not body.strip():
        return False, None
    return _parsed_json(bytes(body), parse_content_type(content_type)[1])


def expected_json(value: str) -> object:
    """A check's value as JSON when it parses ("200" -> 200), else as a string."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def json_matches(found: object, value: str) -> bool:
    if jsonpath.json_equal(found, expected_json(value)):
        return True
    # A string found in the response also matches the value as typed, so that
    # `json $.code = 200` holds for "200" as well as for 200.
    return isinstance(found, str) and found == value.strip()


def _json_detail(
    *, kind: str, path: str, expected: str, body: bytes, content_type: str
) -> str | None:
    try:
        jsonpath.parse(path)
    except jsonpath.JsonPathError as error:
        return str(error)
    is_json, document = parse_body_json(body, content_type)
    if not is_json:
        return "the body is not JSON"
    found, value = jsonpath.find(document, path)
    if not found:
        return f"{path} is missing"
    if kind == "json_present" or json_matches(value, expected):
        return None
    return f"{path} is {_shown(json.dumps(value, ensure_ascii=False))}"


def _duration_detail(*, limit: str, duration_ms: float) -> str | None:
    if not NUMBER.match(limit.strip()):
        return f"{limit!r} is not a number of milliseconds"
    return None if duration_ms < float(limit) else f"took {round(duration_ms)} ms"


def _schema_detail(
    *, operation: Operation | None, status: int | None, body: bytes, content_type: str
) -> str | None:
    if status is None:
        return "no response"
    if operation is None:
        return "the request's operation is gone: no documented schema to check against"
    outcome = check_response(
        operation=operation, status_code=status, content_type=content_type, body=body
    )
    if outcome.outcome == "undocumented":
        return f"no schema is documented for status {status}"
    if outcome.outcome == "not_checked":
        return f"not checked: {outcome.reason}"
    if outcome.passed:
        return None
    shown = [f"{v.path}: {v.message}" for v in outcome.violations[:MAX_SCHEMA_VIOLATIONS]]
    left = len(outcome.violations) + outcome.more - len(shown)
    more = f" (and {left} more)" if left else ""
    text = "; ".join(shown)
    return (text if len(text) <= MAX_SCHEMA_SHOWN else text[:MAX_SCHEMA_SHOWN] + "…") + more


def _shown(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


# --- Extraction -------------------------------------------------------------------


def extract_value(
    rule: dict, *, headers: HeaderList, body: bytes, content_type: str
) -> tuple[str | None, str]:
    """(value, "") or (None, why not). JSON strings are taken as they are, other JSON
    values as JSON text (so 42 -> "42", {"a": 1} -> '{"a": 1}')."""
    name, source, path = (str(rule.get(key, "")) for key in ("variable", "source", "path"))
    if source == "header":
        values = _header_values(headers, path)
        if not values:
            return None, f"Variable {name}: header {path} is not in the response"
        return values[0], ""
    if source != "json":
        return None, f"Variable {name}: unknown source {source!r}; use json or header"
    try:
        jsonpath.parse(path)
    except jsonpath.JsonPathError as error:
        return None, f"Variable {name}: {error}"
    is_json, document = parse_body_json(body, content_type)
    if not is_json:
        return None, f"Variable {name}: the response is not JSON"
    found, value = jsonpath.find(document, path)
    if not found:
        return None, f"Variable {name}: {path} is not in the response"
    return (value if isinstance(value, str) else json.dumps(value)), ""


# --- The line syntax --------------------------------------------------------------


def parse_checks(text: str) -> list[dict]:
    """One check per line; raises CheckSyntaxError naming the first bad line."""
    return [parse_check_line(line, line=number) for number, line in _lines(text)]


def parse_check_line(text: str, *, line: int = 1) -> dict:
    """One check, such as "json $.StatusCode = Finished" (used for repeat_until too)."""
    keyword, _, rest = text.strip().partition(" ")
    keyword, rest = keyword.lower(), rest.strip()
    parsers = {
        "status": _parse_status,
        "header": _parse_header,
        "json": _parse_json,
        "body": _parse_body,
        "duration": _parse_duration,
        "schema": _parse_schema,
    }
    if keyword not in parsers:
        raise CheckSyntaxError(
            f"unknown check {keyword!r}; start the line with status, header, json, "
            "body contains, duration < or schema",
            line=line,
        )
    return parsers[keyword](rest, line)


def format_checks(checks: list[dict]) -> str:
    """The inverse of parse_checks: one line per check."""
    return "\n".join(format_check(check) for check in checks)


def format_check(check: dict) -> str:
    kind, target, value = _parts(check)
    formats = {
        "status": f"status {value}",
        "header_present": f"header {target}",
        "header_equals": f"header {target} = {value}",
        "json_present": f"json {target}",
        "json_equals": f"json {target} = {value}",
        "body_contains": f"body contains {value}",
        "duration_under": f"duration < {value}",
        "schema": "schema",
    }
    # An unknown kind (from a newer export, say) stays visible as a comment.
    return formats.get(kind, f"# unknown check {json.dumps(check)}")


def parse_extract(text: str) -> list[dict]:
    """One rule per line ("jobid = json $"); raises CheckSyntaxError naming the bad line."""
    rules: list[dict] = []
    for number, line in _lines(text):
        rule = _parse_rule(line, number)
        if any(other["variable"] == rule["variable"] for other in rules):
            raise CheckSyntaxError(f"variable {rule['variable']} is set twice", line=number)
        rules.append(rule)
    return rules


def format_extract(rules: list[dict]) -> str:
    return "\n".join(
        f"{rule.get('variable', '')} = {rule.get('source', '')} {rule.get('path', '')}"
        for rule in rules
    )


def _lines(text: str) -> list[tuple[int, str]]:
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#")
    ]
    if len(lines) > MAX_LINES:
        raise CheckSyntaxError(f"at most {MAX_LINES} lines", line=lines[MAX_LINES][0])
    return lines


def _parse_status(rest: str, line: int) -> dict:
    if not STATUS.match(rest):
        raise CheckSyntaxError(
            f"status needs a code from 100 to 599, such as 'status 200', not {rest!r}", line=line
        )
    return {"kind": "status", "target": "", "value": rest}


def _parse_header(rest: str, line: int) -> dict:
    name, equals, value = (part.strip() for part in rest.partition("="))
    if not name:
        raise CheckSyntaxError("header needs a name, such as 'header Content-Type'", line=line)
    if not TOKEN.match(name):
        raise CheckSyntaxError(f"{name!r} is not a header name", line=line)
    if not equals:
        return {"kind": "header_present", "target": name, "value": ""}
    return {"kind": "header_equals", "target": name, "value": value}


def _parse_json(rest: str, line: int) -> dict:
    path, equals, value = _split_path(rest)
    if not path:
        raise CheckSyntaxError("json needs a path, such as 'json $.Results'", line=line)
    try:
        jsonpath.parse(path)
    except jsonpath.JsonPathError as error:
        raise CheckSyntaxError(str(error), line=line) from None
    if not equals:
        return {"kind": "json_present", "target": path, "value": ""}
    if not value:
        raise CheckSyntaxError('json ... = needs a value; write "" for an empty string', line=line)
    return {"kind": "json_equals", "target": path, "value": value}


def _split_path(rest: str) -> tuple[str, str, str]:
    """Split "PATH = VALUE" at the first "=" outside a quoted name in the path."""
    quote = ""
    index = 0
    while index < len(rest):
        char = rest[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "=":
            return rest[:index].strip(), "=", rest[index + 1 :].strip()
        index += 1
    return rest.strip(), "", ""


def _parse_body(rest: str, line: int) -> dict:
    word, _, value = rest.partition(" ")
    if word.lower() != "contains":
        raise CheckSyntaxError("write 'body contains TEXT'", line=line)
    if not value.strip():
        raise CheckSyntaxError("body contains needs a text to look for", line=line)
    return {"kind": "body_contains", "target": "", "value": value.strip()}


def _parse_duration(rest: str, line: int) -> dict:
    sign, _, value = rest.partition("<")
    value = value.strip().removesuffix("ms").strip()
    if sign.strip() or not NUMBER.match(value) or float(value) <= 0:
        raise CheckSyntaxError(
            "write 'duration < N' with N a number of milliseconds, such as 'duration < 500'",
            line=line,
        )
    return {"kind": "duration_under", "target": "", "value": value}


def _parse_schema(rest: str, line: int) -> dict:
    if rest:
        raise CheckSyntaxError("write 'schema' alone: it checks the documented schema", line=line)
    return {"kind": "schema", "target": "", "value": ""}


def _parse_rule(text: str, line: int) -> dict:
    name, equals, rest = (part.strip() for part in text.partition("="))
    if not equals:
        raise CheckSyntaxError("write 'name = json $.path' or 'name = header Name'", line=line)
    if not VARIABLE_NAME.match(name):
        raise CheckSyntaxError(
            f"{name!r} is not a variable name (a letter or '_', then letters, digits, '_', "
            "'.', '-')",
            line=line,
        )
    source, _, path = rest.partition(" ")
    source, path = source.lower(), path.strip()
    if source not in SOURCES or not path:
        raise CheckSyntaxError(f"after '{name} =' write 'json $.path' or 'header Name'", line=line)
    if source == "json":
        try:
            jsonpath.parse(path)
        except jsonpath.JsonPathError as error:
            raise CheckSyntaxError(str(error), line=line) from None
    elif not TOKEN.match(path):
        raise CheckSyntaxError(f"{path!r} is not a header name", line=line)
    return {"variable": name, "source": source, "path": path}
