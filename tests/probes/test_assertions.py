from __future__ import annotations

from typing import Any

import httpx
import pytest

from tasks.probes.assertions import (
    MISSING,
    JsonPath,
    JsonPathError,
    ResponseView,
    compile_assertion,
    evaluate,
)
from tasks.probes.spec import Assertion

DOC: dict[str, Any] = {
    "status": "UP",
    "count": 2,
    "ratio": "0.5",
    "ok": True,
    "nothing": None,
    "empty": "",
    "items": [{"id": 1, "name": "alpha"}, {"id": 2, "name": "beta", "tags": []}],
    "meta": {"tags": ["a", "b"], "owner": {"team": "sre"}},
    "odd-key": {"with space": 7},
    "matrix": [[1, 2], [3, 4]],
}


def view(
    json: Any = DOC,
    *,
    text: str | None = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
    elapsed_ms: float = 42.0,
) -> ResponseView:
    headers = {"X-Request-Id": "req-77", "Content-Type": "application/json", **(headers or {})}
    if text is not None:
        response = httpx.Response(status, text=text, headers=headers)
    else:
        response = httpx.Response(status, json=json, headers=headers)
    return ResponseView(response, elapsed_ms)


def check(response: ResponseView, **spec: Any):
    return evaluate(compile_assertion(Assertion.model_validate(spec)), response)


# --- JSON path -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DOC),
        ("$.status", "UP"),
        ("status", "UP"),
        ("$.items[0].id", 1),
        ("$.items[-1].name", "beta"),
        ("$.items[*].id", [1, 2]),
        ("$.items.*.name", ["alpha", "beta"]),
        ("$.meta.owner.team", "sre"),
        ("$['odd-key']['with space']", 7),
        ("$.odd-key", {"with space": 7}),
        ('$["meta"].tags[1]', "b"),
        ("$.matrix[1][0]", 3),
        ("$.nothing", None),
        ("$.items[*].tags", [[]]),
    ],
)
def test_json_path_finds_values(path: str, expected: Any) -> None:
    assert JsonPath.parse(path).find(DOC) == expected


@pytest.mark.parametrize("path", ["$.missing", "$.items[5]", "$.status.deeper", "$.items.name"])
def test_json_path_reports_missing_values(path: str) -> None:
    assert JsonPath.parse(path).find(DOC) is MISSING


def test_json_path_wildcard_on_missing_list_is_empty() -> None:
    assert JsonPath.parse("$.nope[*].id").find(DOC) == []


@pytest.mark.parametrize("path", ["", "$.a[", "$..a", "$.a[x]", "$[1", "$.a.", "$['a]"])
def test_json_path_rejects_bad_syntax(path: str) -> None:
    with pytest.raises(JsonPathError):
        JsonPath.parse(path)


# --- operators: (assertion, passes) -----------------------------------------------------------

CASES: list[tuple[dict[str, Any], bool]] = [
    # equals / not_equals, with numeric and boolean coercion
    ({"source": "json_body", "property": "$.status", "operator": "equals", "target": "UP"}, True),
    ({"source": "json_body", "property": "$.status", "operator": "equals", "target": "up"}, False),
    ({"source": "status_code", "operator": "equals", "target": 200}, True),
    ({"source": "status_code", "operator": "equals", "target": "200"}, True),
    ({"source": "json_body", "property": "$.count", "operator": "equals", "target": 2.0}, True),
    ({"source": "json_body", "property": "$.ok", "operator": "equals", "target": "true"}, True),
    (
        {
            "source": "json_body",
            "property": "$.meta.tags",
            "operator": "equals",
            "target": ["a", "b"],
        },
        True,
    ),
    (
        {"source": "json_body", "property": "$.status", "operator": "not_equals", "target": "DOWN"},
        True,
    ),
    ({"source": "status_code", "operator": "not_equals", "target": 200}, False),
    # contains / not_contains: text, list membership, object keys
    ({"source": "text_body", "operator": "contains", "target": '"status":"UP"'}, True),
    (
        {"source": "json_body", "property": "$.meta.tags", "operator": "contains", "target": "b"},
        True,
    ),
    (
        {"source": "json_body", "property": "$.meta", "operator": "contains", "target": "owner"},
        True,
    ),
    (
        {"source": "headers", "property": "content-type", "operator": "contains", "target": "json"},
        True,
    ),
    (
        {"source": "json_body", "property": "$.status", "operator": "contains", "target": "DO"},
        False,
    ),
    ({"source": "text_body", "operator": "not_contains", "target": "error"}, True),
    (
        {
            "source": "json_body",
            "property": "$.meta.tags",
            "operator": "not_contains",
            "target": "a",
        },
        False,
    ),
    # less_than / greater_than: numbers, numeric strings, response time
    ({"source": "json_body", "property": "$.count", "operator": "less_than", "target": 3}, True),
    (
        {"source": "json_body", "property": "$.ratio", "operator": "less_than", "target": 0.4},
        False,
    ),
    ({"source": "status_code", "operator": "less_than", "target": 400}, True),
    ({"source": "response_time", "operator": "less_than", "target": 100}, True),
    ({"source": "response_time", "operator": "greater_than", "target": 100}, False),
    (
        {"source": "json_body", "property": "$.count", "operator": "greater_than", "target": 1},
        True,
    ),
    (
        {"source": "json_body", "property": "$.status", "operator": "greater_than", "target": 1},
        False,
    ),
    # has_key / not_has_key: objects and header names (case-insensitive)
    (
        {"source": "json_body", "property": "$.meta", "operator": "has_key", "target": "tags"},
        True,
    ),
    ({"source": "json_body", "operator": "has_key", "target": "absent"}, False),
    ({"source": "headers", "operator": "has_key", "target": "x-request-id"}, True),
    ({"source": "json_body", "operator": "not_has_key", "target": "error"}, True),
    ({"source": "headers", "operator": "not_has_key", "target": "X-Request-Id"}, False),
    # has_value / not_has_value: object values and list members
    (
        {
            "source": "json_body",
            "property": "$.items[0]",
            "operator": "has_value",
            "target": "alpha",
        },
        True,
    ),
    (
        {"source": "json_body", "property": "$.items[*].id", "operator": "has_value", "target": 2},
        True,
    ),
    (
        {"source": "json_body", "property": "$.items[*].id", "operator": "has_value", "target": 9},
        False,
    ),
    (
        {
            "source": "json_body",
            "property": "$.meta.tags",
            "operator": "not_has_value",
            "target": "z",
        },
        True,
    ),
    (
        {
            "source": "json_body",
            "property": "$.meta.tags",
            "operator": "not_has_value",
            "target": "a",
        },
        False,
    ),
    # is_empty / not_empty
    ({"source": "json_body", "property": "$.empty", "operator": "is_empty"}, True),
    ({"source": "json_body", "property": "$.items[1].tags", "operator": "is_empty"}, True),
    ({"source": "json_body", "property": "$.missing", "operator": "is_empty"}, True),
    ({"source": "json_body", "property": "$.items", "operator": "is_empty"}, False),
    ({"source": "headers", "property": "X-Request-Id", "operator": "not_empty"}, True),
    ({"source": "json_body", "property": "$.empty", "operator": "not_empty"}, False),
    ({"source": "text_body", "operator": "not_empty"}, True),
    # is_null / not_null
    ({"source": "json_body", "property": "$.nothing", "operator": "is_null"}, True),
    ({"source": "json_body", "property": "$.missing", "operator": "is_null"}, True),
    ({"source": "json_body", "property": "$.status", "operator": "is_null"}, False),
    ({"source": "json_body", "property": "$.items[0].id", "operator": "not_null"}, True),
    ({"source": "json_body", "property": "$.nothing", "operator": "not_null"}, False),
    ({"source": "json_body", "property": "$.missing", "operator": "not_null"}, False),
    # matches (regex search)
    (
        {"source": "json_body", "property": "$.status", "operator": "matches", "target": "^U.$"},
        True,
    ),
    (
        {
            "source": "headers",
            "property": "x-request-id",
            "operator": "matches",
            "target": r"^req-\d+$",
        },
        True,
    ),
    ({"source": "text_body", "operator": "matches", "target": r"\berror\b"}, False),
]


@pytest.mark.parametrize(("spec", "passes"), CASES, ids=lambda v: str(v)[:60])
def test_operator(spec: dict[str, Any], passes: bool) -> None:
    result = check(view(), **spec)
    assert result.passed is passes, result


def test_every_operator_is_covered_by_a_passing_and_a_failing_case() -> None:
    from tasks.probes.spec import OPERATORS

    for operator in OPERATORS:
        outcomes = {passes for spec, passes in CASES if spec["operator"] == operator}
        assert outcomes == {True, False}, operator


def test_missing_property_fails_negated_operators_too() -> None:
    for operator in ("not_equals", "not_contains", "not_has_key", "not_has_value", "not_empty"):
        target = None if operator == "not_empty" else "x"
        spec = {"source": "json_body", "property": "$.missing", "operator": operator}
        if target is not None:
            spec["target"] = target
        result = check(view(), **spec)
        assert not result.passed and result.message == "property not found", operator


def test_non_json_body_fails_json_assertions_with_a_reason() -> None:
    result = check(
        view(text="<html>oops</html>"),
        source="json_body",
        property="$.status",
        operator="equals",
        target="UP",
    )
    assert not result.passed
    assert result.message == "body is not valid JSON"


def test_result_records_source_property_operator_target_and_actual() -> None:
    result = check(view(), source="json_body", property="$.count", operator="less_than", target=1)
    assert result.to_dict() == {
        "source": "json_body",
        "property": "$.count",
        "operator": "less_than",
        "target": 1,
        "actual": "2",
        "passed": False,
        "message": None,
    }
    assert "actual 2" in result.describe()


def test_actual_is_truncated() -> None:
    result = check(view(text="x" * 5000), source="text_body", operator="contains", target="y")
    assert result.actual is not None and len(result.actual) == 200
    assert result.actual.endswith("…")


def test_credential_values_never_reach_results() -> None:
    response = view(
        json={"token": "abcdefgh12345678", "user": {"api_key": "k-999999"}},
        headers={"Set-Cookie": "session=very-secret-cookie"},
    )
    token = check(response, source="json_body", property="$.token", operator="not_empty")
    key = check(response, source="json_body", property="$.user.api_key", operator="not_null")
    cookie = check(response, source="headers", property="set-cookie", operator="not_empty")
    names = check(response, source="headers", operator="has_key", target="set-cookie")
    assert token.passed and key.passed and cookie.passed and names.passed
    assert token.actual == key.actual == cookie.actual == "[REDACTED]"
    assert names.actual is not None and "set-cookie" in names.actual
    assert "very-secret-cookie" not in names.actual  # header names only, never values


def test_scrub_hook_is_applied_to_actual() -> None:
    result = evaluate(
        compile_assertion(Assertion(source="text_body", operator="contains", target="hello")),
        view(text="hello my-secret-value"),
        scrub=lambda text: text.replace("my-secret-value", "[REDACTED]"),
    )
    assert result.actual == "hello [REDACTED]"
