"""Large, real-world-shaped OpenAPI 3 documents for tests and benchmarks.

    from tests.openapi_generator import generate_document, write_document
    document = generate_document(operations=1000, tags=40, seed=0)
    write_document("/tmp/big.json", operations=1000)

The same arguments give the same document (a seeded random.Random). The shape follows
what large public specifications look like: many tags whose paths come together in the
document; resources with collection, item, sub-resource and action paths, each with one
to three methods; path parameters declared on the path item or on the operation; query
parameters with enums, defaults and arrays; header parameters; shared parameters,
request bodies, responses and schemas under components, referenced with $ref, including
recursive schemas (a Node whose children are Nodes, Comments whose replies are Comments,
Folders holding Folders and Files); request bodies with an example, named examples or
only a schema; several responses with examples; long Markdown descriptions. A few
operations carry two tags, a few none, a few are deprecated.

With the defaults (1,000 operations) the JSON text is over 10 MB. The only server is
https://api.example.com/v1, a public name that nothing here resolves.

bulk_create_api() stores such a document directly through the ORM with bulk_create, a
small stand-in for the importer that keeps page tests fast.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

SERVER_URL = "https://api.example.com/v1"

# (singular, plural) nouns: each tag documents one resource.
RESOURCES = [
    ("account", "accounts"),
    ("invoice", "invoices"),
    ("payment", "payments"),
    ("customer", "customers"),
    ("subscription", "subscriptions"),
    ("product", "products"),
    ("price", "prices"),
    ("order", "orders"),
    ("shipment", "shipments"),
    ("warehouse", "warehouses"),
    ("supplier", "suppliers"),
    ("contract", "contracts"),
    ("ticket", "tickets"),
    ("agent", "agents"),
    ("queue", "queues"),
    ("workspace", "workspaces"),
    ("project", "projects"),
    ("repository", "repositories"),
    ("pipeline", "pipelines"),
    ("deployment", "deployments"),
    ("environment", "environments"),
    ("secret", "secrets"),
    ("certificate", "certificates"),
    ("domain", "domains"),
    ("record", "records"),
    ("bucket", "buckets"),
    ("volume", "volumes"),
    ("snapshot", "snapshots"),
    ("cluster", "clusters"),
    ("node-pool", "node-pools"),
    ("alert", "alerts"),
    ("dashboard", "dashboards"),
    ("report", "reports"),
    ("dataset", "datasets"),
    ("model", "models"),
    ("experiment", "experiments"),
    ("webhook", "webhooks"),
    ("event", "events"),
    ("audit-log", "audit-logs"),
    ("role", "roles"),
    ("policy", "policies"),
    ("team", "teams"),
    ("user", "users"),
    ("device", "devices"),
    ("location", "locations"),
    ("schedule", "schedules"),
    ("campaign", "campaigns"),
    ("segment", "segments"),
]
SUB_RESOURCES = [
    ("note", "notes"),
    ("attachment", "attachments"),
    ("version", "versions"),
    ("member", "members"),
    ("comment", "comments"),
    ("alias", "aliases"),
    ("permission", "permissions"),
    ("metric", "metrics"),
    ("revision", "revisions"),
    ("link", "links"),
    ("setting", "settings"),
    ("quota", "quotas"),
    ("tag", "tags"),
    ("activity", "activities"),
]
ACTIONS = ["archive", "restore", "validate", "publish", "lock", "unlock", "clone", "export"]
STATUSES = ["active", "pending", "suspended", "archived", "deleted"]
_VOCABULARY = (
    "the a an of to and in for on with by from as is are be this that it each any all "
    "request response resource value field object list item page token client server "
    "account key limit rate quota region zone version header query path body schema "
    "returns creates updates removes retrieves filters sorts validates includes "
    "optional required default maximum minimum between after before when unless only "
    "identifier timestamp status state owner member team project workspace setting "
    "billing invoice payment customer order shipment contract event webhook policy "
    "role permission scope audit log metric alert report dataset model experiment "
    "deployment environment cluster node volume snapshot bucket domain record secret "
    "certificate consistent eventually idempotent paginated cached encrypted signed "
    "retry backoff timeout conflict precondition concurrency etag cursor offset"
)
WORDS = _VOCABULARY.split()
TYPES = ["string", "integer", "number", "boolean"]


def _title(slug: str) -> str:
    return " ".join(part.capitalize() for part in slug.split("-"))


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _camel(slug: str) -> str:
    return "".join(part.capitalize() for part in slug.split("-"))


def _id_param(singular: str) -> str:
    parts = singular.split("-")
    return parts[0] + "".join(p.capitalize() for p in parts[1:]) + "Id"


class _Writer:
    """Deterministic filler: sentences, Markdown and example values."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def words(self, count: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=count))

    def sentence(self, low: int = 8, high: int = 20) -> str:
        text = self.words(self.rng.randint(low, high))
        return text[0].upper() + text[1:] + "."

    def paragraph(self, low: int = 3, high: int = 7) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))

    def markdown(self, *, title: str, path: str, method: str, sections: int) -> str:
        rng = self.rng
        parts = [self.paragraph(2, 4)]
        for number in range(sections):
            parts.append(f"### {self.words(3).capitalize()} {number + 1}")
            parts.append(self.paragraph())
            kind = rng.randrange(4)
            if kind == 0:
                parts.append(
                    "\n".join(f"- **{self.words(2)}**: {self.sentence()}" for _ in range(4))
                )
            elif kind == 1:
                rows = "\n".join(
                    f"| `{self.words(1)}` | {rng.choice(TYPES)} | {self.sentence(5, 10)} |"
                    for _ in range(rng.randint(3, 6))
                )
                parts.append(f"| Field | Type | Meaning |\n|---|---|---|\n{rows}")
            elif kind == 2:
                parts.append(
                    "```sh\n"
                    f"curl -X {method.upper()} '{SERVER_URL}{path}' \\\n"
                    "  -H 'Accept: application/json' \\\n"
                    "  -H 'Authorization: Bearer $TOKEN'\n```"
                )
            else:
                anchor = title.lower().replace(" ", "-")
                parts.append(f"> **Note** {self.sentence()} See [{title}](#{anchor}).")
        return "\n\n".join(parts)

    def timestamp(self) -> str:
        rng = self.rng
        return (
            f"20{rng.randint(20, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
        )

    def identifier(self, prefix: str) -> str:
        return f"{prefix[:3]}_{self.rng.getrandbits(64):016x}"


class _Generator:
    def __init__(self, *, operations: int, tags: int, seed: int, version: str) -> None:
        if operations < 1 or tags < 1:
            raise ValueError("operations and tags must be at least 1")
        self.rng = random.Random(seed)
        self.text = _Writer(self.rng)
        self.operations = operations
        self.tag_count = min(tags, operations)
        self.version = version
        self.openapi_31 = version.startswith("3.1")
        self.schemas: dict[str, Any] = {}
        self.operation_ids: set[str] = set()

    # --- components -----------------------------------------------------------------

    def nullable(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.openapi_31:
            return {**schema, "type": [schema["type"], "null"]}
        return {**schema, "nullable": True}

    def shared_components(self) -> dict[str, Any]:
        text = self.text
        self.schemas.update(
            {
                "Node": {
                    "type": "object",
                    "description": "A tree node; its children are nodes too.",
                    "required": ["id", "name"],
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "weight": {"type": "number", "format": "double"},
                        "parent": {"$ref": "#/components/schemas/Node"},
                        "children": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Node"},
                        },
                    },
                },
                "Comment": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "author": {"$ref": "#/components/schemas/UserRef"},
                        "body": {"type": "string", "description": "Markdown."},
                        "createdAt": {"type": "string", "format": "date-time"},
                        "replies": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Comment"},
                        },
                    },
                },
                "Folder": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "enum": ["folder"]},
                        "name": {"type": "string"},
                        "entries": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Entry"},
                        },
                    },
                },
                "File": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "enum": ["file"]},
                        "name": {"type": "string"},
                        "size": {"type": "integer", "format": "int64"},
                        "folder": {"$ref": "#/components/schemas/Folder"},
                    },
                },
                "Entry": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Folder"},
                        {"$ref": "#/components/schemas/File"},
                    ],
                    "discriminator": {
                        "propertyName": "kind",
                        "mapping": {
                            "folder": "#/components/schemas/Folder",
                            "file": "#/components/schemas/File",
                        },
                    },
                },
                "UserRef": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {
                        "id": {"type": "string"},
                        "email": {"type": "string", "format": "email"},
                        "displayName": self.nullable({"type": "string"}),
                        "manager": {"$ref": "#/components/schemas/UserRef"},
                    },
                },
                "Pagination": {
                    "type": "object",
                    "properties": {
                        "nextPageToken": self.nullable({"type": "string"}),
                        "totalCount": {"type": "integer", "format": "int32"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "target": {"type": "string"},
                        "details": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Error"},
                        },
                        "innerError": {"type": "object", "additionalProperties": True},
                    },
                },
            }
        )

        def error_response(code: str, description: str) -> dict[str, Any]:
            return {
                "description": description,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"},
                        "example": {
                            "code": code,
                            "message": text.sentence(),
                            "details": [{"code": code, "message": text.sentence(), "target": "x"}],
                        },
                    }
                },
            }

        return {
            "parameters": {
                "PageSize": {
                    "name": "pageSize",
                    "in": "query",
                    "description": "How many items a page holds.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                },
                "PageToken": {
                    "name": "pageToken",
                    "in": "query",
                    "description": "The `nextPageToken` of the previous page.",
                    "schema": {"type": "string"},
                },
                "Sort": {
                    "name": "sort",
                    "in": "query",
                    "description": "Sort order; a leading `-` sorts descending.",
                    "schema": {
                        "type": "string",
                        "enum": ["createdAt", "-createdAt", "name", "-name"],
                        "default": "-createdAt",
                    },
                },
                "ApiVersion": {
                    "name": "api-version",
                    "in": "query",
                    "required": True,
                    "description": "The version of the API to use.",
                    "schema": {
                        "type": "string",
                        "enum": ["2023-01-01", "2024-06-01", "2025-02-01-preview"],
                        "default": "2024-06-01",
                    },
                },
                "RequestId": {
                    "name": "X-Request-Id",
                    "in": "header",
                    "description": "A client-chosen id echoed in the response and the logs.",
                    "schema": {"type": "string", "format": "uuid"},
                },
                "AcceptLanguage": {
                    "name": "Accept-Language",
                    "in": "header",
                    "description": "Language of messages in the response.",
                    "schema": {"type": "string", "enum": ["en-US", "fr-FR", "de-DE", "ja-JP"]},
                },
                "IfMatch": {
                    "name": "If-Match",
                    "in": "header",
                    "description": "Only apply the change when the resource still has this ETag.",
                    "schema": {"type": "string"},
                },
            },
            "responses": {
                "BadRequest": error_response("BadRequest", "The request is not valid."),
                "Unauthorized": error_response("Unauthorized", "Credentials are missing."),
                "NotFound": error_response("NotFound", "The resource does not exist."),
                "TooManyRequests": {
                    **error_response("TooManyRequests", "Too many requests; slow down."),
                    "headers": {
                        "Retry-After": {
                            "description": "Seconds to wait.",
                            "schema": {"type": "integer"},
                        }
                    },
                },
                "ServerError": error_response("InternalError", "Something went wrong on our side."),
            },
            "requestBodies": {
                "Labels": {
                    "description": "Labels to set, replacing the current ones.",
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                            },
                            "example": {"env": "prod", "team": "payments"},
                        }
                    },
                }
            },
            "securitySchemes": {
                "subscriptionKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Ocp-Apim-Subscription-Key",
                },
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        }

    def resource_schema(self, name: str) -> None:
        """Name, NameCreate and NameList schemas for a resource, with a few extra fields."""
        rng = self.rng
        extra = {}
        for _ in range(rng.randint(3, 8)):
            kind = rng.choice(TYPES)
            field = self.text.words(1) + _camel(self.text.words(1))
            extra[field] = {"type": kind, "description": self.text.sentence(4, 10)}
        properties = {
            "id": {"type": "string", "readOnly": True},
            "name": {"type": "string", "maxLength": 200},
            "description": self.nullable({"type": "string"}),
            "status": {"type": "string", "enum": STATUSES},
            "createdAt": {"type": "string", "format": "date-time", "readOnly": True},
            "updatedAt": {"type": "string", "format": "date-time", "readOnly": True},
            "etag": {"type": "string", "readOnly": True},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "owner": {"$ref": "#/components/schemas/UserRef"},
            "hierarchy": {"$ref": "#/components/schemas/Node"},
            **extra,
        }
        self.schemas[name] = {
            "type": "object",
            "description": self.text.paragraph(1, 2),
            "required": ["id", "name", "status"],
            "properties": properties,
        }
        self.schemas[f"{name}Create"] = {
            "type": "object",
            "required": ["name"],
            "properties": {
                key: value
                for key, value in properties.items()
                if key not in {"id", "createdAt", "updatedAt", "etag"}
            },
        }
        self.schemas[f"{name}List"] = {
            "allOf": [
                {"$ref": "#/components/schemas/Pagination"},
                {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {"$ref": f"#/components/schemas/{name}"},
                        }
                    },
                },
            ]
        }

    # --- examples -------------------------------------------------------------------

    def node_example(self, depth: int) -> dict[str, Any]:
        node: dict[str, Any] = {
            "id": self.text.identifier("node"),
            "name": self.text.words(2),
            "weight": round(self.rng.random(), 3),
        }
        if depth > 0:
            node["children"] = [self.node_example(depth - 1) for _ in range(self.rng.randint(1, 2))]
        return node

    def resource_example(self, name: str) -> dict[str, Any]:
        rng, text = self.rng, self.text
        example: dict[str, Any] = {
            "id": text.identifier(name.lower()),
            "name": text.words(3),
            "description": text.sentence(),
            "status": rng.choice(STATUSES),
            "createdAt": text.timestamp(),
            "updatedAt": text.timestamp(),
            "etag": f'W/"{rng.getrandbits(48):012x}"',
            "labels": {text.words(1): text.words(1) for _ in range(rng.randint(1, 4))},
            "owner": {
                "id": text.identifier("user"),
                "email": f"{text.words(1)}.{text.words(1)}@example.com",
                "displayName": text.words(2).title(),
            },
        }
        schema = self.schemas[name]["properties"]
        for field, spec in schema.items():
            if field in example or "type" not in spec:
                continue
            example[field] = {
                "string": lambda: text.words(3),
                "integer": lambda: rng.randint(0, 100_000),
                "number": lambda: round(rng.uniform(0, 1000), 2),
                "boolean": lambda: rng.random() < 0.5,
            }[spec["type"]]()
        if rng.random() < 0.5:
            example["hierarchy"] = self.node_example(2)
        return example

    # --- operations -----------------------------------------------------------------

    def operation_id(self, base: str) -> str:
        candidate, number = base, 2
        while candidate in self.operation_ids:
            candidate, number = f"{base}{number}", number + 1
        self.operation_ids.add(candidate)
        return candidate

    def paths_of(self, singular: str, plural: str):
        """(path, path-level ids, [(method, operationId stem, summary, kind)]) for a resource.

        A collection, an item, a search, labels, then sub-resources and actions for as
        long as the caller asks.
        """
        rng = self.rng
        one, many = singular.replace("-", " "), plural.replace("-", " ")
        noun, nouns = _camel(singular), _camel(plural)
        id_name = _id_param(singular)
        collection = f"/{plural}"
        item = f"{collection}/{{{id_name}}}"
        yield (
            collection,
            [],
            [
                ("get", f"list{nouns}", f"List {many}", "list"),
                ("post", f"create{noun}", f"Create {_a(one)}", "create"),
            ][: rng.randint(1, 2)],
        )
        update = rng.choice(
            [
                ("patch", f"update{noun}", f"Update {_a(one)}", "update"),
                ("put", f"replace{noun}", f"Replace {_a(one)}", "update"),
            ]
        )
        yield (
            item,
            [id_name],
            [
                ("get", f"get{noun}", f"Get {_a(one)}", "get"),
                update,
                ("delete", f"delete{noun}", f"Delete {_a(one)}", "delete"),
            ][: rng.randint(1, 3)],
        )
        yield f"{collection}/search", [], [("post", f"search{nouns}", f"Search {many}", "list")]
        yield (
            f"{item}/labels",
            [id_name],
            [("put", f"set{noun}Labels", f"Set the labels of {_a(one)}", "labels")],
        )
        subs = SUB_RESOURCES[:]
        rng.shuffle(subs)
        actions = ACTIONS[:]
        rng.shuffle(actions)
        round_number = 0
        while True:
            for sub_singular, sub_plural in subs:
                suffix = "" if round_number == 0 else str(round_number + 1)
                sub_id = _id_param(sub_singular) + suffix
                sub_collection = f"{item}/{sub_plural}{suffix}"
                sub, subs_camel = _camel(sub_singular) + suffix, _camel(sub_plural) + suffix
                listing = (
                    f"List the {sub_plural} of {_a(one)}, including archived and soft-deleted "
                    "ones, newest first"
                    if rng.random() < 0.05
                    else f"List {one} {sub_plural}"
                )
                yield (
                    sub_collection,
                    [id_name],
                    [
                        ("get", f"list{noun}{subs_camel}", listing, "list"),
                        ("post", f"add{noun}{sub}", f"Add {_a(one)} {sub_singular}", "create"),
                    ][: rng.randint(1, 2)],
                )
                yield (
                    f"{sub_collection}/{{{sub_id}}}",
                    [id_name, sub_id],
                    [
                        ("get", f"get{noun}{sub}", f"Get {_a(one)} {sub_singular}", "get"),
                        (
                            "patch",
                            f"update{noun}{sub}",
                            f"Update {_a(one)} {sub_singular}",
                            "update",
                        ),
                        (
                            "delete",
                            f"remove{noun}{sub}",
                            f"Remove {_a(one)} {sub_singular}",
                            "delete",
                        ),
                    ][: rng.randint(1, 3)],
                )
                if actions and rng.random() < 0.4:
                    action = actions.pop()
                    yield (
                        f"{item}/{action}",
                        [id_name],
                        [("post", f"{action}{noun}", f"{action.capitalize()} {_a(one)}", "action")],
                    )
            round_number += 1

    def parameter(self, name: str, location: str, *, required: bool = False) -> dict[str, Any]:
        return {
            "name": name,
            "in": location,
            "required": required or location == "path",
            "description": self.text.sentence(6, 14),
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        }

    def query_parameters(self, kind: str) -> list[dict[str, Any]]:
        rng = self.rng
        parameters: list[dict[str, Any]] = [{"$ref": "#/components/parameters/ApiVersion"}]
        if kind == "list":
            parameters += [
                {"$ref": "#/components/parameters/PageSize"},
                {"$ref": "#/components/parameters/PageToken"},
                {"$ref": "#/components/parameters/Sort"},
                {
                    "name": "status",
                    "in": "query",
                    "description": "Only items in this state.",
                    "schema": {"type": "string", "enum": STATUSES, "default": "active"},
                },
            ]
            if rng.random() < 0.5:
                parameters.append(
                    {
                        "name": "include",
                        "in": "query",
                        "description": "Related objects to embed.",
                        "style": "form",
                        "explode": False,
                        "schema": {
                            "type": "array",
                            "items": {"type": "string", "enum": ["owner", "labels", "hierarchy"]},
                        },
                    }
                )
            if rng.random() < 0.5:
                parameters.append(
                    {
                        "name": "createdAfter",
                        "in": "query",
                        "description": "Only items created after this instant (RFC 3339).",
                        "schema": {"type": "string", "format": "date-time"},
                    }
                )
        if kind in {"create", "update", "delete", "action"}:
            parameters.append(
                {
                    "name": "dryRun",
                    "in": "query",
                    "description": "Validate the request without applying it.",
                    "schema": {"type": "boolean", "default": False},
                }
            )
        return parameters

    def header_parameters(self, kind: str) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = [{"$ref": "#/components/parameters/RequestId"}]
        if self.rng.random() < 0.3:
            parameters.append({"$ref": "#/components/parameters/AcceptLanguage"})
        if kind in {"update", "delete"}:
            parameters.append({"$ref": "#/components/parameters/IfMatch"})
        return parameters

    def request_body(self, schema_name: str, kind: str) -> dict[str, Any] | None:
        rng = self.rng
        if kind == "labels":
            return {"$ref": "#/components/requestBodies/Labels"}
        if kind in {"get", "delete"}:
            return None
        if kind == "list":  # a search
            example = {"query": self.text.words(3), "filters": {"status": rng.choice(STATUSES)}}
            return {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "query": {"type": "string"},
                                "filters": {"type": "object", "additionalProperties": True},
                            },
                        },
                        "example": example,
                    }
                }
            }
        if kind == "action":
            return (
                None
                if rng.random() < 0.5
                else {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"reason": {"type": "string"}},
                            },
                            "example": {"reason": self.text.sentence()},
                        }
                    }
                }
            )
        if rng.random() < 0.03:
            return {
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "comment": {"type": "string"},
                            },
                        }
                    }
                }
            }
        media: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{schema_name}Create"}}
        choice = rng.random()
        if choice < 0.55:
            media["example"] = self.creation_example(schema_name)
        elif choice < 0.8:
            media["examples"] = {
                "minimal": {
                    "summary": "Only what is required",
                    "value": {"name": self.text.words(2)},
                },
                "full": {
                    "summary": "Every field",
                    "value": self.creation_example(schema_name),
                },
            }
        # else: only the schema, as many real documents do
        return {
            "description": self.text.sentence(),
            "required": True,
            "content": {"application/json": media},
        }

    def creation_example(self, schema_name: str) -> dict[str, Any]:
        example = self.resource_example(schema_name)
        for key in ("id", "createdAt", "updatedAt", "etag"):
            example.pop(key, None)
        return example

    def responses(self, schema_name: str, kind: str) -> dict[str, Any]:
        rng = self.rng
        ok: dict[str, Any]
        if kind == "list":
            items = [self.resource_example(schema_name) for _ in range(rng.randint(4, 8))]
            ok = {
                "200": {
                    "description": self.text.sentence(),
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{schema_name}List"},
                            "example": {
                                "items": items,
                                "nextPageToken": f"{rng.getrandbits(80):020x}",
                                "totalCount": rng.randint(len(items), 5000),
                            },
                        }
                    },
                }
            }
        elif kind == "delete":
            ok = {"204": {"description": "Deleted; no content."}}
        elif kind == "labels":
            ok = {"204": {"description": "Labels replaced."}}
        elif kind == "action":
            ok = {"202": {"description": "Accepted; poll the Location header."}}
        else:
            status = "201" if kind == "create" else "200"
            ok = {
                status: {
                    "description": self.text.sentence(),
                    "headers": {
                        "ETag": {"description": "The new version.", "schema": {"type": "string"}}
                    },
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{schema_name}"},
                            "example": self.resource_example(schema_name),
                        }
                    },
                }
            }
        responses = {
            **ok,
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
        }
        if kind != "list":
            responses["404"] = {"$ref": "#/components/responses/NotFound"}
        if kind in {"update", "delete", "create"}:
            responses["409"] = {
                "description": "The resource changed since it was read (ETag mismatch).",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"},
                        "example": {"code": "Conflict", "message": self.text.sentence()},
                    }
                },
            }
        responses["429"] = {"$ref": "#/components/responses/TooManyRequests"}
        responses["default"] = {"$ref": "#/components/responses/ServerError"}
        return responses

    def tag_quotas(self) -> list[int]:
        """Operations per tag: uneven like real APIs, at least one each, summing up exactly."""
        weights = [self.rng.uniform(0.3, 2.0) for _ in range(self.tag_count)]
        spare = self.operations - self.tag_count
        quotas = [1 + int(spare * w / sum(weights)) for w in weights]
        for position in range(self.operations - sum(quotas)):
            quotas[position % self.tag_count] += 1
        return quotas

    def document(self) -> dict[str, Any]:
        rng, text = self.rng, self.text
        components = self.shared_components()
        resources = [
            (RESOURCES[n % len(RESOURCES)], n // len(RESOURCES)) for n in range(self.tag_count)
        ]
        tag_names = []
        for (_singular, plural), round_number in resources:
            name = _title(plural) + (f" {round_number + 1}" if round_number else "")
            tag_names.append(name)
        paths: dict[str, Any] = {}
        order = 0
        for position, quota in enumerate(self.tag_quotas()):
            (singular, plural), round_number = resources[position]
            prefix = f"v{round_number + 1}-" if round_number else ""
            schema_name = _camel(singular) + (str(round_number + 1) if round_number else "")
            self.resource_schema(schema_name)
            tag = tag_names[position]
            made = 0
            for path, path_ids, methods in self.paths_of(singular, prefix + plural):
                if made >= quota:
                    break
                item: dict[str, Any] = {}
                ids_on_path_item = path_ids and rng.random() < 0.5
                if ids_on_path_item:
                    item["parameters"] = [self.parameter(name, "path") for name in path_ids]
                for method, stem, summary, kind in methods:
                    if made >= quota:
                        break
                    order += 1
                    made += 1
                    parameters = (
                        []
                        if ids_on_path_item
                        else [self.parameter(name, "path") for name in path_ids]
                    )
                    parameters += self.query_parameters(kind)
                    parameters += self.header_parameters(kind)
                    operation: dict[str, Any] = {
                        "tags": [tag],
                        "summary": summary,
                        "operationId": self.operation_id(stem),
                        "description": text.markdown(
                            title=tag, path=path, method=method, sections=rng.randint(6, 10)
                        ),
                        "parameters": parameters,
                    }
                    roll = rng.random()
                    if roll < 0.03:
                        operation["tags"].append(tag_names[rng.randrange(len(tag_names))])
                        operation["tags"] = list(dict.fromkeys(operation["tags"]))
                    elif roll < 0.035:
                        del operation["tags"]
                    if rng.random() < 0.02:
                        operation["deprecated"] = True
                    body = self.request_body(schema_name, kind)
                    if body is not None:
                        operation["requestBody"] = body
                    operation["responses"] = self.responses(schema_name, kind)
                    if rng.random() < 0.1:
                        operation["security"] = [{"bearer": []}]
                    item[method] = operation
                paths[path] = item
        components["schemas"] = self.schemas
        return {
            "openapi": self.version,
            "info": {
                "title": "Example Platform API",
                "version": "2024-06-01",
                "description": text.markdown(title="Overview", path="/", method="get", sections=8),
                "contact": {"name": "API team", "email": "api@example.com"},
                "license": {
                    "name": "Apache 2.0",
                    "url": "https://www.apache.org/licenses/LICENSE-2.0",
                },
            },
            "servers": [{"url": SERVER_URL, "description": "Production"}],
            "security": [{"subscriptionKey": []}],
            "tags": [{"name": name, "description": text.paragraph(1, 2)} for name in tag_names],
            "paths": paths,
            "components": components,
        }


def generate_document(
    *, operations: int = 1000, tags: int = 40, seed: int = 0, version: str = "3.0.3"
) -> dict:
    """A deterministic OpenAPI document with exactly `operations` operations in `tags` tags."""
    return _Generator(operations=operations, tags=tags, seed=seed, version=version).document()


def write_document(path: str | Path, **kwargs: Any) -> Path:
    """Write generate_document(**kwargs) to path: YAML for .yaml/.yml, else JSON."""
    path = Path(path)
    document = generate_document(**kwargs)
    with path.open("w", encoding="utf-8") as out:
        if path.suffix in {".yaml", ".yml"}:
            import yaml

            yaml.safe_dump(document, out, sort_keys=False, allow_unicode=True)
        else:
            json.dump(document, out)
    return path


# --- a stand-in for the importer, for page tests ---------------------------------------

_LOCATIONS = {"path": "template", "query": "query", "header": "header", "cookie": "cookie"}


def _resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _example_of(media: dict, cache: dict[int, str]) -> str:
    """The media's example as indented JSON; shared ($ref) media are encoded once."""
    if id(media) not in cache:
        value = media.get("example")
        if value is None:
            named = [e["value"] for e in (media.get("examples") or {}).values() if "value" in e]
            value = named[0] if named else None
        cache[id(media)] = "" if value is None else json.dumps(value, indent=2)
    return cache[id(media)]


def bulk_create_api(*, document: dict, slug: str, name: str | None = None):
    """Store the document's API and operations with bulk_create; returns the Api.

    Not the importer: no validation, no update of an existing API. Enough to give the
    pages an API of the document's size in a second or two.
    """
    from django.utils.text import slugify

    from catalog.models import Api, Operation, Parameter, ResponseDoc

    info = document.get("info", {})
    api = Api.objects.create(
        name=name or info.get("title", slug),
        slug=slug,
        service_url=document["servers"][0]["url"],
        description=info.get("description", ""),
        version=info.get("version", ""),
    )
    operations: list[Operation] = []
    examples: dict[int, str] = {}
    details: list[tuple[list[dict], dict]] = []
    slugs: set[str] = set()
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in ("get", "put", "post", "delete", "options", "head", "patch"):
            spec = item.get(method)
            if spec is None:
                continue
            base = slugify(spec.get("operationId") or f"{method}-{path}")[:90] or "operation"
            op_slug, number = base, 2
            while op_slug in slugs:
                op_slug, number = f"{base}-{number}", number + 1
            slugs.add(op_slug)
            body = _resolve(document, spec.get("requestBody", {}))
            content_type, media = next(iter(body.get("content", {}).items()), ("", {}))
            operations.append(
                Operation(
                    api=api,
                    name=(spec.get("summary") or spec.get("operationId") or path)[:200],
                    slug=op_slug,
                    method=method.upper(),
                    url_template=path,
                    description=spec.get("description", ""),
                    request_content_type=content_type or "application/json",
                    body_example=_example_of(media, examples),
                    order=len(operations),
                    tags=", ".join(spec.get("tags", []))[:200],
                    operation_id=spec.get("operationId", "")[:200],
                    deprecated=bool(spec.get("deprecated")),
                )
            )
            details.append(([*shared, *spec.get("parameters", [])], spec.get("responses", {})))
    Operation.objects.bulk_create(operations, batch_size=500)

    parameters: list[Parameter] = []
    responses: list[ResponseDoc] = []
    for operation, (raw_parameters, raw_responses) in zip(operations, details, strict=True):
        seen: set[tuple[str, str]] = set()
        for position, raw in enumerate(raw_parameters):
            spec = _resolve(document, raw)
            location = _LOCATIONS[spec["in"]]
            if (location, spec["name"]) in seen:
                continue
            seen.add((location, spec["name"]))
            schema = _resolve(document, spec.get("schema", {}))
            kind = schema.get("type", "string")
            kind = kind[0] if isinstance(kind, list) else kind
            default = schema.get("default", "")
            parameters.append(
                Parameter(
                    operation=operation,
                    name=spec["name"],
                    location=location,
                    required=bool(spec.get("required")),
                    default=str(default).lower() if isinstance(default, bool) else str(default),
                    allowed_values="\n".join(str(v) for v in schema.get("enum", [])),
                    type=kind if kind in TYPES else "string",
                    description=spec.get("description", ""),
                    order=position,
                )
            )
        for status, raw in raw_responses.items():
            if not status.isdigit():
                continue
            spec = _resolve(document, raw)
            content_type, media = next(iter(spec.get("content", {}).items()), ("", {}))
            responses.append(
                ResponseDoc(
                    operation=operation,
                    status_code=int(status),
                    description=spec.get("description", ""),
                    content_type=content_type,
                    example=_example_of(media, examples),
                )
            )
    Parameter.objects.bulk_create(parameters, batch_size=1000)
    ResponseDoc.objects.bulk_create(responses, batch_size=1000)
    return api
