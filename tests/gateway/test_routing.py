"""gateway/routing.py: which API and which operation a gateway path names (pure)."""

import pytest

from gateway.routing import (
    MethodNotAllowed,
    PathValueError,
    RouteMatch,
    RouteTable,
    compile_route,
    decode_values,
    find_by_suffix,
    masked_path,
    normalize_segment,
    split_path,
    suffix_segments,
)
from httpcore.templating import TemplateError


def table(*routes: tuple[int, str, str]) -> RouteTable:
    return RouteTable.build(
        compile_route(key=key, method=method, template=template, order=(key,))
        for key, method, template in routes
    )


def matched(result) -> RouteMatch:
    assert isinstance(result, RouteMatch), result
    return result


# --- Segments and suffixes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "segments"),
    [
        ("", [""]),
        ("/", [""]),
        ("a", ["a"]),
        ("/a/b", ["a", "b"]),
        ("a/b/", ["a", "b", ""]),
        ("a//b", ["a", "", "b"]),
        ("a%2Fb/c", ["a%2Fb", "c"]),
    ],
)
def test_split_path_keeps_encoded_slashes_inside_a_segment(path, segments):
    assert split_path(path) == segments


@pytest.mark.parametrize(
    ("segment", "normal"),
    [
        ("items", "items"),
        ("it%65ms", "items"),  # an unreserved character, escaped for no reason
        ("%7euser", "~user"),
        ("a%2fb", "a%2Fb"),  # a reserved one stays escaped, in upper case
        ("%zz", "%zz"),  # not an escape: left alone
        ("caf%C3%A9", "caf%C3%A9"),
    ],
)
def test_normalize_segment(segment, normal):
    assert normalize_segment(segment) == normal


@pytest.mark.parametrize(
    ("suffix", "segments"),
    [
        ("shop", ("shop",)),
        ("/shop/v1/", ("shop", "v1")),
        (" shop/v1 ", ("shop", "v1")),
        ("", ()),
        ("/", ()),
    ],
)
def test_suffix_segments(suffix, segments):
    assert suffix_segments(suffix) == segments


def test_the_longest_suffix_wins_by_whole_segments():
    suffixes = {("shop",): "shop", ("shop", "v2"): "shop v2", ("shopping",): "shopping"}
    found = find_by_suffix(segments=["shop", "v2", "items"], suffixes=suffixes, longest=2)
    assert (found.target, found.suffix, found.remaining) == ("shop v2", ("shop", "v2"), ["items"])
    found = find_by_suffix(segments=["shop", "v3", "items"], suffixes=suffixes, longest=2)
    assert (found.target, found.remaining) == ("shop", ["v3", "items"])
    # "shop" is not a prefix of "shoppingcart": segments, not characters.
    assert find_by_suffix(segments=["shoppingcart"], suffixes=suffixes, longest=2) is None
    assert find_by_suffix(segments=[""], suffixes=suffixes, longest=2) is None


def test_a_path_that_is_only_the_suffix_leaves_the_root():
    found = find_by_suffix(segments=["shop"], suffixes={("shop",): 1}, longest=1)
    assert found.remaining == [""]


# --- Routes -----------------------------------------------------------------------------


def test_a_placeholder_matches_one_non_empty_segment():
    routes = table((1, "GET", "/items/{item}"))
    assert matched(routes.match(method="GET", segments=["items", "42"])).raw_values == {
        "item": "42"
    }
    assert routes.match(method="GET", segments=["items", ""]) is None
    assert routes.match(method="GET", segments=["items", "a", "b"]) is None
    assert routes.match(method="GET", segments=["items"]) is None


def test_literals_match_exactly():
    routes = table((1, "GET", "/items/{item}/details"))
    assert routes.match(method="GET", segments=["items", "1", "details"]) is not None
    assert routes.match(method="GET", segments=["items", "1", "Details"]) is None
    assert routes.match(method="GET", segments=["Items", "1", "details"]) is None
    assert routes.match(method="GET", segments=["items", "1", "details", ""]) is None


def test_a_trailing_slash_is_part_of_the_path():
    routes = table((1, "GET", "/items/"), (2, "GET", "/things"))
    assert matched(routes.match(method="GET", segments=["items", ""])).route.key == 1
    assert routes.match(method="GET", segments=["items"]) is None
    assert routes.match(method="GET", segments=["things", ""]) is None


def test_the_query_part_of_a_template_is_not_matched():
    routes = table((1, "POST", "/execute?api-version={v}&details=true"))
    assert matched(routes.match(method="POST", segments=["execute"])).raw_values == {}


@pytest.mark.parametrize("template", ["", "/", "/?a=b"])
def test_a_template_without_a_path_is_the_root(template):
    routes = table((1, "GET", template))
    assert matched(routes.match(method="GET", segments=[""])).route.key == 1
    assert routes.match(method="GET", segments=["x"]) is None


def test_placeholders_inside_a_segment():
    routes = table((1, "GET", "/files/{name}.{ext}"), (2, "GET", "/v{version}/status"))
    assert matched(
        routes.match(method="GET", segments=["files", "report.2024.pdf"])
    ).raw_values == {
        "name": "report",
        "ext": "2024.pdf",
    }
    assert matched(routes.match(method="GET", segments=["v2", "status"])).raw_values == {
        "version": "2"
    }
    assert routes.match(method="GET", segments=["files", "report"]) is None
    assert routes.match(method="GET", segments=["v", "status"]) is None


def test_more_literal_characters_win():
    routes = table(
        (1, "GET", "/jobs/{jobid}"),
        (2, "GET", "/jobs/latest"),
        (3, "GET", "/{collection}/latest"),
    )
    assert matched(routes.match(method="GET", segments=["jobs", "latest"])).route.key == 2
    assert matched(routes.match(method="GET", segments=["jobs", "42"])).route.key == 1
    assert matched(routes.match(method="GET", segments=["tasks", "latest"])).route.key == 3


def test_equal_literals_prefer_fewer_placeholders_then_order():
    routes = table((5, "GET", "/a/{x}{y}"), (4, "GET", "/a/{x}"), (3, "GET", "/a/{z}"))
    # {x} and {z} have as many literals and placeholders: the earlier order (3) wins.
    assert matched(routes.match(method="GET", segments=["a", "b"])).route.key == 3


def test_another_method_on_a_matching_path_is_method_not_allowed():
    routes = table(
        (1, "GET", "/jobs/{jobid}"), (2, "DELETE", "/jobs/{jobid}"), (3, "POST", "/jobs")
    )
    assert routes.match(method="PUT", segments=["jobs", "1"]) == MethodNotAllowed(
        allowed=("DELETE", "GET")
    )
    assert matched(routes.match(method="delete", segments=["jobs", "1"])).route.key == 2
    assert routes.match(method="PUT", segments=["other"]) is None


def test_a_less_specific_route_with_the_method_beats_method_not_allowed():
    routes = table((1, "POST", "/jobs/latest"), (2, "GET", "/jobs/{jobid}"))
    assert matched(routes.match(method="GET", segments=["jobs", "latest"])).route.key == 2


def test_an_invalid_template_does_not_compile():
    with pytest.raises(TemplateError):
        compile_route(key=1, method="GET", template="/a/{b")


def test_literals_are_compared_normalized():
    routes = table((1, "GET", "/caf%c3%a9/{x}"))
    assert routes.match(method="GET", segments=split_path("caf%C3%A9/1")) is not None


# --- Values -----------------------------------------------------------------------------


def test_values_are_percent_decoded():
    routes = table((1, "GET", "/items/{item}"))
    found = matched(routes.match(method="GET", segments=split_path("items/a%2Fb%20c%C3%A9")))
    assert decode_values(found) == {"item": "a/b cé"}


def test_a_value_that_is_not_utf8_is_refused():
    routes = table((1, "GET", "/items/{item}"))
    found = matched(routes.match(method="GET", segments=split_path("items/%FF")))
    with pytest.raises(PathValueError) as caught:
        decode_values(found)
    assert caught.value.name == "item"


def test_masked_path_hides_segments_with_secret_placeholders():
    routes = table((1, "GET", "/keys/{apikey}/items/{item}"))
    segments = split_path("keys/s3cr3t-value/items/7")
    found = matched(routes.match(method="GET", segments=segments))
    assert masked_path(suffix=("shop",), match=found, segments=segments, secret={"ApiKey"}) == (
        "shop/keys/••••••/items/7"
    )
    assert masked_path(suffix=("shop",), match=found, segments=segments, secret=()) == (
        "shop/keys/s3cr3t-value/items/7"
    )
