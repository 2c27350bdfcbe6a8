"""Monitors YAML: defaults, validation and errors that name the file, the monitor and the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from textwrap import dedent

import pytest

from tasks.cost.anomaly.monitors import Monitor, load_monitors
from tasks.errors import SpecError, SpecIssue

EXAMPLE = Path(__file__).resolve().parents[3] / "deployments" / "cost" / "monitors.yaml"


def write(directory: Path, text: str, name: str = "monitors.yaml") -> Path:
    path = directory / name
    path.write_text(dedent(text), encoding="utf-8")
    return path


def issues(*paths: Path) -> list[SpecIssue]:
    with pytest.raises(SpecError) as info:
        load_monitors(paths)
    return info.value.issues


def only_issue(tmp_path: Path, text: str) -> SpecIssue:
    path = write(tmp_path, text)
    found = issues(path)
    assert len(found) == 1, found
    assert found[0].file == str(path)
    return found[0]


def test_the_example_file_loads():
    monitors = load_monitors([EXAMPLE])
    assert {m.dimension for m in monitors} == {"total", "service", "sub_account", "tag"}
    assert all(m.targets for m in monitors)


def test_defaults_and_documented_fallbacks(tmp_path):
    path = write(
        tmp_path,
        """
        defaults:
          thresholds: {min_impact: 50}
          targets: [custom-webhook/finops]
        monitors:
          - name: total
            dimension: total
          - name: teams
            dimension: tag
            tag: team
            metric: BilledCost
            filter: {provider: AWS, billing_account: 111122223333}
            thresholds: {score: 3, min_pct: "20%"}
            immediate_impact: 1000.50
            targets: [slack-webhook/team-leads]
        """,
    )
    total, teams = load_monitors([path])
    assert total == Monitor(
        name="total",
        dimension="total",
        thresholds={"min_impact": 50},
        targets=["custom-webhook/finops"],
    )
    assert (total.metric, total.thresholds.score, total.thresholds.min_pct) == (
        "EffectiveCost",
        3.0,
        15.0,
    )
    assert total.holidays is None  # no holiday calendar unless one is named
    assert total.filter.charge_category == ("Usage",) and total.immediate_impact is None
    assert teams.thresholds.score == 3 and teams.thresholds.min_pct == 20.0
    assert teams.thresholds.min_impact == Decimal("50")  # merged key by key with the defaults
    assert teams.filter.provider == ("AWS",) and teams.filter.billing_account == ("111122223333",)
    assert teams.immediate_impact == Decimal("1000.50")
    assert teams.targets == ("slack-webhook/team-leads",)


@pytest.mark.parametrize(
    ("monitor", "field", "reason"),
    [
        (
            "dimension: region",
            "monitors[0].dimension",
            "'total', 'service', 'sub_account' or 'tag'",
        ),
        ("dimension: tag", "monitors[0].tag", "dimension tag needs tag"),
        (
            "dimension: service\n    tag: team",
            "monitors[0].tag",
            "only allowed with dimension: tag",
        ),
        (
            "dimension: total\n    metric: ListCost",
            "monitors[0].metric",
            "'EffectiveCost' or 'BilledCost'",
        ),
        (
            "dimension: total\n    thresholds: {score: 0}",
            "monitors[0].thresholds.score",
            "greater than 0",
        ),
        (
            "dimension: total\n    thresholds: {min_pct: -5}",
            "monitors[0].thresholds.min_pct",
            "greater than or equal to 0",
        ),
        (
            "dimension: total\n    thresholds: {min_impact: lots}",
            "monitors[0].thresholds.min_impact",
            "decimal",
        ),
        (
            "dimension: total\n    immediate_impact: -1",
            "monitors[0].immediate_impact",
            "greater than or equal to 0",
        ),
        (
            "dimension: total\n    targets: [finops]",
            "monitors[0].targets[0]",
            "<block-type>/<block-name>",
        ),
        (
            "dimension: total\n    filter: {charge_category: Tax2}",
            "monitors[0].filter.charge_category",
            "unknown charge category Tax2",
        ),
        (
            "dimension: total\n    filter: {region: us-east-1}",
            "monitors[0].filter.region",
            "unknown field",
        ),
        ("dimension: total\n    treshold: 3", "monitors[0].treshold", "unknown field"),
        ("dimension: total\n    holidays: XX", "monitors[0].holidays", "unknown country"),
        ("dimension: total\n    holidays: 7", "monitors[0].holidays", "a country code"),
        ("dimension: total\n    holidays: [someday]", "monitors[0].holidays", "date"),
    ],
)
def test_a_bad_field_is_named_with_its_monitor(tmp_path, monitor, field, reason):
    issue = only_issue(tmp_path, f"monitors:\n  - name: spend\n    {monitor}\n")
    assert issue.item == "spend"
    assert issue.field == field
    assert reason in issue.reason


def test_a_bad_name_and_a_missing_dimension(tmp_path):
    path = write(tmp_path, "monitors:\n  - name: Total Spend\n")
    found = issues(path)
    assert {(i.item, i.field) for i in found} == {
        ("Total Spend", "monitors[0].name"),
        ("Total Spend", "monitors[0].dimension"),
    }
    assert any("not a valid name" in i.reason for i in found)


def test_duplicate_names_across_files_are_reported(tmp_path):
    a = write(tmp_path, "monitors:\n  - {name: spend, dimension: total}\n", "a.yaml")
    b = write(tmp_path, "monitors:\n  - {name: spend, dimension: service}\n", "b.yaml")
    (issue,) = issues(a, b)
    assert (issue.file, issue.item, issue.field) == (str(b), "spend", "monitors[0].name")
    assert f"also defined in {a}" in issue.reason


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("monitors: []\n", "monitors", "non-empty list"),
        ("monitor:\n  - {name: a, dimension: total}\n", "monitor", "unknown field"),
        ("- just a list\n", None, "expected a mapping"),
        (
            "defaults: {metric: Cost}\nmonitors:\n  - {name: a, dimension: total}\n",
            "defaults.metric",
            "'EffectiveCost'",
        ),
    ],
)
def test_document_level_problems(tmp_path, text, field, reason):
    found = issues(write(tmp_path, text))
    assert any(i.field == field and reason in i.reason and i.item is None for i in found), found


def test_invalid_yaml_names_the_line(tmp_path):
    issue = only_issue(tmp_path, "monitors:\n  - name: a\n   dimension: [total\n")
    assert "invalid YAML: line" in issue.reason


def test_every_problem_of_every_file_is_reported_at_once(tmp_path):
    a = write(tmp_path, "monitors:\n  - {name: a, dimension: region}\n", "a.yaml")
    b = write(tmp_path, "monitors:\n  - {name: b, dimension: tag}\n  - {name: c}\n", "b.yaml")
    found = issues(a, b)
    assert [(Path(i.file).name, i.item) for i in found] == [
        ("a.yaml", "a"),
        ("b.yaml", "b"),
        ("b.yaml", "c"),
    ]
    assert "a.yaml: a: monitors[0].dimension: " in str(SpecError(found))


def test_a_missing_file_is_an_error(tmp_path):
    (missing,) = issues(tmp_path / "nope.yaml")
    assert missing.reason == "file not found"


def test_holidays_are_a_country_a_subdivision_or_dates_and_merge_from_defaults(tmp_path):
    path = write(
        tmp_path,
        """
        defaults:
          holidays: US
        monitors:
          - {name: total, dimension: total}
          - {name: california, dimension: total, holidays: US-CA}
          - {name: plant, dimension: total, holidays: [2025-12-24, 2025-12-31]}
        """,
    )
    us, california, plant = load_monitors([path])
    assert (us.holidays, california.holidays) == ("US", "US-CA")
    assert plant.holidays == (date(2025, 12, 24), date(2025, 12, 31))
