"""Urlencoded bodies written as their document's `encoding` says (openapi/form_bodies.py)."""

from __future__ import annotations

from openapi.form_bodies import form_body_text
from openapi.reader import read_document

DEEP = {"style": "deepObject", "explode": True}


def test_deep_objects_nest_their_names_in_brackets() -> None:
    value = {
        "mode": "payment",
        "after_expiration": {"recovery": {"enabled": True}},
        "line_items": [{"price": "price_1", "quantity": 2}],
    }
    text = form_body_text(value, encoding={"after_expiration": DEEP, "line_items": DEEP})
    assert text == (
        "mode=payment&after_expiration[recovery][enabled]=true"
        "&line_items[0][price]=price_1&line_items[0][quantity]=2"
    )


def test_the_defaults_repeat_arrays_and_spread_objects() -> None:
    value = {"tag": ["a b", "c&d"], "point": {"x": 1, "y": 2}, "note": "50% off"}
    assert form_body_text(value) == "tag=a%20b&tag=c%26d&x=1&y=2&note=50%25%20off"


def test_unexploded_and_delimited_arrays_are_one_value() -> None:
    value = {"ids": [1, 2], "words": ["x", "y"], "bars": ["p", "q"]}
    encoding = {
        "ids": {"style": "form", "explode": False},
        "words": {"style": "spaceDelimited", "explode": False},
        "bars": {"style": "pipeDelimited", "explode": False},
    }
    assert form_body_text(value, encoding=encoding) == "ids=1%2C2&words=x%20y&bars=p%7Cq"


def test_the_import_prefills_a_stripe_style_body_with_brackets_not_json() -> None:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Pay", "version": "1"},
        "servers": [{"url": "https://pay.example.com"}],
        "paths": {
            "/sessions": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {"type": "object"},
                                "encoding": {"after_expiration": DEEP},
                                "example": {"after_expiration": {"recovery": {"enabled": True}}},
                            }
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    (operation,) = read_document(document=document).operations
    assert operation.request_content_type == "application/x-www-form-urlencoded"
    assert operation.body_example == "after_expiration[recovery][enabled]=true"
