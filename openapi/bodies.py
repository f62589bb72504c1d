"""Request bodies and responses: their media types, examples and description sections.

The preferred media type is application/json, then another JSON type, then the first.
Forms are documented as a field list; urlencoded ones get an a=1&b=2 example. Numeric
response codes become documented responses. `default` and ranges (4XX) have no status
code to store: the operation page lists them from the kept document
(catalog/response_docs.py).
Links are listed in the response's description; callbacks in the operation's.
"""

from __future__ import annotations

import re
from typing import Any

from console.body_fields import EXAMPLE_KEY, URLENCODED, XML, media_kind
from openapi.examples import FORM_MEDIA_TYPES, example_text, form_text, schema_type
from openapi.form_bodies import form_body_text
from openapi.plans import FIELD_LIMITS, ResponsePlan
from openapi.reading import METHODS, Reading, one_line, pick_media
from openapi.refs import RefError, join
from openapi.xml_examples import xml_example


def _content_type(media_type: str) -> str:
    if "*" in media_type:
        return "application/json"
    if len(media_type) > FIELD_LIMITS["content_type"]:
        media_type = media_type.split(";")[0].strip()
    return media_type[: FIELD_LIMITS["content_type"]]


class BodyReading(Reading):
    """An operation's request body and documented responses."""

    def v3_body(self, raw: Any, place: str, sections: list[str]) -> tuple[str, str]:
        resolved = self.deref(raw, place)
        if resolved is None:
            return "", ""
        body, body_place = resolved
        if not isinstance(body, dict):
            self.problem(place, "must be an object")
            return "", ""
        content = self.mapping(body, "content", body_place)
        media = pick_media(content)
        if media is None:
            return "", ""
        media_object = content[media]
        media_place = join(body_place, "content", media)
        if not isinstance(media_object, dict):
            self.problem(media_place, "must be an object")
            return "", ""
        schema_node = media_object.get("schema")
        schema_place = join(media_place, "schema")
        if media.split(";")[0].strip().lower() in FORM_MEDIA_TYPES:
            schema = self.deref(schema_node, schema_place) if schema_node is not None else None
            if schema is not None and isinstance(schema[0], dict):
                sections.append(self.form_section(media, schema[0]))
        if media.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            form = self.form_example(media_object, schema=schema_node, place=schema_place)
            if form is not None:
                return _content_type(media), form
        example = self.media_example(
            media_object, media=media, schema=schema_node, place=schema_place, request=True
        )
        return _content_type(media), example

    def add_media_examples(self, definition: dict, *, operation: dict, place: str) -> None:
        """Beside each media type of the kept requestBody, the example its Try it editor
        starts with (`x-portal-example`): the document's, else one generated from the
        schema (XML as its `xml` objects say, a urlencoded body as its fields' values).
        The page cannot generate it: examples are the import's job (openapi.examples)."""
        content = (definition.get("requestBody") or {}).get("content")
        if not isinstance(content, dict):
            return
        originals: dict = {}
        if self.v2:
            body = next(
                (
                    p
                    for p in operation.get("parameters") or []
                    if isinstance(p, dict) and p.get("in") == "body"
                ),
                None,
            )
            if body is not None:
                v2_media = {"schema": body.get("schema")}
                if "x-example" in body:
                    v2_media["example"] = body["x-example"]
                originals = {media: v2_media for media in content}
        elif "requestBody" in operation:
            resolved = self.quiet_deref(operation["requestBody"])
            request_body = resolved[0] if resolved else None
            found = request_body.get("content") if isinstance(request_body, dict) else None
            originals = found if isinstance(found, dict) else {}
        reported = len(self.problems)
        for media, kept in content.items():
            original: Any = originals.get(media)
            if not isinstance(original, dict) or not isinstance(kept, dict):
                continue
            example = self.media_example_value(media, original, place=place)
            if example not in (None, ""):
                kept[EXAMPLE_KEY] = example
        # An example that cannot be written is left out, never a problem of the import.
        del self.problems[reported:]

    def quiet_deref(self, node: Any) -> tuple[Any, str] | None:
        """deref for the editors' examples: a $ref that cannot be followed gives no
        example; the import reports its problems where it reads the body itself."""
        if not isinstance(node, dict):
            return None
        try:
            return self.resolver.deref(node, "")
        except RefError:
            return None

    def media_example_value(self, media: str, media_object: dict, *, place: str) -> Any:
        schema = media_object.get("schema")
        resolved = self.quiet_deref(schema)
        kind = media_kind(media, resolved[0] if resolved and isinstance(resolved[0], dict) else {})
        if kind == URLENCODED:
            value: Any = None
            if "example" in media_object:
                value = media_object["example"]
            elif isinstance(media_object.get("examples"), dict):
                for example in media_object["examples"].values():
                    found = self.quiet_deref(example)
                    if found and isinstance(found[0], dict) and "value" in found[0]:
                        value = found[0]["value"]
                        break
            elif schema is not None:
                value = self.examples.generate(schema, request=True)
            return value if isinstance(value, dict) else None
        if kind == XML:
            literal = media_object.get("example")
            if isinstance(literal, str):
                return literal
            if schema is None:
                return None
            value = self.examples.generate(schema, request=True)
            return xml_example(schema, value=value, definitions=self.document)
        if kind in {"json", "text"}:
            return self.media_example(
                media_object, media=media, schema=schema, place=place, request=True
            )
        return None

    def form_example(self, media_object: dict, *, schema: Any, place: str) -> str | None:
        """A urlencoded body's example, written as the media type's `encoding` says
        (openapi/form_bodies.py); None when the example is not an object of fields."""
        value: Any = None
        if "example" in media_object:
            value = media_object["example"]
        elif isinstance(media_object.get("examples"), dict):
            for example in media_object["examples"].values():
                resolved = self.deref(example, place)
                if resolved and isinstance(resolved[0], dict) and "value" in resolved[0]:
                    value = resolved[0]["value"]
                    break
        elif schema is not None:
            value = self.examples.generate(schema, request=True)
        if not isinstance(value, dict):
            return None
        encoding = media_object.get("encoding")
        return form_body_text(value, encoding=encoding if isinstance(encoding, dict) else None)

    def v2_body(
        self,
        operation: dict,
        body: tuple[dict, str] | None,
        form: list[tuple[dict, str]],
        sections: list[str],
    ) -> tuple[str, str]:
        consumes = operation.get("consumes", self.document.get("consumes"))
        consumes = [c for c in consumes if isinstance(c, str)] if isinstance(consumes, list) else []
        if body is not None:
            parameter, _ = body
            media = pick_media(consumes) or "application/json"
            schema = parameter.get("schema")
            example = None
            if "x-example" in parameter:
                example = parameter["x-example"]
            if example is not None:
                text = example_text(example, media=media)
            else:
                text = self.examples.schema_example_text(schema, media=media, request=True)
            return _content_type(media), text
        if form:
            multipart = any(p.get("type") == "file" for p, _ in form) or (
                "multipart/form-data" in consumes
                and "application/x-www-form-urlencoded" not in consumes
            )
            media = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
            properties = {p["name"]: p for p, _ in form}
            required = [p["name"] for p, _ in form if p.get("required") is True]
            schema = {"type": "object", "properties": properties, "required": required}
            sections.append(self.form_section(media, schema))
            value = self.examples.generate(schema, request=True)
            return media, "" if multipart else form_text(value)
        return "", ""

    def form_section(self, media: str, schema: dict) -> str:
        required = found if isinstance(found := schema.get("required"), list) else []
        lines = [f"**Form fields** (`{media}`)", ""]
        properties = schema.get("properties")
        if not isinstance(properties, dict) or not properties:
            return ""
        for name, prop in list(properties.items())[:100]:
            resolved = self.deref(prop, "") or ({}, "")
            prop = resolved[0] if isinstance(resolved[0], dict) else {}
            kind = schema_type(prop) or "string"
            flags = ", required" if name in required else ""
            text = one_line(prop.get("description", "")) if isinstance(prop, dict) else ""
            lines.append(f"- `{name}` ({kind}{flags})" + (f": {text}" if text else ""))
        return "\n".join(lines)

    # -- responses

    def response_plans(
        self, responses: dict, place: str, operation: dict, sections: list[str]
    ) -> list[ResponsePlan]:
        plans: list[ResponsePlan] = []
        produces = operation.get("produces", self.document.get("produces"))
        produces = [p for p in produces if isinstance(p, str)] if isinstance(produces, list) else []
        for code, raw in responses.items():
            code_text = str(code).strip()
            response_place = join(place, code_text)
            if code_text.startswith("x-"):
                continue
            resolved = self.deref(raw, response_place)
            if resolved is None:
                continue
            response, resolved_place = resolved
            if not isinstance(response, dict):
                self.problem(response_place, "a response must be an object")
                continue
            description = self.string(response, "description", resolved_place).strip()
            if code_text == "default" or re.fullmatch(r"[1-5]XX", code_text, re.IGNORECASE):
                continue
            if not re.fullmatch(r"[1-5][0-9][0-9]", code_text):
                self.problem(
                    response_place,
                    "a response code must be a status code (100-599), a range such as 4XX, "
                    "or default",
                )
                continue
            links = response.get("links")
            if isinstance(links, dict) and links:
                description += "\n\n" + self.links_text(links)
            content_type, example = self.response_example(response, resolved_place, produces)
            plans.append(
                ResponsePlan(
                    status_code=int(code_text),
                    description=description,
                    content_type=content_type,
                    example=example,
                )
            )
        return plans

    def response_example(self, response: dict, place: str, produces: list[str]) -> tuple[str, str]:
        media: str | None
        if self.v2:
            schema = response.get("schema")
            examples = response.get("examples")
            if isinstance(examples, dict) and examples:
                media = pick_media(examples) or "application/json"
                return _content_type(media), example_text(examples[media], media=media)
            if schema is None:
                return "", ""
            media = pick_media(produces) or "application/json"
            text = self.examples.schema_example_text(schema, media=media, request=False)
            return _content_type(media), text
        content = self.mapping(response, "content", place)
        media = pick_media(content)
        if media is None:
            return "", ""
        media_object = content[media]
        media_place = join(place, "content", media)
        if not isinstance(media_object, dict):
            self.problem(media_place, "must be an object")
            return "", ""
        example = self.media_example(
            media_object,
            media=media,
            schema=media_object.get("schema"),
            place=join(media_place, "schema"),
            request=False,
        )
        return _content_type(media), example

    def links_text(self, links: dict) -> str:
        lines = ["Links:"]
        for name, raw in links.items():
            link = (self.deref(raw, "") or ({}, ""))[0]
            target = description = ""
            if isinstance(link, dict):
                target = link.get("operationId") or link.get("operationRef") or ""
                description = one_line(str(link.get("description") or ""))
            lines.append(
                f"- {name}"
                + (f" → `{target}`" if target else "")
                + (f": {description}" if description else "")
            )
        return "\n".join(lines)

    def callback_section(self, callbacks: dict) -> str:
        lines = ["**Callbacks** (requests the API sends; not imported)", ""]
        for name, raw in callbacks.items():
            self.callbacks += 1
            callback = (self.deref(raw, "") or ({}, ""))[0]
            if not isinstance(callback, dict):
                continue
            for expression, item in callback.items():
                item = (self.deref(item, "") or ({}, ""))[0]
                methods = (
                    [m.upper() for m in item if m in METHODS] if isinstance(item, dict) else []
                )
                lines.append(f"- `{name}`: {' '.join(methods) or '?'} `{expression}`")
        return "\n".join(lines)

    # -- examples

    def media_example(
        self, media_object: dict, *, media: str, schema: Any, place: str, request: bool
    ) -> str:
        """The media type's example, else the first of its examples, else the schema's."""
        if "example" in media_object:
            return example_text(media_object["example"], media=media)
        examples = media_object.get("examples")
        if isinstance(examples, dict):
            for example in examples.values():
                resolved = self.deref(example, place)
                if resolved and isinstance(resolved[0], dict) and "value" in resolved[0]:
                    return example_text(resolved[0]["value"], media=media)
        if schema is None:
            return ""
        return self.examples.schema_example_text(schema, media=media, request=request)
