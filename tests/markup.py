"""Typed look-ups in the HTML (BeautifulSoup) and XML (ElementTree) the portal writes.

Both libraries type what a look-up may not find as optional, and bs4 types an attribute
as a string or a list of them (class, rel and the other multi-valued attributes). A test
that needs the element, or one attribute's string, asks here: a page without it fails
the test with the selector named, where it would otherwise fail on None.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from bs4 import Tag


def one(where: Tag, selector: str) -> Tag:
    """The first element under `where` that the CSS `selector` matches."""
    found = where.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


def attr(tag: Tag, name: str, default: str | None = None) -> str:
    """The string of `tag`'s attribute `name`, or `default` when it has none (if given)."""
    value = tag.get(name, default)
    assert isinstance(value, str), f"{name}={value!r} on <{tag.name}>"
    return value


def child(element: Element, path: str) -> Element:
    """The first element that `path` (ElementTree's XPath subset) finds under `element`."""
    found = element.find(path)
    assert found is not None, f"nothing at {path!r} under <{element.tag}>"
    return found


def text_at(element: Element, path: str) -> str:
    """The text of the first element that `path` finds under `element`."""
    text = child(element, path).text
    assert text is not None, f"no text at {path!r} under <{element.tag}>"
    return text


def link_named(where: Tag, text: str) -> Tag:
    """The first <a> under `where` whose whole text is `text`."""
    found = where.find("a", string=text)
    assert isinstance(found, Tag), f"no link {text!r}"
    return found
