"""Each operation's documented definition, kept beside the form's fields.

Swagger 2.0 and OpenAPI 3 are normalised to one OpenAPI 3 shape (docs/design.md,
"Documented schemas"): parameters with explicit `style` and `explode`, one
`requestBody`, responses by status code with `content`, the effective `security`.
Everything but schemas is resolved; a schema `$ref` is rewritten to point into the API's
definitions (`#/components/schemas/...`), and one that points anywhere else is inlined.
"""

from __future__ import annotations

from typing import Any

from openapi.reading import Reading
from openapi.refs import LITERAL_KEYS, RefError, escape, unescape

SCHEMAS_PREFIX = "#/components/schemas/"
V2_SCHEMAS_PREFIX = "#/definitions/"
# OpenAPI 3 semantics for documents read as 2.0: 2.0's schemas are a subset of 3.0's.
V2_AS = "3.0.3"
# Deeper than any real document nests inline schemas; past it a node is cut to {}.
MAX_SCHEMA_DEPTH = 64
# A 2.0 parameter's schema keywords (the parameter object is its own schema there).
_V2_SCHEMA_KEYS = (
    "type",
    "format",
    "items",
    "enum",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
)
# collectionFormat → (style, explode); tsv has no OpenAPI 3 style.
_COLLECTION_FORMATS = {
    "csv": ("form", False),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "multi": ("form", True),
}
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
_DEFAULT_STYLES = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}


def default_style(where: str) -> str:
    return _DEFAULT_STYLES.get(where, "form")


class DefinitionReading(Reading):
    """The normalised definitions of the API and of each operation."""

    # name → (the scheme, its pointer): SecurityReading reads them first.
    security_schemes: dict[str, tuple[dict, str]]

    def api_definitions(self) -> dict[str, Any]:
        components: dict[str, Any] = {}
        if self.v2:
            schemas = self.document.get("definitions")
            raw_schemes = self.document.get("securityDefinitions")
        else:
            found = self.document.get("components")
            found = found if isinstance(found, dict) else {}
            schemas = found.get("schemas")
            raw_schemes = found.get("securitySchemes")
        if isinstance(schemas, dict):
            components["schemas"] = {
                str(name): self.portable_schema(schema)
                for name, schema in schemas.items()
                if isinstance(schema, dict | bool)
            }
        schemes = {
            name: self.portable_scheme(scheme)
            for name, (scheme, _) in self.security_schemes.items()
        }
        if schemes or isinstance(raw_schemes, dict):
            components["securitySchemes"] = schemes
        version = V2_AS if self.v2 else str(self.document.get("openapi", ""))
        return {"openapi": version, "components": components}

    def portable_scheme(self, scheme: dict) -> dict[str, Any]:
        """A security scheme in OpenAPI 3's words (2.0's basic and oauth2 flows renamed)."""
        if not self.v2:
            return dict(scheme)
        kind = scheme.get("type")
        described = {k: v for k, v in scheme.items() if k == "description" or k.startswith("x-")}
        if kind == "basic":
            return {"type": "http", "scheme": "basic", **described}
        if kind == "oauth2":
            flow = {
                "implicit": "implicit",
                "password": "password",
                "application": "clientCredentials",
                "accessCode": "authorizationCode",
            }.get(str(scheme.get("flow")), "")
            body: dict[str, Any] = {"scopes": scheme.get("scopes") or {}}
            for key in ("authorizationUrl", "tokenUrl"):
                if isinstance(scheme.get(key), str):
                    body[key] = scheme[key]
            return {"type": "oauth2", "flows": {flow: body} if flow else {}, **described}
        return dict(scheme)

    # -- schemas

    def portable_schema(self, schema: Any, *, depth: int = 0, inlining: tuple = ()) -> Any:
        """The schema with its $refs pointing into the API's definitions."""
        if depth > MAX_SCHEMA_DEPTH:
            return {}
        if isinstance(schema, list):
            return [
                self.portable_schema(item, depth=depth + 1, inlining=inlining) for item in schema
            ]
        if not isinstance(schema, dict):
            return schema
        result: dict[str, Any] = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                rewritten = self.portable_ref(value)
                if rewritten is not None:
                    result[key] = rewritten
                    continue
                return self.inlined(value, depth=depth, inlining=inlining)
            if key in LITERAL_KEYS or key == "examples" or key.startswith("x-"):
                result[key] = value
            elif key == "type" and value == "file":
                # 2.0's file: a binary string, what 3.0 writes for an uploaded file.
                result[key] = "string"
                result["format"] = "binary"
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                # Names chosen by the author: a property may be called "default" or "$ref".
                result[key] = {
                    name: self.portable_schema(item, depth=depth + 1, inlining=inlining)
                    for name, item in value.items()
                }
            else:
                result[key] = self.portable_schema(value, depth=depth + 1, inlining=inlining)
        if self.v2 and schema.get("x-nullable") is True:
            result["nullable"] = True
        return result

    def portable_ref(self, ref: str) -> str | None:
        """The ref as a pointer into the API's definitions; None for one elsewhere."""
        ref = self.resolver.normalise(ref)
        prefix = V2_SCHEMAS_PREFIX if self.v2 else SCHEMAS_PREFIX
        if not ref.startswith(prefix):
            return None
        name, _, rest = ref[len(prefix) :].partition("/")
        if not name:
            return None
        # Only a whole definition: a pointer inside one is inlined.
        if rest:
            return None
        return SCHEMAS_PREFIX + escape(unescape(name))

    def inlined(self, ref: str, *, depth: int, inlining: tuple) -> Any:
        if ref in inlining:
            return {}
        try:
            target, _ = self.resolver.lookup(ref)
        except RefError:
            return {}
        return self.portable_schema(target, depth=depth + 1, inlining=(*inlining, ref))

    # -- operations

    def operation_definition(
        self,
        *,
        operation: dict,
        parameters: list[tuple[dict, str]],
        security: Any,
    ) -> dict[str, Any]:
        definition: dict[str, Any] = {}
        listed: list[dict[str, Any]] = []
        form: list[dict] = []
        body: dict | None = None
        for parameter, _ in parameters:
            where = parameter.get("in")
            if where == "body":
                body = parameter
            elif where == "formData":
                form.append(parameter)
            elif isinstance(where, str):
                listed.append(self.portable_parameter(parameter))
        if listed:
            definition["parameters"] = listed
        request_body = (
            self.v2_request_body(operation, body, form)
            if self.v2
            else self.v3_request_body(operation.get("requestBody"))
        )
        if request_body:
            definition["requestBody"] = request_body
        responses = operation.get("responses")
        if isinstance(responses, dict):
            definition["responses"] = self.portable_responses(responses, operation)
        if isinstance(security, list):
            definition["security"] = [item for item in security if isinstance(item, dict)]
        return definition

    def portable_parameter(self, parameter: dict) -> dict[str, Any]:
        where = str(parameter.get("in"))
        result: dict[str, Any] = {
            "name": parameter.get("name"),
            "in": where,
            "required": parameter.get("required") is True or where == "path",
        }
        if self.v2:
            schema = {k: parameter[k] for k in _V2_SCHEMA_KEYS if k in parameter}
            style, explode = default_style(where), where in {"query", "cookie"}
            collection = parameter.get("collectionFormat", "csv")
            if schema.get("type") == "array" and collection in _COLLECTION_FORMATS:
                style, explode = _COLLECTION_FORMATS[collection]
                if where in {"path", "header"}:
                    style = "simple"
            result["schema"] = self.portable_schema(schema)
            result["style"], result["explode"] = style, explode
            if "x-example" in parameter:
                result["example"] = parameter["x-example"]
            return result
        given_style, given_explode = parameter.get("style"), parameter.get("explode")
        style = given_style if isinstance(given_style, str) else default_style(where)
        result["style"] = style
        result["explode"] = given_explode if isinstance(given_explode, bool) else style == "form"
        if parameter.get("allowReserved") is True:
            result["allowReserved"] = True
        if "schema" in parameter:
            result["schema"] = self.portable_schema(parameter["schema"])
        content = parameter.get("content")
        if isinstance(content, dict):
            result["content"] = {
                str(media): {"schema": self.portable_schema(media_object.get("schema", {}))}
                for media, media_object in content.items()
                if isinstance(media_object, dict)
            }
        if "example" in parameter:
            result["example"] = parameter["example"]
        examples = self.portable_examples(parameter.get("examples"))
        if examples:
            result["examples"] = examples
        return result

    def portable_examples(self, examples: Any) -> dict[str, Any]:
        """Named examples, resolved: {name: {"summary"?, "value"}}; external ones left out."""
        if not isinstance(examples, dict):
            return {}
        result: dict[str, Any] = {}
        for name, raw in examples.items():
            try:
                example, _ = self.resolver.deref(raw, "")
            except RefError:
                continue
            if not isinstance(example, dict) or "value" not in example:
                continue
            kept = {"value": example["value"]}
            if isinstance(example.get("summary"), str):
                kept["summary"] = example["summary"]
            result[str(name)] = kept
        return result

    def portable_media(self, media_object: dict) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if "schema" in media_object:
            result["schema"] = self.portable_schema(media_object["schema"])
        if "example" in media_object:
            result["example"] = media_object["example"]
        examples = self.portable_examples(media_object.get("examples"))
        if examples:
            result["examples"] = examples
        encoding = media_object.get("encoding")
        if isinstance(encoding, dict):
            result["encoding"] = {
                str(name): {
                    k: v
                    for k, v in entry.items()
                    if k in {"contentType", "style", "explode", "allowReserved"}
                }
                for name, entry in encoding.items()
                if isinstance(entry, dict)
            }
        return result

    def v3_request_body(self, raw: Any) -> dict[str, Any]:
        try:
            body, _ = self.resolver.deref(raw, "")
        except RefError:
            return {}
        if not isinstance(body, dict):
            return {}
        content = body.get("content")
        if not isinstance(content, dict):
            return {}
        return {
            "required": body.get("required") is True,
            "content": {
                str(media): self.portable_media(media_object)
                for media, media_object in content.items()
                if isinstance(media_object, dict)
            },
        }

    def v2_consumes(self, operation: dict) -> list[str]:
        consumes = operation.get("consumes", self.document.get("consumes"))
        if not isinstance(consumes, list):
            return []
        return [c for c in consumes if isinstance(c, str)]

    def v2_request_body(
        self, operation: dict, body: dict | None, form: list[dict]
    ) -> dict[str, Any]:
        consumes = self.v2_consumes(operation)
        if body is not None:
            schema = self.portable_schema(body.get("schema", {}))
            media_types = [c for c in consumes if "form" not in c.lower()] or ["application/json"]
            media_object: dict[str, Any] = {"schema": schema}
            if "x-example" in body:
                media_object["example"] = body["x-example"]
            return {
                "required": body.get("required") is True,
                "content": {media: dict(media_object) for media in media_types},
            }
        if not form:
            return {}
        properties = {}
        for parameter in form:
            schema = {k: parameter[k] for k in _V2_SCHEMA_KEYS if k in parameter}
            if parameter.get("description"):
                schema["description"] = parameter["description"]
            properties[str(parameter.get("name"))] = self.portable_schema(schema)
        required = [str(p.get("name")) for p in form if p.get("required") is True]
        object_schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            object_schema["required"] = required
        has_file = any(p.get("type") == "file" for p in form)
        media_types = [
            c for c in consumes if c in {"multipart/form-data", "application/x-www-form-urlencoded"}
        ]
        if has_file or not media_types:
            media_types = (
                ["multipart/form-data"] if has_file else ["application/x-www-form-urlencoded"]
            )
        encoding = {}
        for parameter in form:
            collection = parameter.get("collectionFormat")
            if parameter.get("type") == "array" and collection in _COLLECTION_FORMATS:
                style, explode = _COLLECTION_FORMATS[str(collection)]
                encoding[str(parameter.get("name"))] = {"style": style, "explode": explode}
        media: dict[str, Any] = {"schema": object_schema}
        if encoding:
            media["encoding"] = encoding
        return {"required": bool(required), "content": {m: dict(media) for m in media_types}}

    def portable_responses(self, responses: dict, operation: dict) -> dict[str, Any]:
        produces = operation.get("produces", self.document.get("produces"))
        produces = [p for p in produces if isinstance(p, str)] if isinstance(produces, list) else []
        result: dict[str, Any] = {}
        for code, raw in responses.items():
            code_text = str(code).strip()
            if code_text.startswith("x-"):
                continue
            try:
                response, _ = self.resolver.deref(raw, "")
            except RefError:
                continue
            if not isinstance(response, dict):
                continue
            entry: dict[str, Any] = {}
            if isinstance(response.get("description"), str):
                entry["description"] = response["description"]
            if self.v2:
                content: dict[str, Any] = {}
                examples = response.get("examples")
                schema = response.get("schema")
                for media in produces or ["application/json"]:
                    media_object: dict[str, Any] = {}
                    if schema is not None:
                        media_object["schema"] = self.portable_schema(schema)
                    if isinstance(examples, dict) and media in examples:
                        media_object["example"] = examples[media]
                    if media_object:
                        content[media] = media_object
                if content:
                    entry["content"] = content
            elif isinstance(response.get("content"), dict):
                entry["content"] = {
                    str(media): self.portable_media(media_object)
                    for media, media_object in response["content"].items()
                    if isinstance(media_object, dict)
                }
            result[code_text] = entry
        return result
