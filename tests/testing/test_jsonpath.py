"""testing.jsonpath: the small path syntax checks and extraction rules use."""

import pytest

from testing.jsonpath import JsonPathError, find, format_path, json_equal, parse

DOCUMENT = {
    "StatusCode": "Finished",
    "Results": {"output1": {"value": {"Values": [["a", "1"], ["b", "2"]]}}},
    "key with space": 1,
    "empty": None,
    "flag": False,
}


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("$", ()),
        ("$.a.b", ("a", "b")),
        ("$.a[0]", ("a", 0)),
        ("$.a[-1]", ("a", -1)),
        ('$["key with space"]', ("key with space",)),
        ("$['single']", ("single",)),
        ('$["a\\"b"]', ('a"b',)),
        ("$.api-version", ("api-version",)),
        ("$.a[0][1].b", ("a", 0, 1, "b")),
    ],
)
def test_parse(path, steps):
    assert parse(path) == steps


@pytest.mark.parametrize(
    ("path", "problem", "position"),
    [
        ("a.b", "starts with '$'", 1),
        ("", "starts with '$'", 1),
        ("$.", "Expected a member name", 3),
        ("$a", "Expected '.' or '['", 2),
        ("$.a[", "Unclosed '['", 4),
        ("$.a[x]", "Expected an index", 5),
        ("$.a[0", "Expected ']'", 6),
        ('$["a]', "Unclosed quote", 3),
        ("$..a", "Recursive descent", 3),
        ("$.*", "Wildcards", 3),
        ("$[*]", "Wildcards", 3),
        ('$["a\\q"]', "Unknown escape", 5),
    ],
)
def test_syntax_errors_name_the_problem_and_position(path, problem, position):
    with pytest.raises(JsonPathError) as caught:
        parse(path)
    assert problem in str(caught.value)
    assert caught.value.position == position
    assert f"at position {position}" in str(caught.value)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", (True, DOCUMENT)),
        ("$.StatusCode", (True, "Finished")),
        ("$.Results.output1.value.Values[1][0]", (True, "b")),
        ("$.Results.output1.value.Values[-1][1]", (True, "2")),
        ('$["key with space"]', (True, 1)),
        ("$.empty", (True, None)),
        ("$.flag", (True, False)),
        ("$.missing", (False, None)),
        ("$.StatusCode.deeper", (False, None)),
        ("$.Results.output1.value.Values[2]", (False, None)),
        ("$.Results.output1.value.Values[-3]", (False, None)),
        ("$.Results[0]", (False, None)),
    ],
)
def test_find(path, expected):
    assert find(DOCUMENT, path) == expected


def test_find_on_a_bare_value_and_a_list():
    assert find("0f4b7ad1", "$") == (True, "0f4b7ad1")
    assert find([1, 2], "$[0]") == (True, 1)
    assert find([1, 2], "$.a") == (False, None)


def test_find_raises_for_bad_syntax_only():
    with pytest.raises(JsonPathError):
        find(DOCUMENT, "StatusCode")


@pytest.mark.parametrize(
    "steps", [(), ("a", 0, "b"), ("key with space", -1), ('quo"te',), ("0",), ("a=b",)]
)
def test_format_path_is_the_inverse_of_parse(steps):
    assert parse(format_path(steps)) == steps


def test_json_equal_follows_json_not_python():
    assert json_equal(1, 1.0)
    assert not json_equal(True, 1)
    assert not json_equal("1", 1)
    assert json_equal({"a": [1, None]}, {"a": [1.0, None]})
    assert not json_equal([1], [1, 2])
