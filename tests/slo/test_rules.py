"""``traceo slo rules``: which SLOs become rules, how windows and thresholds are written, errors."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import yaml
from click.testing import CliRunner

from deployments.cli import main
from tasks.slo.burn import AlertTier
from tasks.slo.definition import Indicator, PrometheusSli, PromQuery
from tasks.slo.loader import load_slos
from tasks.slo.rules import build_rules, promql_duration, render_rules
from tasks.slo.windows import CalendarWindow, Duration
from tests.services import require_prometheus
from tests.slo.helpers import slo

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deployments" / "slos"
CALENDAR = CalendarWindow(Duration(1, "M"), datetime(2024, 1, 1), "UTC")


def _rules(group: dict) -> dict[str, dict]:
    return {
        r.get("record") or f"{r['alert']} {r['labels'].get('windows', '')}": r
        for r in group["rules"]
    }


def test_durations_use_the_largest_exact_unit() -> None:
    assert [promql_duration(s) for s in (45, 300, 5400, 7200, 86400, 28 * 86400)] == [
        "45s",
        "5m",
        "90m",
        "2h",
        "1d",
        "28d",
    ]


def test_default_tiers_are_scaled_to_the_period_and_guarded_by_min_events() -> None:
    rules = _rules(build_rules([slo(min_events=12)]).groups[0])

    page = rules["TraceoSloBurnRate 1h/5m"]
    assert page["labels"] == {
        "slo": "test-slo",
        "service": "shop-api",
        "severity": "page",
        "windows": "1h/5m",
    }
    assert 'traceo_slo:sli_error:ratio_rate1h{slo="test-slo"} / 0.001 >= 14.4' in page["expr"]
    assert 'traceo_slo:events:increase5m{slo="test-slo"} >= 12' in page["expr"]
    assert "/ 0.001 >= 1.0" in rules["TraceoSloBurnRate 3d/6h"]["expr"]
    assert rules["traceo_slo:objective:ratio"]["expr"] == "vector(0.999)"
    assert "[30d]" in rules["traceo_slo:sli_error:ratio_rate30d"]["expr"]
    assert "[15m]" in rules["TraceoSloNoData "]["expr"]


def test_windows_are_whole_slots_and_timeslice_budgets_count_the_periods_slices() -> None:
    definition = slo(
        budgeting_method="Timeslices",
        time_slice_target=0.9,
        slot_seconds=300,
        no_data=None,
        tiers=(AlertTier("page", 3600, 120, threshold=5.0, op="gt"),),
    )
    rules = _rules(build_rules([definition]).groups[0])

    # Traceo sums ceil(2m / 5m) = 1 whole slot for a 2-minute window.
    assert "ratio_rate5m" in rules["TraceoSloBurnRate 1h/2m"]["expr"]
    assert "/ 0.001 > 5.0" in rules["TraceoSloBurnRate 1h/2m"]["expr"]
    # 0.1% of 8,640 five-minute slices in 30 days
    assert rules["traceo_slo:error_budget_remaining:ratio"]["expr"].endswith(f"/ {0.001 * 8640!r}")
    assert "TraceoSloNoData " not in rules


def test_a_calendar_slo_with_scaled_tiers_is_reported_with_file_slo_and_reason() -> None:
    scaled = slo(id="monthly", window=CALENDAR, file="slos/monthly.yaml")
    explicit = slo(
        id="fixed", window=CALENDAR, tiers=(AlertTier("page", 3600, 300, threshold=10.0),)
    )

    rules = build_rules([scaled, explicit])

    assert [str(i) for i in rules.issues] == [
        "slos/monthly.yaml: SLO monthly: spec.alertPolicies: tiers page:1h/5m, page:6h/30m, "
        "ticket:1d/2h, ticket:3d/6h scale with the calendar period's length, which changes month "
        "to month and cannot be written as a rule threshold; give alert conditions with explicit "
        "thresholds"
    ]
    assert [g["name"] for g in rules.groups] == ["traceo-slo-fixed"]
    assert "traceo_slo:error_budget_remaining:ratio" not in _rules(rules.groups[0])
    assert rules.notes == [
        "fixed: calendar window 1M calendar (UTC): alerts only, no period budget rule "
        "(Prometheus ranges are rolling)"
    ]


def test_the_shipped_slos_give_rules_promtool_accepts(tmp_path: Path) -> None:
    promtool = Path(require_prometheus()).with_name("promtool")
    out = tmp_path / "slo-rules.yml"

    result = CliRunner().invoke(main, ["slo", "rules", str(SHIPPED), "-o", str(out)])

    assert result.exit_code == 0, result.output
    groups = yaml.safe_load(out.read_text())["groups"]
    assert {g["name"] for g in groups} == {f"traceo-slo-{s.id}" for s in load_slos([SHIPPED])}
    check = subprocess.run(
        [str(promtool), "check", "rules", str(out)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"SUCCESS: {sum(len(g['rules']) for g in groups)} rules found" in check.stdout


def test_the_cli_refuses_an_slo_it_cannot_express_and_writes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "monthly.yaml"
    spec.write_text(
        """
apiVersion: openslo/v1
kind: SLO
metadata: {name: monthly}
spec:
  service: shop-api
  indicator:
    metadata: {name: ok}
    spec:
      ratioMetric:
        good: {metricSource: {type: traceo, spec: {verdicts: [pass]}}}
        total: {metricSource: {type: traceo, spec: {checks: [shop-health]}}}
  timeWindow:
    - duration: 1M
      isRolling: false
      calendar: {startTime: "2024-01-01 00:00:00", timeZone: UTC}
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
"""
    )
    out = tmp_path / "rules.yml"

    result = CliRunner().invoke(main, ["slo", "rules", str(spec), "-o", str(out)])

    assert result.exit_code == 1
    assert f"error: {spec}: SLO monthly: spec.alertPolicies: tiers page:1h/5m" in result.output
    assert "1 SLO(s) cannot be written as rules; none written" in result.output
    assert not out.exists()


def test_an_slo_read_from_prometheus_gets_no_rules_and_a_note() -> None:
    query = PromQuery("sum(increase(x[1m]))", "slos.yaml", "SLO api", "spec.indicator")
    api = slo(
        id="api", indicator=Indicator("api", prometheus=PrometheusSli(total=query, good=query))
    )

    rules = build_rules([api, slo()])

    assert [g["name"] for g in rules.groups] == ["traceo-slo-test-slo"] and not rules.issues
    assert rules.notes == [
        "api: its SLI reads Prometheus, which `traceo metrics serve` does not count: no rules"
    ]


def test_rendered_rules_say_where_they_came_from() -> None:
    text = render_rules(build_rules([slo()]))
    assert text.startswith("# Prometheus rules generated by `traceo slo rules`")
    assert yaml.safe_load(text)["groups"][0]["name"] == "traceo-slo-test-slo"
