from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from deployments.cli import main
from tasks.errors import SpecError
from tasks.slo.burn import DEFAULT_TIERS
from tasks.slo.loader import load_slo_set, load_slos, load_slos_from_text
from tasks.slo.windows import CalendarWindow, RollingWindow

EXAMPLES = Path(__file__).resolve().parents[2] / "deployments" / "slos"

SLI = """
apiVersion: openslo/v1
kind: SLI
metadata:
  name: health-ok
spec:
  ratioMetric:
    good:
      metricSource: {type: traceo, spec: {verdicts: [pass, degraded]}}
    total:
      metricSource: {type: traceo, spec: {checks: [shop-health]}}
"""


def slo_doc(name: str = "avail", spec: str = "", annotations: str = "") -> str:
    """An SLO document whose spec lines can be replaced or extended."""
    base = {
        "service": "service: shop-api",
        "indicator": "indicatorRef: health-ok",
        "timeWindow": "timeWindow:\n  - duration: 28d\n    isRolling: true",
        "budgetingMethod": "budgetingMethod: Occurrences",
        "objectives": "objectives:\n  - target: 0.999",
    }
    extra = []
    for block in filter(None, textwrap.dedent(spec).split("\n\n")):
        key = block.split(":", 1)[0].strip()
        key = "indicator" if key in ("indicatorRef", "indicator") else key
        if key in base:
            base[key] = block.strip("\n")
        else:
            extra.append(block.strip("\n"))
    body = "\n".join([*base.values(), *extra])
    notes = textwrap.indent(textwrap.dedent(annotations).strip(), "    ")
    meta = f"\n  annotations:\n{notes}" if annotations else ""
    return (
        f"apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: {name}{meta}\nspec:\n"
        + textwrap.indent(body, "  ")
    )


def with_sli(**kwargs: str) -> str:
    return SLI + "---\n" + slo_doc(**kwargs)


def issues_of(text: str, file: str = "slos.yaml") -> list[str]:
    with pytest.raises(SpecError) as info:
        load_slos_from_text(text, file)
    return [str(i) for i in info.value.issues]


def test_minimal_slo_gets_the_workbook_defaults():
    (definition,) = load_slos_from_text(with_sli())
    assert definition.id == "avail" and definition.service == "shop-api"
    assert definition.target == 0.999
    assert definition.indicator.checks == ("shop-health",)
    assert definition.indicator.good_verdicts == ("pass", "degraded")
    assert definition.window == RollingWindow(definition.window.duration)
    assert definition.window.duration.label == "28d"
    assert definition.tiers == DEFAULT_TIERS
    assert definition.no_data is not None and definition.no_data.after_seconds == 900
    assert (definition.min_events, definition.min_failing_regions) == (10, 1)


def test_example_slos_validate():
    loaded = load_slo_set([EXAMPLES])
    ids = {d.id for d in loaded.slos}
    assert ids == {"shop-api-availability", "shop-api-latency", "shop-order-journey"}
    assert {d.service for d in loaded.slos} == {"shop-api"}
    by_id = {d.id: d for d in loaded.slos}
    latency = by_id["shop-api-latency"]
    assert (latency.indicator.latency_op, latency.indicator.latency_ms) == ("lte", 800)
    assert latency.target == 0.95 and latency.min_failing_regions == 2
    orders = by_id["shop-order-journey"]
    assert isinstance(orders.window, CalendarWindow) and orders.window.time_zone == "Europe/Paris"
    assert orders.budgeting_method == "Timeslices" and orders.slot_seconds == 300
    assert by_id["shop-api-availability"].target == 0.999  # from targetPercent: 99.9


def test_alert_policy_override_maps_conditions_targets_and_no_data():
    definition = {d.id: d for d in load_slos([EXAMPLES])}["shop-order-journey"]
    page, ticket = definition.tiers
    assert (page.key, page.threshold, page.op) == ("page:6h/30m", 6.0, "gte")
    assert page.targets == ("pager-duty-webhook/sre-oncall", "slack-webhook/sre-alerts")
    assert (page.policy, page.condition) == ("orders-page", "orders-fast-burn")
    assert (ticket.key, ticket.threshold, ticket.notify_resolved) == ("ticket:1d/2h", 2.0, False)
    assert definition.no_data is not None
    assert definition.no_data.severity == "ticket"
    assert definition.no_data.targets == ("slack-webhook/sre-alerts",)
    assert definition.no_data.after_seconds == 16 * 60


def test_policy_without_alert_when_no_data_drops_the_no_data_alert():
    text = with_sli(
        spec="""
        alertPolicies:
          - kind: AlertPolicy
            metadata: {name: fast}
            spec:
              conditions:
                - kind: AlertCondition
                  metadata: {name: fast-burn}
                  spec:
                    severity: page
                    condition:
                      {kind: burnrate, op: gt, threshold: 10, lookbackWindow: 2h, alertAfter: 10m}
        """
    )
    (definition,) = load_slos_from_text(text)
    assert [t.key for t in definition.tiers] == ["page:2h/10m"]
    assert definition.no_data is None


def test_annotations_set_traceo_options():
    text = with_sli(
        annotations="""
        traceo.dev/min-events: "25"
        traceo.dev/global-min-failing-regions: "2"
        traceo.dev/no-data-after: 30m
        traceo.dev/slot: 5m
        example.com/dashboard: https://grafana.example/d/shop
        """
    )
    (definition,) = load_slos_from_text(text)
    assert (definition.min_events, definition.min_failing_regions) == (25, 2)
    assert definition.no_data is not None and definition.no_data.after_seconds == 1800
    assert definition.slot_seconds == 300
    off = with_sli(annotations='traceo.dev/no-data-after: "off"')
    assert load_slos_from_text(off)[0].no_data is None


def test_several_objectives_become_separate_slos():
    text = with_sli(
        spec="""
        objectives:
          - displayName: Three nines
            target: 0.999
          - displayName: Two nines
            targetPercent: 99
        """
    )
    definitions = load_slos_from_text(text)
    assert [(d.id, d.target) for d in definitions] == [
        ("avail/three-nines", 0.999),
        ("avail/two-nines", 0.99),
    ]


def test_references_resolve_across_files(tmp_path):
    (tmp_path / "sli.yaml").write_text(SLI)
    (tmp_path / "slo.yaml").write_text(slo_doc())
    assert [d.id for d in load_slos([tmp_path])] == ["avail"]


def test_bad_yaml_names_the_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x\n")
    with pytest.raises(SpecError) as info:
        load_slos([path])
    (issue,) = info.value.issues
    assert issue.file == str(path) and "invalid YAML" in issue.reason and "line" in issue.reason


@pytest.mark.parametrize(
    ("spec", "annotations", "field", "reason"),
    [
        ("budgetingMethod: RatioTimeslices", "", "spec.budgetingMethod",
         "RatioTimeslices is not supported"),
        ("colour: blue", "", "spec.colour", "unknown field (not supported)"),
        ("indicatorRef: nowhere", "", "spec.indicatorRef", "no SLI named 'nowhere'"),
        ("objectives:\n  - target: 99.9", "", "spec.objectives[0].target",
         "between 0 and 1"),
        ("objectives:\n  - target: 1", "", "spec.objectives[0].target", "between 0 and 1"),
        ("timeWindow:\n  - duration: 28d\n    isRolling: true\n"
         "  - duration: 7d\n    isRolling: true",
         "", "spec.timeWindow", "exactly one time window"),
        ("timeWindow:\n  - duration: 1M\n    isRolling: true", "", "spec.timeWindow[0].duration",
         "fixed length"),
        ("timeWindow:\n  - duration: 1M\n    isRolling: false", "", "spec.timeWindow[0].calendar",
         "calendar.startTime"),
        ("timeWindow:\n  - duration: 1M\n"
         "    calendar: {startTime: 2024-01-01, timeZone: Mars/Olympus}",
         "", "spec.timeWindow[0].calendar.timeZone", "unknown time zone"),
        ("budgetingMethod: Timeslices", "", "spec.objectives[0].timeSliceWindow",
         "required with budgetingMethod: Timeslices"),
        ("objectives:\n  - target: 0.99\n    timeSliceTarget: 0.9", "",
         "spec.objectives[0].timeSliceTarget", "only used with budgetingMethod: Timeslices"),
        ("objectives:\n  - target: 0.99\n    targetPercent: 99", "", "spec.objectives[0].target",
         "exactly one"),
        ("objectives:\n  - target: 0.99\n    indicatorRef: other", "",
         "spec.objectives[0].indicatorRef", "composite SLO (per-objective indicator)"),
        ("alertPolicies:\n  - alertPolicyRef: missing", "", "spec.alertPolicies[0].alertPolicyRef",
         "no AlertPolicy named 'missing'"),
        ("", 'traceo.dev/min-event: "5"', "metadata.annotations",
         "unknown annotation traceo.dev/min-event (not supported"),
        ("", 'traceo.dev/min-events: "none"', "metadata.annotations", "whole number"),
        ("budgetingMethod: Timeslices\n\nobjectives:\n  - target: 0.99\n    timeSliceTarget: 0.9\n"
         "    timeSliceWindow: 1m", "traceo.dev/slot: 5m", "metadata.annotations",
         "Timeslices use timeSliceWindow"),
    ],
)  # fmt: skip
def test_malformed_slo_names_file_slo_and_field(spec, annotations, field, reason):
    issues = issues_of(with_sli(spec=spec, annotations=annotations))
    expected = f"slos.yaml: SLO avail: {field}: "
    assert any(i.startswith(expected) and reason in i for i in issues), issues


@pytest.mark.parametrize(
    ("sli_spec", "field", "reason"),
    [
        ("ratioMetric:\n  counter: true\n  good: {metricSource: {type: traceo, spec: {}}}\n"
         "  total: {metricSource: {type: traceo, spec: {checks: [a]}}}",
         "spec.ratioMetric.counter", "counter: true is not supported"),
        ("ratioMetric:\n  good: {metricSource: {type: datadog, spec: {}}}\n"
         "  total: {metricSource: {type: traceo, spec: {checks: [a]}}}",
         "spec.ratioMetric.good.metricSource.type", "'datadog' is not supported"),
        ("ratioMetric:\n  good: {metricSource: {type: traceo, spec: {checks: [b]}}}\n"
         "  total: {metricSource: {type: traceo, spec: {checks: [a]}}}",
         "spec.ratioMetric.good.metricSource.spec", "same checks as total"),
        ("ratioMetric:\n  good: {metricSource: {type: traceo, spec: {verdicts: [error]}}}\n"
         "  total: {metricSource: {type: traceo, spec: {checks: [a]}}}",
         "spec.ratioMetric.good.metricSource.spec.verdicts", "error not among total's verdicts"),
        ("ratioMetric:\n  total: {metricSource: {type: traceo, spec: {checks: [a]}}}",
         "spec.ratioMetric.good", "give good or bad"),
        ("ratioMetric:\n  raw: {metricSource: {type: traceo, spec: {checks: [a]}}}\n"
         "  rawType: success",
         "spec.ratioMetric.raw", "raw (precomputed) ratio is not supported"),
    ],
)  # fmt: skip
def test_malformed_sli_names_the_sli_document(sli_spec, field, reason):
    sli = "apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: health-ok}\nspec:\n"
    issues = issues_of(sli + textwrap.indent(sli_spec, "  ") + "\n---\n" + slo_doc())
    assert any(
        i.startswith(f"slos.yaml: SLI health-ok: {field}: ") and reason in i for i in issues
    ), issues


def test_latency_slo_needs_lt_or_lte():
    text = with_sli(
        spec="""
        indicator:
          metadata: {name: lat}
          spec:
            thresholdMetric:
              metricSource:
                type: traceo
                spec: {checks: [shop-products-list], metric: duration_ms}

        objectives:
          - target: 0.95
            op: gt
            value: 800
        """
    )
    issues = issues_of(text)
    assert (
        "slos.yaml: SLO avail: spec.objectives[0].op: gt is not supported: a latency SLI "
        "needs op lt or lte" in issues
    )


def test_burnrate_condition_rules():
    condition = """
apiVersion: openslo/v1
kind: AlertCondition
metadata: {name: c}
spec:
  severity: %s
  condition: {kind: burnrate, op: %s, threshold: 2, lookbackWindow: %s, alertAfter: 5m}
"""
    issues = issues_of(condition % ("page", "lte", "1h"))
    assert any(
        "AlertCondition c: spec.condition.op: op 'lte' is not supported" in i for i in issues
    )
    issues = issues_of(condition % ("sev1", "gte", "1h"))
    assert any("spec.severity: severity 'sev1' is not supported" in i for i in issues)
    issues = issues_of(condition % ("page", "gte", "5m"))
    assert any("spec.condition: alertAfter (the short window) must be shorter" in i for i in issues)


def test_notification_target_must_name_a_prefect_block():
    target = "apiVersion: openslo/v1\nkind: AlertNotificationTarget\nmetadata: {name: t}\n"
    issues = issues_of(target + "spec: {target: slack}\n")
    assert any("AlertNotificationTarget t: spec.target: " in i and "<block-type>" in i
               for i in issues)  # fmt: skip


def test_duplicate_names_and_unsupported_kinds_are_reported():
    issues = issues_of(
        SLI + "---\n" + SLI + "---\napiVersion: openslo/v1\nkind: DataSource\n"
        "metadata: {name: prom}\nspec: {type: Prometheus}\n---\napiVersion: openslo/v2\nkind: SLO\n"
        "metadata: {name: v2}\nspec: {}\n"
    )
    assert any("SLI health-ok: metadata.name: duplicate name" in i for i in issues)
    assert any("DataSource prom: kind: 'DataSource' is not supported" in i for i in issues)
    assert any("SLO v2: apiVersion: must be openslo/v1" in i for i in issues)


def test_every_problem_is_reported_at_once():
    text = (
        slo_doc(spec="indicatorRef: nowhere\n\nbudgetingMethod: RatioTimeslices\n\ncolour: blue")
        + "\n---\n"
        + slo_doc(name="other", spec="indicatorRef: nowhere")
    )
    issues = issues_of(text)
    assert len(issues) >= 3
    assert any("SLO other: spec.indicatorRef" in i for i in issues)


def test_calendar_start_time_without_quotes_is_accepted():
    text = with_sli(
        spec="timeWindow:\n  - duration: 1M\n    calendar: {startTime: 2024-01-01 00:00:00, "
        "timeZone: Europe/Paris}"
    )
    (definition,) = load_slos_from_text(text)
    assert isinstance(definition.window, CalendarWindow)
    assert definition.window.start == datetime(2024, 1, 1)


def test_cli_validate_succeeds_on_the_examples():
    result = CliRunner().invoke(main, ["slo", "validate", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    assert "OK: 3 SLO objective(s) in 2 file(s)" in result.output
    assert "shop-order-journey" in result.output


def test_cli_validate_prints_every_problem_and_fails(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(slo_doc(spec="indicatorRef: nowhere\n\nbudgetingMethod: RatioTimeslices"))
    result = CliRunner().invoke(main, ["slo", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: SLO avail: spec.budgetingMethod: RatioTimeslices is not supported" in (
        result.output
    )
    assert "problem(s) found" in result.output


def test_cli_validate_fails_on_an_empty_directory(tmp_path):
    result = CliRunner().invoke(main, ["slo", "validate", str(tmp_path)])
    assert result.exit_code == 1 and "no YAML files found" in result.output


def test_policy_that_does_not_alert_when_breaching_adds_no_tier():
    text = with_sli(
        spec="""
        alertPolicies:
          - kind: AlertPolicy
            metadata: {name: quiet}
            spec:
              alertWhenBreaching: false
              alertWhenNoData: true
              conditions:
                - conditionRef: slow
              notificationTargets:
                - kind: AlertNotificationTarget
                  metadata: {name: chat}
                  spec: {target: slack-webhook/sre-alerts}
        """
    )
    condition = """
---
apiVersion: openslo/v1
kind: AlertCondition
metadata: {name: slow}
spec:
  severity: page
  condition: {kind: burnrate, op: gte, threshold: 1, lookbackWindow: 3d, alertAfter: 6h}
"""
    (definition,) = load_slos_from_text(text + condition)
    assert definition.tiers == ()
    assert definition.no_data is not None
    assert (definition.no_data.severity, definition.no_data.targets) == (
        "page",
        ("slack-webhook/sre-alerts",),
    )


def test_bad_verdicts_define_good_as_the_rest_of_total():
    sli = """
apiVersion: openslo/v1
kind: SLI
metadata: {name: health-ok}
spec:
  ratioMetric:
    bad:
      metricSource: {type: traceo, spec: {verdicts: [fail, degraded]}}
    total:
      metricSource: {type: traceo, spec: {service: shop-api}}
"""
    (definition,) = load_slos_from_text(sli + "---\n" + slo_doc())
    assert definition.indicator.service == "shop-api"
    assert definition.indicator.good_verdicts == ("pass",)


def test_empty_optional_keys_count_as_absent():
    text = with_sli(spec="alertPolicies:\n\ndescription:")
    [slo] = load_slos_from_text(text, "slos.yaml")
    assert slo.tiers == DEFAULT_TIERS and slo.description is None


def test_op_on_a_ratio_objective_is_accepted_and_ignored():
    text = with_sli(spec="objectives:\n  - op: gt\n    target: 0.99")
    [slo] = load_slos_from_text(text, "slos.yaml")
    assert slo.target == 0.99


def test_value_on_a_ratio_objective_is_refused():
    issues = issues_of(with_sli(spec="objectives:\n  - op: gt\n    value: 1\n    target: 0.99"))
    assert issues == [
        "slos.yaml: SLO avail: spec.objectives[0].value: only used with a thresholdMetric SLI"
    ]


@pytest.mark.parametrize(
    ("spec", "field", "reason"),
    [
        ("objectives: 5", "spec.objectives", "must be a list; got int"),
        ("objectives:", "spec.objectives", "must be a list; it is empty"),
        ("objectives: []", "spec.objectives", "must not be empty"),
        ("objectives:\n  - op: above\n    target: 0.99", "spec.objectives[0].op",
         "must be one of 'lt', 'lte', 'gt' or 'gte'"),
        ("objectives:\n  - target: high", "spec.objectives[0].target", "must be a number; got str"),
        ("timeWindow:\n  - isRolling: true", "spec.timeWindow[0].duration",
         "required, but missing"),
    ],
)  # fmt: skip
def test_shape_errors_are_in_plain_words(spec, field, reason):
    assert issues_of(with_sli(spec=spec)) == [f"slos.yaml: SLO avail: {field}: {reason}"]
