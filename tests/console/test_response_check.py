import json

import pytest

from console import response_check
from console.response_check import ResponseCheck, Violation, check_response
from tests import documented_schemas

pytestmark = pytest.mark.django_db

SCORED = {
    "Results": {
        "output1": {
            "type": "table",
            "value": {
                "ColumnNames": ["Col2", "Col2_HashingFeature.0"],
                "ColumnTypes": ["String", "Int32"],
                "Values": [["This is a good day", "2"]],
            },
        }
    }
}


def check(operation, body: object, *, status: int = 200, content_type: str = "application/json"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return check_response(
        operation=operation, status_code=status, content_type=content_type, body=raw
    )


@pytest.fixture
def scoring(demo_api):
    return documented_schemas.document(demo_api)


def test_a_body_as_documented_matches(scoring):
    result = check(scoring, SCORED, content_type="application/json; charset=utf-8")
    assert result == ResponseCheck(outcome="matches")
    assert result.passed


def test_a_wrong_type_is_named_with_its_path(demo_api):
    operation = documented_schemas.document(demo_api, cell={"type": "integer"})
    result = check(operation, SCORED)
    assert result.outcome == "violations"
    assert result.violations == [
        Violation(
            path="$.Results.output1.value.Values[0][0]", message="expected integer, got string"
        ),
        Violation(
            path="$.Results.output1.value.Values[0][1]", message="expected integer, got string"
        ),
    ]


def test_each_kind_of_violation_has_its_message(scoring):
    body = {
        "Results": {
            "output1": {
                "type": "chart",
                "value": {"ColumnNames": [], "ColumnTypes": ["Float"]},
            }
        }
    }
    assert check(scoring, body).violations == [
        Violation(path="$.Results.output1.type", message='expected one of "table", got "chart"'),
        Violation(path="$.Results.output1.value", message="required property 'Values' is missing"),
        Violation(
            path="$.Results.output1.value.ColumnNames", message="expected at least 1 items, got 0"
        ),
        Violation(
            path="$.Results.output1.value.ColumnTypes[0]",
            message='expected one of "String", "Int32", got "Float"',
        ),
    ]
    assert check(scoring, {}).violations == [
        Violation(path="$", message="required property 'Results' is missing")
    ]


def test_formats_are_checked(demo_api):
    operation = documented_schemas.document(
        demo_api, cell={"type": "string", "format": "date-time"}
    )
    body = {
        "Results": {
            "output1": {
                "type": "table",
                "value": {
                    "ColumnNames": ["When"],
                    "Values": [["2026-01-01T10:00:00Z"], ["yesterday"]],
                },
            }
        }
    }
    assert check(operation, body).violations == [
        Violation(
            path="$.Results.output1.value.Values[1][0]",
            message='expected a date-time string, got "yesterday"',
        )
    ]


def test_3_0_nullable_and_3_1_type_lists(demo_api):
    body = {
        "Results": {
            "output1": {"type": "table", "value": {"ColumnNames": ["A"], "Values": [[None]]}}
        }
    }
    nullable_30 = documented_schemas.document(demo_api, cell={"type": "string", "nullable": True})
    assert check(nullable_30, body).outcome == "matches"
    not_nullable = documented_schemas.document(demo_api, cell={"type": "string"})
    assert check(not_nullable, body).violations == [
        Violation(path="$.Results.output1.value.Values[0][0]", message="expected string, got null")
    ]
    list_31 = documented_schemas.document(
        demo_api, version="3.1.0", cell={"type": ["string", "null"]}
    )
    assert check(list_31, body).outcome == "matches"
    # 3.1 has no nullable: only the type list allows null.
    nullable_31 = documented_schemas.document(
        demo_api, version="3.1.0", cell={"type": "string", "nullable": True}
    )
    assert check(nullable_31, body).violations == [
        Violation(path="$.Results.output1.value.Values[0][0]", message="expected string, got null")
    ]


def test_a_status_without_its_code_uses_its_range_then_default(scoring):
    assert check(scoring, {"error": {}}, status=404).outcome == "matches"
    assert check(scoring, {"message": "no"}, status=404).violations == [
        Violation(path="$", message="required property 'error' is missing")
    ]
    assert check(scoring, {"x": 1}, status=500).outcome == "matches"
    assert check(scoring, {}, status=500).violations == [
        Violation(path="$", message="required property 'x' is missing")
    ]


def test_no_schema_for_the_status_says_nothing(demo_api):
    operation = documented_schemas.document(demo_api, errors=False)
    assert check(operation, {}, status=500) == ResponseCheck(outcome="undocumented")
    operation.openapi = {}
    assert check(operation, {}) == ResponseCheck(outcome="undocumented")


def test_another_media_type_is_not_checked(scoring):
    assert check(scoring, b"<p>hi</p>", content_type="text/html") == ResponseCheck(
        outcome="not_checked",
        reason="no schema is documented for text/html (documented: application/json).",
    )


def test_a_body_that_is_not_json_is_not_checked(scoring):
    assert check(scoring, b"{not json") == ResponseCheck(
        outcome="not_checked", reason="the response is not JSON."
    )


def test_a_large_body_is_not_checked(scoring):
    body = b" " * (response_check.MAX_CHECKED_BYTES + 1)
    assert check(scoring, body) == ResponseCheck(
        outcome="not_checked", reason="the response is too large (over 2 MiB)."
    )


def test_violations_are_listed_up_to_a_limit(demo_api):
    operation = documented_schemas.document(demo_api, cell={"type": "integer"})
    rows = [["x"] for _ in range(response_check.MAX_VIOLATIONS + 5)]
    body = {
        "Results": {"output1": {"type": "table", "value": {"ColumnNames": ["A"], "Values": rows}}}
    }
    result = check(operation, body)
    assert len(result.violations) == response_check.MAX_VIOLATIONS
    assert result.more == 5
    paths = [violation.path for violation in result.violations]
    assert paths[9:11] == [
        "$.Results.output1.value.Values[9][0]",
        "$.Results.output1.value.Values[10][0]",
    ]


def test_json_paths_quote_names_that_are_not_identifiers():
    assert response_check.json_path(["a", 0, "b c", "d.e"]) == '$.a[0]["b c"]["d.e"]'
