"""testing.diffing: what changed between a baseline response and a new one."""

import json

from testing.diffing import MAX_DIFF_LINES, MAX_JSON_CHANGES, ResponseDiff, diff_responses

JSON = "application/json"
HEADERS = [
    ["Date", "Mon, 01 Jan 2026 10:00:00 GMT"],
    ["Content-Type", JSON],
    ["X-Version", "1"],
    ["X-Old", "gone"],
]


def diff(
    *,
    old_body: bytes | str = b"{}",
    new_body: bytes | str = b"{}",
    old_type: str = JSON,
    new_type: str = JSON,
    old_status: int | None = 200,
    new_status: int | None = 200,
    old_headers=(),
    new_headers=(),
    ignored: frozenset[str] = frozenset({"date"}),
) -> ResponseDiff:
    def raw(body: bytes | str) -> bytes:
        return body.encode() if isinstance(body, str) else body

    return diff_responses(
        old_status=old_status,
        old_headers=old_headers,
        old_body=raw(old_body),
        old_content_type=old_type,
        new_status=new_status,
        new_headers=new_headers,
        new_body=raw(new_body),
        new_content_type=new_type,
        ignored_headers=set(ignored),
    )


def test_the_same_response_is_unchanged():
    result = diff(old_headers=HEADERS, new_headers=HEADERS, old_body='{"a": 1}', new_body='{"a":1}')
    assert result.unchanged
    assert result == ResponseDiff()


def test_status_change():
    result = diff(old_status=200, new_status=404)
    assert result.status_changed == (200, 404)
    assert not result.unchanged
    assert diff(old_status=None, new_status=200).status_changed == (None, 200)


def test_headers_added_removed_and_changed_case_insensitively_with_date_ignored():
    new_headers = [
        ["date", "Tue, 02 Jan 2026 11:00:00 GMT"],  # ignored, whatever its case
        ["content-type", JSON],  # same header, other case: unchanged
        ["X-Version", "2"],
        ["X-New", "here"],
    ]
    result = diff(old_headers=HEADERS, new_headers=new_headers)
    assert result.headers_added == [("X-New", "here")]
    assert result.headers_removed == [("X-Old", "gone")]
    assert result.headers_changed == [("X-Version", "1", "2")]
    assert not result.unchanged


def test_ignored_header_names_are_matched_in_any_case():
    result = diff(
        old_headers=[["Server", "a"]], new_headers=[["SERVER", "b"]], ignored=frozenset({"Server"})
    )
    assert result.unchanged


def test_a_repeated_header_is_compared_as_one_value():
    old = [["Vary", "Accept"], ["Vary", "Origin"]]
    new = [["Vary", "Accept"]]
    assert diff(old_headers=old, new_headers=new).headers_changed == [
        ("Vary", "Accept, Origin", "Accept")
    ]


def test_json_bodies_are_compared_by_structure_naming_each_path():
    old = {"StatusCode": "Finished", "Results": {"Values": [["a", "1"], ["b", "2"]]}, "x": 1}
    new = {
        "Results": {"Values": [["a", "7"], ["b", "2"], ["c", "3"]]},
        "StatusCode": "Finished",
        "key with space": True,
    }
    result = diff(old_body=json.dumps(old), new_body=json.dumps(new))
    assert result.body_changed
    assert result.text_diff == ""
    assert result.json_changes == [
        {"path": "$.Results.Values[0][1]", "change": "changed", "old": "1", "new": "7"},
        {"path": "$.Results.Values[2]", "change": "added", "old": None, "new": ["c", "3"]},
        {"path": "$.x", "change": "removed", "old": 1, "new": None},
        {"path": '$["key with space"]', "change": "added", "old": None, "new": True},
    ]


def test_json_types_matter_but_key_order_and_spacing_do_not():
    assert diff(old_body='{"a": 1, "b": 2}', new_body='{ "b":2,"a":1.0 }').unchanged
    changed = diff(old_body='{"a": 1}', new_body='{"a": true}')
    assert changed.json_changes == [{"path": "$.a", "change": "changed", "old": 1, "new": True}]
    shrunk = diff(old_body="[1, 2, 3]", new_body="[1]")
    assert [c["path"] for c in shrunk.json_changes] == ["$[1]", "$[2]"]
    assert diff(old_body='"job1"', new_body='"job2"').json_changes[0]["path"] == "$"


def test_json_changes_are_capped_and_the_diff_says_so():
    old = {f"k{i}": i for i in range(MAX_JSON_CHANGES + 50)}
    new = {key: value + 1 for key, value in old.items()}
    result = diff(old_body=json.dumps(old), new_body=json.dumps(new))
    assert len(result.json_changes) == MAX_JSON_CHANGES
    assert f"More than {MAX_JSON_CHANGES}" in result.note


def test_text_bodies_get_a_unified_diff():
    old = "line one\nline two\nline three\n"
    new = "line one\nline 2\nline three\n"
    result = diff(old_body=old, new_body=new, old_type="text/plain", new_type="text/plain")
    assert result.body_changed
    assert result.json_changes == []
    lines = result.text_diff.splitlines()
    assert lines[:2] == ["--- baseline", "+++ this run"]
    assert "-line two" in lines
    assert "+line 2" in lines
    same = diff(old_body=old, new_body=old, old_type="text/plain", new_type="text/plain")
    assert same.unchanged
    assert same.text_diff == ""


def test_json_against_text_is_a_text_diff():
    result = diff(old_body='{"a": 1}', new_body="<html>error</html>", new_type="text/html")
    assert result.body_changed
    assert "+<html>error</html>" in result.text_diff


def test_a_long_text_diff_is_cut():
    old = "\n".join(f"old {i}" for i in range(3000))
    new = "\n".join(f"new {i}" for i in range(3000))
    result = diff(old_body=old, new_body=new, old_type="text/plain", new_type="text/plain")
    lines = result.text_diff.splitlines()
    assert len(lines) == MAX_DIFF_LINES + 1
    assert "cut at 2,000 lines" in lines[-1]


def test_binary_bodies_are_changed_or_not_by_bytes():
    png = b"\x89PNG\r\n\x1a\n\x00\x00"
    same = diff(old_body=png, new_body=png, old_type="image/png", new_type="image/png")
    assert same.binary
    assert same.unchanged
    other = diff(old_body=png, new_body=png + b"\x01", old_type="image/png", new_type="image/png")
    assert other.binary
    assert other.body_changed
    assert other.text_diff == ""
    assert other.json_changes == []


def test_as_dict_is_json_and_from_dict_gives_it_back():
    result = diff(
        old_status=200,
        new_status=500,
        old_headers=HEADERS,
        new_headers=[["X-Version", "2"]],
        old_body='{"a": [1]}',
        new_body='{"a": [2]}',
    )
    data = json.loads(json.dumps(result.as_dict()))
    assert ResponseDiff.from_dict(data) == result
    assert ResponseDiff.from_dict({}) == ResponseDiff()
    assert ResponseDiff.from_dict({}).unchanged
