"""The one Cookie header (httpcore/cookies.py), styled path values
(templating.StyledValue) and the Cookie header's masking, cookie by cookie."""

from __future__ import annotations

import pytest

from httpcore.cookies import CookieError, check_cookie_header, cookie_header
from httpcore.masking import MASK, mask_cookie_header, mask_headers
from httpcore.templating import BindError, StyledValue, bind


def test_pairs_make_one_header() -> None:
    assert cookie_header([("theme", "dark"), ("seen", "7,8")]) == "theme=dark; seen=7,8"
    assert cookie_header([]) == ""


@pytest.mark.parametrize(
    ("pairs", "message", "name"),
    [
        ([("the me", "x")], "The cookie name 'the me' is not a token.", "the me"),
        ([("a", "x;y")], "A cookie value cannot contain ';' (RFC 6265 cookie-octets).", "a"),
        ([("a", "x\r\nSet: y")], "A cookie value cannot contain control characters (U+000D).", "a"),
        ([("a", "x" * 9000)], "The cookies are too long (9002 characters, at most 8192).", ""),
    ],
)
def test_a_pair_that_cannot_be_sent_is_refused(pairs, message, name) -> None:
    with pytest.raises(CookieError) as raised:
        cookie_header(pairs)
    assert (raised.value.message, raised.value.name) == (message, name)


def test_bind_adds_the_header_and_names_the_cookie_it_refuses() -> None:
    request = bind(
        service_url="http://127.0.0.1:9",
        method="GET",
        template="/x",
        template_values={},
        headers=[("Accept", "text/plain")],
        cookies=[("theme", "dark")],
    )
    assert request.headers == (("Accept", "text/plain"), ("Cookie", "theme=dark"))
    with pytest.raises(BindError) as raised:
        bind(
            service_url="http://127.0.0.1:9",
            method="GET",
            template="/x",
            template_values={},
            cookies=[("theme", 'a"b')],
        )
    assert raised.value.field == "theme"


def test_the_recheck_reads_only_what_bind_writes() -> None:
    check_cookie_header("a=1; b=2,3")
    for value in ("a", "a=1;b=2", "a=1; b", "a=x y"):
        with pytest.raises(CookieError):
            check_cookie_header(value)


def test_a_cookie_header_is_masked_cookie_by_cookie() -> None:
    value = "theme=dark; session_id=s3cr3t; X=Bearer abc"
    assert mask_cookie_header(value) == f"theme=dark; session_id={MASK}; X={MASK}"
    assert mask_cookie_header("theme=dark", secret_names={"THEME"}) == f"theme={MASK}"
    headers = [("Cookie", "theme=dark; sid=1"), ("Set-Cookie", "theme=dark")]
    assert mask_headers(headers, secret_names={"sid"}, request=True) == [
        ["Cookie", f"theme=dark; sid={MASK}"],
        ["Set-Cookie", MASK],
    ]
    # Anywhere else a Cookie header is a credential header, masked whole.
    assert mask_headers([("Cookie", "theme=dark")]) == [["Cookie", MASK]]


def _path(value: StyledValue) -> str:
    return bind(
        service_url="http://127.0.0.1:9",
        method="GET",
        template="/r/{v}",
        template_values={"v": value},
    ).url.removeprefix("http://127.0.0.1:9")


def test_a_styled_value_encodes_values_and_keeps_its_delimiters() -> None:
    label = StyledValue(((".", True), ("a/b", False), (".", True), ("c d", False)))
    assert _path(label) == "/r/.a%2Fb.c%20d"
    matrix = StyledValue(((";", True), ("id", False), ("=", True), ("1", False), (",", True)))
    assert _path(matrix) == "/r/;id=1%2C"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        # An empty label list is "." alone: a dot segment.
        (StyledValue(((".", True),)), "'.' and '..' are not allowed as path segments."),
        (
            StyledValue(((".", True), ("..", False))),
            "'.' and '..' are not allowed as path segments.",
        ),
        (StyledValue((("/", True), ("x", False))), "'/' is not a style delimiter."),
    ],
)
def test_a_styled_value_cannot_leave_its_segment(value, message) -> None:
    with pytest.raises(BindError) as raised:
        _path(value)
    assert (raised.value.message, raised.value.field) == (message, "v")
