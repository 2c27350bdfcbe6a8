from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from tasks.errors import SpecError, SpecIssue
from tasks.probes.loader import load_checks, select_checks
from tasks.probes.spec import DEFAULT_REGIONS, HttpCheck, MultistepCheck

EXAMPLES = Path(__file__).resolve().parents[2] / "deployments" / "checks"

GOOD = """
defaults:
  service: shop-api
  frequency: 30s
  retry: {strategy: fixed, max_attempts: 3, backoff_seconds: 2}
checks:
  - id: health
    request: {url: "${BASE}/health", timeout_seconds: 5}
    assertions:
      - {source: status_code, operator: equals, target: 200}
  - id: products
    service: catalogue
    frequency: 5m
    regions: [eu-west-1]
    retry: {backoff_seconds: 0.5}
    request: {url: "https://shop.example/api", headers: {X-Page: 2}, query: {limit: 10}}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(dedent(text), encoding="utf-8")
    return path


def issues_of(*paths: Path) -> list[SpecIssue]:
    with pytest.raises(SpecError) as info:
        load_checks(paths)
    return info.value.issues


def only_issue(tmp_path: Path, text: str) -> SpecIssue:
    path = write(tmp_path, "checks.yaml", text)
    issues = issues_of(path)
    assert len(issues) == 1, issues
    assert issues[0].file == str(path)
    return issues[0]


def test_defaults_apply_and_checks_override_them(tmp_path: Path) -> None:
    health, products = load_checks([write(tmp_path, "a.yaml", GOOD)])
    assert isinstance(health, HttpCheck)
    assert (health.service, health.frequency, health.regions) == (
        "shop-api",
        30,
        list(DEFAULT_REGIONS),
    )
    assert (health.degraded_ms, health.failed_ms, health.tls_expiry_days) == (10_000, 20_000, 14)
    assert (products.service, products.frequency, products.regions) == (
        "catalogue",
        300,
        ["eu-west-1"],
    )
    # retry is merged key by key: the check changes the backoff, keeps the default strategy
    assert products.retry.strategy == "fixed" and products.retry.max_attempts == 3
    assert products.retry.backoff_seconds == 0.5
    assert products.request.headers == {"X-Page": "2"} and products.request.query == {"limit": "10"}
    assert health.source_file == str(tmp_path / "a.yaml")


def test_directories_are_searched(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "a.yml", GOOD)
    assert [c.id for c in load_checks([tmp_path])] == ["health", "products"]


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    issue = only_issue(tmp_path, "checks:\n  - id: a\n    request: {url: [\n")
    assert "invalid YAML" in issue.reason and "line 4" in issue.reason


@pytest.mark.parametrize(
    ("text", "item", "field", "reason"),
    [
        (  # unknown field on a check
            "checks: [{id: a, service: s, request: {url: 'http://x'}, frequncy: 1m}]",
            "a",
            "checks[0].frequncy",
            "unknown field",
        ),
        (  # unknown field deep inside
            "checks: [{id: a, service: s, request: {url: 'http://x', header: {}}}]",
            "a",
            "checks[0].request.header",
            "unknown field",
        ),
        (  # an operator that does not exist
            "checks: [{id: a, service: s, request: {url: 'http://x'},"
            " assertions: [{source: status_code, operator: is, target: 200}]}]",
            "a",
            "checks[0].assertions[0].operator",
            "equals",
        ),
        (  # an operator the source does not support
            "checks: [{id: a, service: s, request: {url: 'http://x'},"
            " assertions: [{source: status_code, operator: matches, target: '2..'}]}]",
            "a",
            "checks[0].assertions[0].operator",
            "not supported for source status_code",
        ),
        (
            "checks: [{id: a, service: s, request: {method: GET}}]",
            "a",
            "checks[0].request.url",
            "Field required",
        ),
        (
            "checks: [{id: a, service: s, request: {url: 'ftp://x'}}]",
            "a",
            "checks[0].request.url",
            "must start with http",
        ),
        (
            "checks: [{id: a, service: s, degraded_ms: 3000, failed_ms: 3000,"
            " request: {url: 'http://x'}}]",
            "a",
            "checks[0].failed_ms",
            "degraded_ms (3000) must be lower than failed_ms (3000)",
        ),
        (
            "checks: [{id: a, service: s, type: ftp}]",
            "a",
            "checks[0].type",
            "unknown check type 'ftp'",
        ),
        (
            "checks: [{id: Not A Slug, service: s, request: {url: 'http://x'}}]",
            "Not A Slug",
            "checks[0].id",
            "not a valid id",
        ),
        (
            "checks: [{id: a, service: s, regions: [mars], request: {url: 'http://x'}}]",
            "a",
            "checks[0].regions[0]",
            "not a region name",
        ),
        (
            "checks: [{id: a, service: s, frequency: 2h, request: {url: 'http://x'}}]",
            "a",
            "checks[0].frequency",
            "between 1s and 1h",
        ),
        (
            "checks: [{id: a, service: s, request: {url: 'http://x'},"
            " assertions: [{source: text_body, operator: matches, target: '(unclosed'}]}]",
            "a",
            "checks[0].assertions[0].target",
            "invalid regular expression",
        ),
        (
            "checks: [{id: a, service: s, request: {url: 'http://x'},"
            " assertions: [{source: json_body, property: $.n, operator: less_than, target: x}]}]",
            "a",
            "checks[0].assertions[0].target",
            "needs a numeric target",
        ),
        (
            "checks: [{id: a, service: s, request: {url: 'http://x'},"
            " assertions: [{source: json_body, property: $.n, operator: equals}]}]",
            "a",
            "checks[0].assertions[0].target",
            "needs a target",
        ),
        (
            "checks: [{id: a, service: s, request: {url: 'http://x'},"
            " assertions: [{source: json_body, property: '$..n', operator: is_null}]}]",
            "a",
            "checks[0].assertions[0].property",
            "invalid JSON path",
        ),
        (
            "checks: [{id: a, service: s, request: {url: 'http://x', body: t, json: {a: 1}}}]",
            "a",
            "checks[0].request.json",
            "either body",
        ),
        (
            "checks: [{id: a, service: s, retry: {max_attempts: 3}, request: {url: 'http://x'}}]",
            "a",
            "checks[0].retry.max_attempts",
            "needs a retry strategy",
        ),
        (
            "checks: [{id: a, service: s, retry: {strategy: fixed, max_attempts: 11},"
            " request: {url: 'http://x'}}]",
            "a",
            "checks[0].retry.max_attempts",
            "less than or equal to 10",
        ),
        (
            "checks: [{id: a, service: s, request: {url: 'http://x/{{ token }}'}}]",
            "a",
            "checks[0].request",
            "only available in multistep",
        ),
        (
            "checks: [{id: a, request: {url: 'http://x'}}]",
            "a",
            "checks[0].service",
            "Field required",
        ),
    ],
)
def test_invalid_checks_are_reported_with_file_check_and_field(
    tmp_path: Path, text: str, item: str, field: str, reason: str
) -> None:
    issue = only_issue(tmp_path, text)
    assert (issue.item, issue.field) == (item, field)
    assert reason in issue.reason
    assert str(issue).startswith(f"{tmp_path / 'checks.yaml'}: {item}: {field}: ")


def test_multistep_variables_must_come_from_an_earlier_step(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        checks:
          - id: flow
            type: multistep
            service: s
            steps:
              - name: one
                request: {url: "http://x/{{ order_id }}"}
              - name: two
                request: {url: "http://x"}
                extract: {order_id: {source: json_body, property: $.id}}
        """,
    )
    assert issue.field == "checks[0].steps"
    assert "step 0 (one) uses order_id" in issue.reason


def test_step_names_must_be_unique(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        checks:
          - {id: f, type: multistep, service: s, steps: [
              {name: same, request: {url: "http://x"}}, {name: same, request: {url: "http://y"}}]}
        """,
    )
    assert issue.field == "checks[0].steps" and "unique" in issue.reason


def test_duplicate_ids_across_files_name_both_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "checks: [{id: dup, service: s, request: {url: 'http://a'}}]")
    second = write(
        tmp_path, "b.yaml", "checks: [{id: dup, service: s, request: {url: 'http://b'}}]"
    )
    (issue,) = issues_of(first, second)
    assert issue.file == str(second) and issue.item == "dup" and issue.field == "checks[0].id"
    assert f"also defined in {first}" in issue.reason


def test_every_problem_in_every_file_is_reported_at_once(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "checks: [{id: a, service: s, request: {url: 'http://a'}, x: 1}]")
    b = write(tmp_path, "b.yaml", "checks: [{id: b, service: s}, {id: a, service: s}]")
    issues = issues_of(a, b)
    assert {(i.file, i.item, i.field) for i in issues} == {
        (str(a), "a", "checks[0].x"),
        (str(b), "b", "checks[0].request"),
        (str(b), "a", "checks[1].request"),
        (str(b), "a", "checks[1].id"),  # the duplicate id
    }


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("- just a list", None, "expected a mapping"),
        ("checks: {id: a}", "checks", "must be a list"),
        ("checks: []\nextra: 1", "extra", "unknown field"),
        ("defaults: {servce: s}\nchecks: []", "defaults.servce", "unknown field"),
    ],
)
def test_document_level_problems(tmp_path: Path, text: str, field: str | None, reason: str) -> None:
    issue = only_issue(tmp_path, text)
    assert issue.field == field and reason in issue.reason


def test_missing_file_is_reported(tmp_path: Path) -> None:
    (issue,) = issues_of(tmp_path / "nope.yaml")
    assert issue.reason == "file not found"


def test_bare_yaml_on_key_in_retry_is_understood(tmp_path: Path) -> None:
    # YAML 1.1 reads `on:` as the boolean True; the model maps it back
    (check,) = load_checks(
        [
            write(
                tmp_path,
                "a.yaml",
                "checks:\n- id: a\n  service: s\n  request: {url: 'http://x'}\n"
                "  retry:\n    strategy: linear\n    on: any_failure\n",
            )
        ]
    )
    assert check.retry.on == "any_failure" and check.retry.max_attempts == 2


def test_relative_ca_bundle_is_resolved_next_to_the_file(tmp_path: Path) -> None:
    text = "checks: [{id: a, service: s, ca_bundle: certs/ca.pem, request: {url: 'https://x'}}]"
    (check,) = load_checks([write(tmp_path, "a.yaml", text)])
    assert check.ca_bundle == str(tmp_path / "certs" / "ca.pem")


def test_multistep_check_loads_with_steps_and_extractions(tmp_path: Path) -> None:
    (check,) = load_checks([EXAMPLES / "shop-orders.yaml"])[:1]
    assert isinstance(check, MultistepCheck)
    assert [s.name for s in check.steps] == ["log in", "create order", "read order back"]
    assert set(check.steps[0].extract) == {"token"}


def test_example_checks_validate() -> None:
    checks = load_checks([EXAMPLES])
    assert len(checks) >= 5
    assert len({c.id for c in checks}) == len(checks)
    assert {c.service for c in checks} == {"shop-api"}
    assert any(isinstance(c, MultistepCheck) for c in checks)


def test_select_checks_filters_by_region_ids_tags_and_service(tmp_path: Path) -> None:
    checks = load_checks([write(tmp_path, "a.yaml", GOOD)])
    assert [c.id for c in select_checks(checks, region="us-east-1")] == ["health"]
    assert [c.id for c in select_checks(checks, ids=["products"])] == ["products"]
    assert [c.id for c in select_checks(checks, service="shop-api")] == ["health"]
    assert select_checks(checks, tags=["nope"]) == []
