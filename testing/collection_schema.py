"""The collection file's shape, as a JSON Schema (Draft 2020-12).

The file holds what a collection *means*, never where it lives: no ids, no
timestamps, no baselines (a baseline is captured by the first replay on the
portal that imports the file). Example (an exported demo collection, shortened)::

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
      cookies:
      - [theme, dark]
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

The schema says only what a file can hold; whether its operations exist, its header
names may be sent, its cookies are the operation's and can be sent, its checks parse
and its variables are defined is for `testing.collection_check`. A problem message
says what was expected: a value's `title` when it has one, else what its `type` and
bounds allow. An empty YAML field
(`query:`) reads as null, which is why most optional fields also allow null: it
means "none". A required field given as null is reported as missing.
"""

from __future__ import annotations

from typing import Any

FORMAT_VERSION = 1

# Bounds of the saved request form, so an imported request can be edited as it is.
MAX_TRIES = 100
MAX_DELAY_SECONDS = 60.0

# Names are text, not only spaces.
NOT_BLANK = r"\S"


# Shared parts are Python objects rather than $ref: the checker walks a problem's schema
# path back to the mapping that requires the field, and that path leaves $ref out.


def _name(max_length: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "pattern": NOT_BLANK}


_TEXT: dict[str, Any] = {"type": "string"}

# One check or extraction rule per line, in the text form of the edit form.
_LINES: dict[str, Any] = {"type": ["array", "null"], "items": _TEXT}

_PAIRS: dict[str, Any] = {
    "type": ["array", "null"],
    "items": {
        "title": "a [name, value] pair",
        "type": "array",
        "minItems": 2,
        "maxItems": 2,
        "prefixItems": [_TEXT, _TEXT],
    },
}

_VARIABLE: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": _name(100),
        "value": _TEXT,
        "secret": {"type": "boolean"},
    },
    "additionalProperties": False,
}

_OPERATION: dict[str, Any] = {
    "type": "object",
    "required": ["api", "operation"],
    "properties": {"api": _name(100), "operation": _name(100)},
    "additionalProperties": False,
}

_EXPECT: dict[str, Any] = {
    "type": ["object", "null"],
    "properties": {
        "status": {"type": ["integer", "null"], "minimum": 100, "maximum": 599},
        "checks": _LINES,
    },
    "additionalProperties": False,
}

_REPEAT: dict[str, Any] = {
    "type": ["object", "null"],
    "required": ["until"],
    "properties": {
        "until": _TEXT,
        "max_tries": {"type": "integer", "minimum": 1, "maximum": MAX_TRIES},
        "delay_seconds": {"type": "number", "minimum": 0, "maximum": MAX_DELAY_SECONDS},
    },
    "additionalProperties": False,
}

_FILE: dict[str, Any] = {
    "type": "object",
    "required": ["field", "name", "base64"],
    "properties": {
        "field": _name(300),
        "name": _name(200),
        "content_type": {"type": "string", "maxLength": 200},
        "base64": {"type": "string"},
    },
    "additionalProperties": False,
}

_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["name", "operation"],
    "properties": {
        "name": _name(200),
        "operation": _OPERATION,
        # Written beside `operation: null` for a deleted operation; only for the reader.
        "operation_label": True,
        "template": {"type": ["object", "null"], "additionalProperties": _TEXT},
        "query": _PAIRS,
        "headers": _PAIRS,
        # The operation's cookie parameters, as Try it's form keeps them.
        "cookies": _PAIRS,
        "body": {"type": ["string", "null"]},
        # The chosen media type, and a multipart body's text parts.
        "content_type": {"type": "string", "maxLength": 200},
        "parts": _PAIRS,
        # The files it sends, each within PORTAL_OUTBOUND_MAX_REQUEST_BODY_BYTES (checked
        # by collection_check.py, since the cap is a setting).
        "files": {"type": ["array", "null"], "items": _FILE},
        # The base URL it is sent to when not the API's first server: one of the API's
        # servers, matched at import (nothing typed sets a host).
        "server": {"type": "string", "maxLength": 500},
        "expect": _EXPECT,
        "extract": _LINES,
        "repeat": _REPEAT,
    },
    "additionalProperties": False,
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "a mapping with portal_collection, name, variables and requests",
    "type": "object",
    # `name` may be left out when the importer names the collection itself.
    "required": ["portal_collection", "name"],
    "properties": {
        "portal_collection": {"const": FORMAT_VERSION},
        "name": _name(200),
        "description": _TEXT,
        "ignored_headers": {"type": "array", "items": _TEXT},
        "variables": {"type": ["array", "null"], "items": _VARIABLE},
        "requests": {"type": ["array", "null"], "items": _REQUEST},
    },
    "additionalProperties": False,
}
