"""An operation's parameters and URL template.

Path parameters become the template's placeholders: names that are not placeholder names
(templating.PLACEHOLDER_NAME) are renamed (`$filter` → `filter`, `1st` → `p_1st`) in the
template and the parameter, whose description gives the original; undeclared
placeholders get a parameter. Header parameters Accept and Content-Type are ignored (as
OpenAPI says); headers the portal refuses (Host, Cookie...) are skipped with a note.
Names that carry credentials and `format: password` make a parameter secret.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from catalog.models import ParameterLocation, ParameterType
from httpcore.masking import is_secret_name
from httpcore.templating import PLACEHOLDER_NAME, TemplateError, parse_template
from openapi.examples import schema_type, value_text
from openapi.plans import ParameterPlan
from openapi.reading import Reading, pick_media
from openapi.refs import join

# OpenAPI: header parameters with these names are ignored (the body's media type and
# the security schemes say them).
IGNORED_HEADER_PARAMETERS = {"accept", "content-type"}
TYPES = {
    "integer": ParameterType.INTEGER,
    "number": ParameterType.NUMBER,
    "boolean": ParameterType.BOOLEAN,
}
# Parameter names that carry credentials, besides those httpcore.masking knows.
SECRET_NAME = re.compile(
    r"api[-_]?key|access[-_]?token|auth[-_]?token|secret|password|passwd|subscription[-_]?key",
    re.IGNORECASE,
)
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_LITERAL_SAFE = "/-._~!$&'()*+,;=:@%?"


def _placeholder(name: str, used: set[str]) -> str:
    """A valid, unused URL template placeholder name for a path parameter."""
    if PLACEHOLDER_NAME.match(name) and name not in used:
        return name
    candidate = re.sub(r"[^A-Za-z0-9_.\-]", "_", name).strip("_") or "param"
    if not re.match(r"[A-Za-z_]", candidate):
        candidate = f"p_{candidate}"
    candidate = candidate[:190]
    unique, counter = candidate, 2
    while unique in used:
        unique, counter = f"{candidate}_{counter}", counter + 1
    return unique


def _encode_literal(text: str) -> str:
    return quote(text, safe=_LITERAL_SAFE)


class ParameterReading(Reading):
    """An operation's parameters and URL template."""

    def merged_parameters(
        self, *, item: dict, operation: dict, place: str
    ) -> list[tuple[dict, str]]:
        """Path-level and operation-level parameters, the operation's winning on name+in."""
        item_place = place.rsplit("/", 1)[0]
        merged: dict[tuple[str, str], tuple[dict, str]] = {}
        self.used_at = {}
        for owner, owner_place in ((item, item_place), (operation, place)):
            for index, raw in enumerate(self.sequence(owner, "parameters", owner_place)):
                raw_place = join(owner_place, "parameters", index)
                resolved = self.deref(raw, raw_place)
                if resolved is None:
                    continue
                parameter, parameter_place = resolved
                if not isinstance(parameter, dict):
                    self.problem(raw_place, "a parameter must be an object")
                    continue
                name, where = parameter.get("name"), parameter.get("in")
                if not isinstance(name, str) or not name:
                    self.problem(join(parameter_place, "name"), "required")
                    continue
                allowed = (
                    {"path", "query", "header", "body", "formData"}
                    if self.v2
                    else {"path", "query", "header", "cookie", "querystring"}
                )
                if where not in allowed:
                    listed = ", ".join(sorted(allowed))
                    message = "required" if where is None else f"must be one of {listed}"
                    self.problem(join(parameter_place, "in"), message)
                    continue
                if where == "querystring":
                    self.note(f"{parameter_place}: querystring parameter {name!r} not imported.")
                    continue
                if len(name) > 200:
                    self.problem(join(parameter_place, "name"), "longer than 200 characters")
                    continue
                # The operation's definition replaces the path's, in the path's place.
                merged[(name, where)] = (parameter, parameter_place)
                # Where it is used: a shared parameter's definition serves many paths.
                self.used_at[(name, where)] = raw_place
        return list(merged.values())

    def url_template(
        self, *, path: str, declared: list[tuple[dict, str]], place: str
    ) -> tuple[str, list[ParameterPlan]]:
        """The operation's URL template, with a required parameter per path placeholder.

        A fragment (`/files/{id}#remove`, a way to document two operations on one path) is
        never sent: it names the operation, the request goes to the path before it.
        """
        path = path.partition("#")[0] or "/"
        path_parameters = {
            parameter["name"]: (parameter, parameter_place)
            for parameter, parameter_place in declared
            if parameter.get("in") == "path"
        }
        used: set[str] = set()
        pieces: list[str] = []
        plans: list[ParameterPlan] = []
        position = 0
        written: set[str] = set()
        for match in PLACEHOLDER.finditer(path):
            pieces.append(_encode_literal(path[position : match.start()]))
            position = match.end()
            original = match.group(1)
            if original in written:
                self.problem(place, f"the path {path!r} uses {{{original}}} twice")
                continue
            written.add(original)
            mapped = _placeholder(original, used)
            used.add(mapped)
            pieces.append("{" + mapped + "}")
            found = path_parameters.get(original)
            if found is not None:
                plan = self.parameter_plan(found[0], found[1]) or ParameterPlan(
                    name=original, location=ParameterLocation.TEMPLATE
                )
            else:
                plan = ParameterPlan(name=original, location=ParameterLocation.TEMPLATE)
            plan.name = mapped
            plan.location = ParameterLocation.TEMPLATE
            plan.required = True
            if mapped != original:
                self.renamed += 1
                plan.description = (
                    f"{plan.description} (`{original}` in the OpenAPI document.)".strip()
                )
            plans.append(plan)
        pieces.append(_encode_literal(path[position:]))
        if "{" in PLACEHOLDER.sub("", path) or "}" in PLACEHOLDER.sub("", path):
            self.problem(place, f"the path {path!r} has an unmatched '{{' or '}}'")
        template = "".join(pieces)
        for name, (_, parameter_place) in path_parameters.items():
            if name not in written:
                self.problem(
                    join(self.used_at.get((name, "path"), parameter_place), "name"),
                    f"path parameter {name!r} is not in the path {path!r}",
                )
        if len(template) > 1000:
            self.problem(place, "the path is longer than 1000 characters")
        else:
            try:
                parse_template(template)
            except TemplateError as error:
                self.problem(place, f"the path {path!r} cannot be a URL template: {error}")
        return template, plans

    def parameter_schema(self, parameter: dict, place: str) -> tuple[dict, str]:
        """The parameter's schema (2.0: the parameter itself), resolved."""
        if self.v2:
            return parameter, place
        schema, schema_place = parameter.get("schema"), join(place, "schema")
        if schema is None and isinstance(parameter.get("content"), dict):
            content = parameter["content"]
            media = pick_media(content)
            if media is not None and isinstance(content[media], dict):
                schema = content[media].get("schema")
                schema_place = join(place, "content", media, "schema")
        resolved = self.deref(schema, schema_place) if schema is not None else None
        if resolved is None or not isinstance(resolved[0], dict):
            return {}, schema_place
        return resolved

    def parameter_plan(self, parameter: dict, place: str) -> ParameterPlan | None:
        name = parameter["name"]
        where = parameter["in"]
        location = {
            "path": ParameterLocation.TEMPLATE,
            "query": ParameterLocation.QUERY,
            "header": ParameterLocation.HEADER,
            "cookie": ParameterLocation.COOKIE,
        }[where]
        if location == ParameterLocation.COOKIE:
            self.note_portal_cookie(name)
        if location == ParameterLocation.HEADER:
            if name.lower() in IGNORED_HEADER_PARAMETERS:
                return None
            if not self.sendable_header(name):
                return None
        schema, _ = self.parameter_schema(parameter, place)
        kind = schema_type(schema)
        default: Any = None
        for source in (schema, parameter):
            if "default" in source:
                default = source["default"]
                break
        else:
            default = self.parameter_example(parameter, schema)
        required = parameter.get("required") is True or where == "path"
        constrained = any(
            key in schema for key in ("pattern", "minLength", "maxLength", "format", "minimum")
        ) or schema_type(schema) in {"array", "object"}
        if default is None and required and constrained and schema.get("format") != "password":
            # A required value the document gives no example of: one valid for its schema
            # (a pattern's digits, its bounds), so Send works without a guess.
            default = self.examples.generate(schema, request=True)
        enum = schema.get("enum") if kind not in {"array", "object"} else None
        allowed = []
        if isinstance(enum, list):
            allowed = list(dict.fromkeys(v for v in (value_text(x) for x in enum) if v.strip()))
        description = self.string(parameter, "description", place)
        if parameter.get("deprecated") is True:
            description = f"Deprecated. {description}".strip()
        default_text = value_text(default)
        if len(default_text) > 2000:
            default_text = ""
        return ParameterPlan(
            name=name,
            location=location,
            required=parameter.get("required") is True or where == "path",
            type=TYPES.get(kind, ParameterType.STRING),
            default=default_text,
            allowed_values="\n".join(allowed),
            description=description,
            secret=schema.get("format") == "password"
            or (
                location != ParameterLocation.TEMPLATE
                and (is_secret_name(name) or bool(SECRET_NAME.search(name)))
            ),
        )

    def parameter_example(self, parameter: dict, schema: dict) -> Any:
        for source in (parameter, schema):
            if "example" in source:
                return source["example"]
            if "x-example" in source:
                return source["x-example"]
        examples = parameter.get("examples")
        if isinstance(examples, dict):
            for example in examples.values():
                resolved = self.deref(example, "")
                if resolved and isinstance(resolved[0], dict) and "value" in resolved[0]:
                    return resolved[0]["value"]
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            return schema["examples"][0]
        return None
