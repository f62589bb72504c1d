"""An XML body example written from a schema and a generated value, as the schema's
`xml` objects say: `name`, `attribute`, `wrapped` (arrays), `namespace` and `prefix`.

No kept library writes OpenAPI's `xml` rules (xmltodict and dicttoxml map dicts to
elements but know nothing of attributes chosen by a schema, wrapped arrays or
prefixes), so this small writer does (docs/design.md, "Body types"). It only writes:
nothing here parses XML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from catalog.documents import followed
from console.form_encoding import value_text

MAX_DEPTH = 32
_NAME = re.compile(r"[A-Za-z_][\w.-]*\Z")


def _safe_name(name: str, fallback: str) -> str:
    return name if _NAME.match(name) else fallback


def _xml_of(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    xml = schema.get("xml")
    return xml if isinstance(xml, Mapping) else {}


def _qualified(name: str, xml: Mapping[str, Any]) -> tuple[str, str]:
    """The element or attribute name with its prefix, and its namespace declaration."""
    prefix = xml.get("prefix")
    namespace = xml.get("namespace")
    qualified = f"{prefix}:{name}" if isinstance(prefix, str) and _NAME.match(prefix) else name
    declaration = ""
    if isinstance(namespace, str) and namespace:
        key = f"xmlns:{prefix}" if qualified != name else "xmlns"
        declaration = f" {key}={quoteattr(namespace)}"
    return qualified, declaration


def _text(value: Any) -> str:
    return escape(value_text(value))


class _Writer:
    def __init__(self, definitions: Mapping[str, Any]) -> None:
        self.definitions = definitions
        self.lines: list[str] = []

    def element(self, name: str, raw_schema: Any, value: Any, depth: int) -> None:
        schema = followed(raw_schema, self.definitions)
        xml = _xml_of(schema)
        tag, declaration = _qualified(_safe_name(str(xml.get("name") or name), name), xml)
        indent = "  " * depth
        if depth > MAX_DEPTH:
            return
        if isinstance(value, list):
            # An array property: its items repeated, inside one element when wrapped.
            items = schema.get("items")
            item_xml = _xml_of(followed(items, self.definitions))
            item_name = str(item_xml.get("name") or xml.get("name") or name)
            if xml.get("wrapped") is True:
                self.lines.append(f"{indent}<{tag}{declaration}>")
                for item in value:
                    self.element(item_name, items, item, depth + 1)
                self.lines.append(f"{indent}</{tag}>")
            else:
                for item in value:
                    self.element(item_name, items, item, depth)
            return
        if not isinstance(value, Mapping):
            self.lines.append(f"{indent}<{tag}{declaration}>{_text(value)}</{tag}>")
            return
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        attributes, children = [], []
        for key, item in value.items():
            prop = followed(properties.get(key), self.definitions)
            prop_xml = _xml_of(prop)
            if prop_xml.get("attribute") is True and not isinstance(item, Mapping | list):
                attr_name = _safe_name(str(prop_xml.get("name") or key), "attribute")
                qualified, attr_declaration = _qualified(attr_name, prop_xml)
                attributes.append(f" {qualified}={quoteattr(value_text(item))}{attr_declaration}")
            else:
                children.append((str(key), properties.get(key), item))
        opening = f"{indent}<{tag}{declaration}{''.join(attributes)}"
        if not children:
            self.lines.append(f"{opening}/>")
            return
        self.lines.append(f"{opening}>")
        for key, child_schema, item in children:
            self.element(_safe_name(key, "item"), child_schema, item, depth + 1)
        self.lines.append(f"{indent}</{tag}>")


def _root_name(schema: Any) -> str:
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    if isinstance(ref, str):
        return _safe_name(ref.rsplit("/", 1)[-1], "root")
    return "root"


def xml_example(schema: Any, *, value: Any, definitions: Mapping[str, Any]) -> str:
    """The XML text of value, written as schema's `xml` objects say; the root element is
    named by the schema's `xml.name`, else its component's name, else `root`."""
    writer = _Writer(definitions)
    writer.element(_root_name(schema), schema, value, 0)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(writer.lines)
