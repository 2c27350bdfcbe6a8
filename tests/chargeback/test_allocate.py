from __future__ import annotations

import csv
import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tasks.chargeback import (
    ChargebackError,
    ReconciliationError,
    StatementLine,
    UsageRecord,
    allocate,
    load_chargeback_config,
    load_usage_csv,
)
from tests.chargeback.helpers import config_from, row

SAMPLE = Path(__file__).parents[1] / "data" / "focus" / "focus_1_0_sample_1000.csv"

TEAMS = """
teams: [{name: a, tier: hard}, {name: b, tier: soft}, {name: c}]
rules:
  - {team: a, services: [A]}
  - {team: b, services: [B]}
  - {team: c, services: [C]}
shared:
  - {name: support, match: {services: [Support]}, SPLIT}
"""
LINES = [row("10.00", "A"), row("30.00", "B"), row("0.004", "C"), row("1.01", "Support")]


def _shared(allocation, team: str) -> list[Decimal]:
    return [ln.amount for ln in allocation.statements[team].lines if ln.category == "shared"]


def _run(tmp_path: Path, split: str, lines=LINES):
    config = config_from(tmp_path, TEAMS.replace("SPLIT", split))
    return allocate(lines, config, [], "2024-09")


def test_even_split_gives_the_odd_cent_to_the_first_team_by_name(tmp_path: Path) -> None:
    allocation = _run(tmp_path, "split: even")
    # 101 cents / 3 = 33.67: floors 33 each, two cents left, equal remainders -> "a", "b"
    assert [_shared(allocation, t) for t in "abc"] == [
        [Decimal("0.34")],
        [Decimal("0.34")],
        [Decimal("0.33")],
    ]


def test_proportional_split_follows_direct_cost(tmp_path: Path) -> None:
    allocation = _run(tmp_path, "split: proportional")
    # direct 10 : 30 : 0.004 -> 1.01 * 10/40.004 = 0.25247.., 0.75742.., 0.00010..
    assert _shared(allocation, "a") == [Decimal("0.25")]
    assert _shared(allocation, "b") == [Decimal("0.76")]
    assert _shared(allocation, "c") == []
    assert allocation.statements["b"].total == Decimal("30.76")


def test_weights_split_uses_fixed_fractions(tmp_path: Path) -> None:
    split = "split: weights, weights: {a: 0.5, b: 0.3, c: 0.2}"
    lines = [*LINES[:3], row("0.07", "Support")]
    allocation = _run(tmp_path, split, lines)
    # 3.5, 2.1, 1.4 cents: floors 3, 2, 1 and the missing cent to the largest remainder (a)
    assert [_shared(allocation, t) for t in "abc"] == [
        [Decimal("0.04")],
        [Decimal("0.02")],
        [Decimal("0.01")],
    ]


def test_statement_shape_and_reconciliation(tmp_path: Path) -> None:
    allocation = _run(tmp_path, "split: even")
    a = allocation.statements["a"]
    assert a.lines[0] == StatementLine("a", "direct", "A", Decimal("10.00"))
    assert (a.tier, a.total, a.charged) == ("hard", Decimal("10.34"), Decimal("10.34"))
    assert allocation.statements["b"].charged == 0  # soft chargeback: tracked, not charged
    assert allocation.source_total == Decimal("41.014")
    assert allocation.cloud_total() == Decimal("41.01")
    assert allocation.unallocated == []


def test_reconciliation_failure_reports_both_totals(tmp_path: Path) -> None:
    allocation = _run(tmp_path, "split: even")
    statement = allocation.statements["a"]
    wrong = dataclasses.replace(
        statement, lines=[dataclasses.replace(statement.lines[0], amount=Decimal("9.99"))]
    )
    broken = dataclasses.replace(allocation, statements={**allocation.statements, "a": wrong})
    with pytest.raises(ReconciliationError) as caught:
        broken.reconcile()
    assert (caught.value.expected, caught.value.actual) == (Decimal("41.01"), Decimal("40.66"))
    assert "source total (EffectiveCost) 41.01 != statements + unallocated 40.66" in str(
        caught.value
    )


def test_first_matching_rule_wins_and_shared_policies_come_first(tmp_path: Path) -> None:
    teams = """
teams: [{name: apps, tier: hard}, {name: units}]
rules:
  - {team: apps, tags: {application: "Zoom*"}}
  - {team: units, tags: {business_unit: "*"}}
shared:
  - {name: tax, match: {charge_categories: [Tax]}, split: even}
"""
    config = config_from(tmp_path, teams)
    both = {"application": "ZoomMapMax", "business_unit": "TempeAI"}
    lines = [
        row("1.00", tags=both),
        row("2.00", tags={"business_unit": "TempeAI"}),
        row("0.50", tags=both, ChargeCategory="Tax"),
        row("0.25", tags={"environment": "dev"}),
    ]
    allocation = allocate(lines, config, [], "2024-09")
    assert allocation.statements["apps"].total == Decimal("1.25")
    assert allocation.statements["units"].total == Decimal("2.25")
    assert allocation.unallocated == [
        StatementLine(None, "unallocated", "Compute", Decimal("0.25"))
    ]


def test_unowned_cost_can_be_shared_instead_of_shown(tmp_path: Path) -> None:
    teams = TEAMS.replace("SPLIT", "split: even") + "unowned: {split: weights, weights: {a: 1}}\n"
    config = config_from(tmp_path, teams)
    allocation = allocate([*LINES, row("5.00", "Orphan")], config, [], "2024-09")
    assert allocation.unallocated == []
    assert (
        StatementLine("a", "shared", "unowned", Decimal("5.00")) in allocation.statements["a"].lines
    )


def test_resource_globs_sub_accounts_and_period_filter(tmp_path: Path) -> None:
    teams = """
teams: [{name: web}, {name: batch}]
rules:
  - {team: web, resource_ids: ["arn:aws:ec2:*:i-web?"]}
  - {team: batch, sub_accounts: ["42"]}
"""
    config = config_from(tmp_path, teams)
    lines = [
        row("1.00", ResourceId="arn:aws:ec2:us:i-web1", SubAccountId="42"),
        row("2.00", ResourceId="arn:aws:ec2:us:i-web12", SubAccountId="42"),
        row("4.00", ResourceId=None, SubAccountId="7"),
        row("8.00", start="2024-10-01T00:00:00", SubAccountId="42"),  # next period
    ]
    allocation = allocate(lines, config, [], "2024-09")
    assert allocation.statements["web"].total == Decimal("1.00")
    assert allocation.statements["batch"].total == Decimal("2.00")
    assert [ln.amount for ln in allocation.unallocated] == [Decimal("4.00")]
    assert allocation.source_total == Decimal("7.00")


def test_amortised_effective_cost_is_charged_by_default_and_billed_on_request(
    tmp_path: Path,
) -> None:
    teams = TEAMS.replace("SPLIT", "split: even")
    # A commitment's purchase is billed up front; amortised, it is spread over the usage.
    lines = [
        row("0.00", "Support", billed="30.00", ChargeCategory="Purchase"),
        row("7.50", "A", billed="0.00"),
        row("2.50", "B", billed="0.00"),
    ]
    amortised = allocate(lines, config_from(tmp_path, teams), [], "2024-09")
    billed = allocate(lines, config_from(tmp_path, "cost_metric: billed\n" + teams), [], "2024-09")

    assert (amortised.metric, amortised.source_total) == ("EffectiveCost", Decimal("10.00"))
    assert [amortised.statements[t].total for t in "abc"] == [Decimal("7.50"), Decimal("2.50"), 0]
    assert (billed.metric, billed.source_total) == ("BilledCost", Decimal("30.00"))
    assert [billed.statements[t].total for t in "abc"] == [Decimal("10.00")] * 3
    overridden = allocate(lines, config_from(tmp_path, teams), [], "2024-09", "BilledCost")
    assert overridden.statements == billed.statements


def test_reconciliation_checks_the_charged_metric_and_names_it(tmp_path: Path) -> None:
    config = config_from(tmp_path, TEAMS.replace("SPLIT", "split: even"))
    allocation = allocate([row("7.50", "A", billed="10.00")], config, [], "2024-09")
    allocation.reconcile()  # statements add up to the EffectiveCost total, not the billed one
    wrong = dataclasses.replace(allocation, source_total=Decimal("10.00"))
    with pytest.raises(ReconciliationError, match=r"source total \(EffectiveCost\) 10.00"):
        wrong.reconcile()
    with pytest.raises(ChargebackError, match="metric must be one of"):
        allocate([row("1.00", "A")], config, [], "2024-09", metric="ListCost")


def test_platform_usage_is_priced_with_tier_discounts(tmp_path: Path) -> None:
    config = config_from(tmp_path, TEAMS.replace("SPLIT", "split: even"))
    usage = [UsageRecord("b", "2024-09", "metrics_ingested", Decimal(60_000_000))]
    allocation = allocate(LINES, config, usage, "2024-09")
    platform = [ln for ln in allocation.statements["b"].lines if ln.category != "direct"][1:]
    assert [(ln.category, ln.item, ln.amount) for ln in platform] == [
        ("platform", "metrics_ingested", Decimal("60.00")),
        ("discount", "metrics_ingested 10M-50M 10% off", Decimal("-4.00")),
        ("discount", "metrics_ingested 50M-100M 20% off", Decimal("-2.00")),
    ]
    assert allocation.statements["b"].total == Decimal("30.00") + Decimal("0.34") + 54


def test_bad_inputs_raise_chargeback_errors(tmp_path: Path) -> None:
    config = config_from(tmp_path, TEAMS.replace("SPLIT", "split: even"))
    with pytest.raises(ChargebackError, match="unknown team 'zed'"):
        allocate(
            LINES,
            config,
            [UsageRecord("zed", "2024-09", "metrics_ingested", Decimal(1))],
            "2024-09",
        )
    with pytest.raises(ChargebackError, match="'cpu' is not on the rate card"):
        allocate(LINES, config, [UsageRecord("a", "2024-09", "cpu", Decimal(1))], "2024-09")
    with pytest.raises(ChargebackError, match="cost in \\['EUR'\\]"):
        allocate([row("1", "A", BillingCurrency="EUR")], config, [], "2024-09")
    with pytest.raises(ChargebackError, match="YYYY-MM"):
        allocate(LINES, config, [], "September")


def test_the_focus_sample_allocates_by_its_tags_and_reconciles() -> None:
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = sum((Decimal(r["EffectiveCost"]) for r in rows), Decimal(0))  # amortised
    config = load_chargeback_config(
        "deployments/chargeback/teams.yaml", "deployments/chargeback/ratecard.yaml"
    )
    usage = load_usage_csv("deployments/chargeback/usage.csv", "2024-09")
    allocation = allocate(rows, config, usage, "2024-09")
    assert allocation.source_total == expected
    assert allocation.cloud_total() == expected.quantize(Decimal("0.01"))
    allocation.reconcile()
    peoria = sum(
        (
            Decimal(r["EffectiveCost"])
            for r in rows
            if r["Tags"] != "NULL" and json.loads(r["Tags"]).get("business_unit") == "PeoriaData"
        ),
        Decimal(0),
    )
    direct = [ln for ln in allocation.statements["data-platform"].lines if ln.category == "direct"]
    assert abs(sum(ln.amount for ln in direct) - peoria) <= Decimal("0.01") * len(direct)
    assert allocation.unallocated, "untagged, unshared cost is shown as unallocated"
    assert set(allocation.statements) == set(config.team_names)
