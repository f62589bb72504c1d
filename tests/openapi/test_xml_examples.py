"""XML examples as the schema's `xml` objects say."""

from __future__ import annotations

from openapi.xml_examples import xml_example

DEFINITIONS = {
    "components": {
        "schemas": {
            "Book": {
                "type": "object",
                "properties": {
                    "isbn": {"type": "string", "xml": {"attribute": True, "name": "ISBN"}},
                    "title": {"type": "string"},
                    "authors": {
                        "type": "array",
                        "items": {"type": "string", "xml": {"name": "author"}},
                    },
                    "lang": {
                        "type": "string",
                        "xml": {"attribute": True, "prefix": "x", "namespace": "urn:x"},
                    },
                },
            }
        }
    }
}


def test_an_unwrapped_array_repeats_its_items_and_text_is_escaped() -> None:
    value = {"isbn": "1&2", "title": "<Dune>", "authors": ["F", "H"], "lang": "en"}
    text = xml_example({"$ref": "#/components/schemas/Book"}, value=value, definitions=DEFINITIONS)
    assert text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Book ISBN="1&amp;2" x:lang="en" xmlns:x="urn:x">\n'
        "  <title>&lt;Dune&gt;</title>\n"
        "  <author>F</author>\n"
        "  <author>H</author>\n"
        "</Book>"
    )


def test_a_name_that_is_not_an_xml_name_is_replaced() -> None:
    schema = {"type": "object", "xml": {"name": "a b><c"}, "properties": {"1x": {"type": "string"}}}
    text = xml_example(schema, value={"1x": "v"}, definitions={})
    assert text.endswith("<root>\n  <item>v</item>\n</root>")
