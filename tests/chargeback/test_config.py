from __future__ import annotations

from pathlib import Path

import pytest

from tasks.chargeback import load_chargeback_config, load_usage_csv
from tasks.cost.focus import CostDataError
from tasks.errors import SpecError
from tests.chargeback.helpers import RATECARD, config_from

TEAMS = """
currency: USD
teams:
  - {name: a, tier: hard}
  - {name: b}
rules:
  - {team: a, services: [A]}
shared:
  - {name: support, match: {services: [Support]}, split: even}
"""


def _errors(tmp_path: Path, teams: str, ratecard: str = RATECARD) -> list[str]:
    with pytest.raises(SpecError) as caught:
        config_from(tmp_path, teams, ratecard)
    return [str(issue) for issue in caught.value.issues]


def test_example_deployment_files_load() -> None:
    config = load_chargeback_config(
        "deployments/chargeback/teams.yaml", "deployments/chargeback/ratecard.yaml"
    )
    assert config.currency == "USD"
    assert config.metric == "EffectiveCost"
    assert "data-platform" in config.team_names
    assert config.tier("sre") == "hard"
    usage = load_usage_csv("deployments/chargeback/usage.csv", "2024-09")
    assert {u.period for u in usage} == {"2024-09"}
    assert {u.team for u in usage} <= set(config.team_names)


def test_unknown_field_names_file_team_and_field(tmp_path: Path) -> None:
    errors = _errors(tmp_path, TEAMS.replace("{name: b}", "{name: b, colour: red}"))
    assert errors == [
        f"{tmp_path / 'teams.yaml'}: team b: teams[1].colour: unknown field (not supported)"
    ]


def test_the_cost_metric_is_effective_by_default_billed_on_request(tmp_path: Path) -> None:
    assert config_from(tmp_path, TEAMS).metric == "EffectiveCost"
    assert config_from(tmp_path, TEAMS + "cost_metric: billed\n").metric == "BilledCost"
    (error,) = _errors(tmp_path, TEAMS + "cost_metric: BilledCost\n")
    assert error == (
        f"{tmp_path / 'teams.yaml'}: cost_metric: Input should be 'effective' or 'billed'"
    )


def test_bad_split_method_names_the_policy(tmp_path: Path) -> None:
    (error,) = _errors(tmp_path, TEAMS.replace("split: even", "split: random"))
    assert "teams.yaml: policy support: shared[0].split:" in error
    assert "'even', 'proportional' or 'weights'" in error


def test_weights_must_sum_to_one(tmp_path: Path) -> None:
    teams = TEAMS.replace("split: even", "split: weights, weights: {a: 0.6, b: 0.3}")
    (error,) = _errors(tmp_path, teams)
    assert "policy support: shared[0]" in error
    assert "weights must sum to 1 (they sum to 0.9)" in error


def test_weights_for_a_team_that_does_not_exist(tmp_path: Path) -> None:
    teams = TEAMS.replace("split: even", "split: weights, weights: {a: 0.5, zed: 0.5}")
    (error,) = _errors(tmp_path, teams)
    assert error.endswith("policy support: shared[0].weights.zed: not a sharing team")


def test_rule_for_unknown_team_and_empty_selector(tmp_path: Path) -> None:
    teams = TEAMS.replace("{team: a, services: [A]}", "{team: nobody, services: [A]}")
    assert _errors(tmp_path, teams)[0].endswith("rule 1 (team nobody): rules[0].team: unknown team")
    (error,) = _errors(tmp_path, TEAMS.replace("{team: a, services: [A]}", "{team: a}"))
    assert "rule 1 (team a): rules[0]: Value error, a rule needs at least one of" in error


def test_overlapping_tiers_name_the_rate_card_metric(tmp_path: Path) -> None:
    ratecard = RATECARD.replace("{from: 50000000, to: 100000000", "{from: 40000000, to: 100000000")
    (error,) = _errors(tmp_path, TEAMS, ratecard)
    assert (
        f"{tmp_path / 'ratecard.yaml'}: metric metrics_ingested: metrics.metrics_ingested:" in error
    )
    assert "tiers[2] overlaps tiers[1] (from 40000000 < to 50000000)" in error


def test_tier_discount_out_of_range(tmp_path: Path) -> None:
    ratecard = RATECARD.replace('discount: "0.35"', 'discount: "1.5"')
    (error,) = _errors(tmp_path, TEAMS, ratecard)
    assert "metrics.metrics_ingested.tiers[3].discount: Input should be less than 1" in error


def test_problems_in_both_files_are_reported_together(tmp_path: Path) -> None:
    errors = _errors(tmp_path, TEAMS.replace("tier: hard", "tier: maybe"), "currency: USD\n")
    assert any("team a: teams[0].tier" in e for e in errors)
    assert any("ratecard.yaml: metrics: Field required" in e for e in errors)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    (tmp_path / "ratecard.yaml").write_text(RATECARD)
    (tmp_path / "teams.yaml").write_text("teams: [unclosed\n")
    with pytest.raises(SpecError, match="invalid YAML: line 2"):
        load_chargeback_config(tmp_path / "teams.yaml", tmp_path / "ratecard.yaml")
    with pytest.raises(SpecError, match="file not found"):
        load_chargeback_config(tmp_path / "absent.yaml", tmp_path / "ratecard.yaml")


def test_usage_csv_filters_the_period_and_reports_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text("team,period,metric,quantity\na,2024-09,m,5\na,2024-09,m,7\na,2024-08,m,1\n")
    (record,) = load_usage_csv(path, "2024-09")
    assert (record.team, record.metric, record.quantity) == ("a", "m", 12)
    path.write_text("team,period,metric,quantity\na,2024-9,m,5\na,2024-09,m,-1\n")
    with pytest.raises(CostDataError) as caught:
        load_usage_csv(path, "2024-09")
    assert [str(i) for i in caught.value.issues] == [
        f"{path}: row 1: column period: expected YYYY-MM",
        f"{path}: row 2: column quantity: must be >= 0",
    ]
