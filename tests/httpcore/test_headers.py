import pytest

from httpcore.headers import HeaderError, validate_headers


def test_valid_headers_pass_and_blank_rows_are_skipped():
    assert validate_headers([("Accept", "application/json"), ("", ""), ("X-Trace", " 1 ")]) == [
        ("Accept", "application/json"),
        ("X-Trace", "1"),
    ]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("X-A", "a\rb", "The value of X-A contains a line break or NUL."),
        ("X-A", "a\nSet-Cookie: x", "The value of X-A contains a line break or NUL."),
        ("X-A", "a\x00", "The value of X-A contains a line break or NUL."),
        ("X-A", "café", "The value of X-A has characters other than printable ASCII."),
        ("X-A", "a" * 8193, "The value of X-A is too long (8193 characters, at most 8192)."),
        ("Host", "evil.test", "The portal sets Host itself; it cannot be sent."),
        ("content-length", "0", "The portal sets content-length itself; it cannot be sent."),
        (
            "Transfer-Encoding",
            "chunked",
            "The portal sets Transfer-Encoding itself; it cannot be sent.",
        ),
        ("Connection", "close", "The portal sets Connection itself; it cannot be sent."),
        ("TE", "trailers", "The portal sets TE itself; it cannot be sent."),
        ("Upgrade", "h2c", "The portal sets Upgrade itself; it cannot be sent."),
        ("Forwarded", "for=1.2.3.4", "The portal sets Forwarded itself; it cannot be sent."),
        (
            "X-Forwarded-For",
            "1.2.3.4",
            "The portal sets X-Forwarded-For itself; it cannot be sent.",
        ),
        ("Cookie", "sessionid=1", "The portal sets Cookie itself; it cannot be sent."),
        (
            "Proxy-Authorization",
            "Basic x",
            "The portal sets Proxy-Authorization itself; it cannot be sent.",
        ),
        (
            "X-HTTP-Method-Override",
            "DELETE",
            "Sending X-HTTP-Method-Override would have the backend treat the call as another "
            "method; it cannot be sent.",
        ),
        (
            "X-HTTP-Method",
            "DELETE",
            "Sending X-HTTP-Method would have the backend treat the call as another method; "
            "it cannot be sent.",
        ),
        (
            "X-Method-Override",
            "PATCH",
            "Sending X-Method-Override would have the backend treat the call as another method; "
            "it cannot be sent.",
        ),
        (
            "Max-Forwards",
            "0",
            "Sending Max-Forwards would limit how far proxies forward the call; it cannot be sent.",
        ),
    ],
)
def test_refused_headers_name_the_problem(name, value, message):
    with pytest.raises(HeaderError) as caught:
        validate_headers([(name, value)])
    assert caught.value.message == message


@pytest.mark.parametrize("name", ["X A", "X:A", "X\rA", "X\nA", "Ä"])
def test_names_must_be_tokens(name):
    with pytest.raises(HeaderError) as caught:
        validate_headers([(name, "1")])
    assert caught.value.message.startswith(f"Header name {name!r} is not valid")


def test_value_without_name_is_refused():
    with pytest.raises(HeaderError) as caught:
        validate_headers([("", "orphan")])
    assert caught.value.message == "A header value has no name."


def test_same_name_twice_in_different_case_is_refused():
    with pytest.raises(HeaderError) as caught:
        validate_headers([("X-Key", "1"), ("x-key", "2")])
    assert caught.value.message == "Header x-key is given twice."


def test_count_and_size_are_capped():
    with pytest.raises(HeaderError) as caught:
        validate_headers([(f"X-{n}", "1") for n in range(51)])
    assert caught.value.message == "Too many headers (51, at most 50)."
    with pytest.raises(HeaderError) as caught:
        validate_headers([(f"X-{n}", "a" * 8000) for n in range(5)])
    assert caught.value.message == "The headers are too large (at most 32768 bytes)."


def test_an_oversized_value_is_refused_for_its_length_before_its_characters():
    with pytest.raises(HeaderError) as caught:
        validate_headers([("X-A", "\r\n" + "a" * 1_048_576)])
    assert caught.value.message == (
        "The value of X-A is too long (1048578 characters, at most 8192)."
    )
