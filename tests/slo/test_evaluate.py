from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tasks.slo.burn import NoDataRule
from tasks.slo.definition import Indicator
from tasks.slo.evaluate import evaluate_results, evaluate_slo, evaluate_slos
from tasks.slo.events import CheckResults, Events, select_events
from tasks.slo.windows import CalendarWindow, Duration, RollingWindow
from tests.slo.helpers import NOW, REGIONS, slo, traffic

EU, US, AP = REGIONS


def test_burn_rate_pages_when_both_windows_exceed():
    # 3 regions x 1/min: 180 results per hour, 15 per 5 minutes; 99.9% -> budget 0.001.
    def bad(age, region):
        return (age in (10, 11, 12) and region == EU) or (age == 2 and region == US)

    report = evaluate_slo(slo(), traffic(3 * 1440, bad), NOW)
    page = report.alert("page:1h/5m")
    assert page.burn_long == pytest.approx(4 / 180 / 0.001)  # 22.2x
    assert page.burn_short == pytest.approx(1 / 15 / 0.001)  # 66.7x
    assert page.threshold == 14.4
    assert page.firing and page.status == "firing"
    assert "FIRING" in page.summary and "14.4x" in page.summary


def test_burn_rate_does_not_page_when_only_the_long_window_exceeds():
    # The burst is over: the last 5 minutes are clean, so the alert must not fire (or resets).
    report = evaluate_slo(slo(), traffic(3 * 1440, lambda a, r: a in (10, 11, 12) and r == EU), NOW)
    page = report.alert("page:1h/5m")
    assert page.burn_long == pytest.approx(3 / 180 / 0.001)  # 16.7x > 14.4
    assert page.burn_short == 0.0
    assert not page.firing and page.status == "ok"


def test_low_traffic_guard_stops_one_failure_from_paging():
    # A new check: 3 regions x 1/min for 5 minutes = 15 results, one failure = 66.7x burn.
    events = traffic(5, lambda age, region: age == 2 and region == EU)

    unguarded = evaluate_slo(slo(min_events=1), events, NOW)
    assert unguarded.alert("page:1h/5m").burn_short == pytest.approx(66.67, rel=1e-3)
    assert unguarded.alert("page:1h/5m").firing

    guarded = evaluate_slo(slo(min_events=20), events, NOW)
    page = guarded.alert("page:1h/5m")
    assert not page.firing
    assert page.status == "insufficient-data"
    assert page.burn_long is None and page.burn_short is None
    assert "insufficient data" in page.summary and "15 events" in page.summary
    assert guarded.burn_rates["5m"].status == "insufficient-data"
    assert guarded.burn_rates["5m"].burn is None
    assert not guarded.firing


def test_default_guard_of_10_events_quiets_a_sparse_check():
    # One region every 10 minutes for 6 hours; the newest run failed.
    events = traffic(6 * 60, lambda age, region: age == 0, regions=(EU,), every=600)
    report = evaluate_slo(slo(), events, NOW)
    assert report.min_events == 10
    assert report.alert("page:1h/5m").status == "insufficient-data"  # 1 and 6 events
    assert report.alert("page:6h/30m").status == "insufficient-data"  # 3 events over 30m
    assert report.alert("ticket:1d/2h").firing  # 12 events over 2h, 36 over 1d: enough


def test_no_data_alert_fires_after_the_configured_silence():
    quiet_for_20m = traffic(120, now=NOW - timedelta(minutes=20))
    report = evaluate_slo(slo(), quiet_for_20m, NOW)
    signal = report.alert("no-data")
    assert signal.firing and signal.severity == "ticket"
    assert signal.long_window == "15m" and signal.burn_long is None
    assert "no results for 20m" in signal.summary
    assert report.last_event_at == NOW - timedelta(minutes=20)

    recent = evaluate_slo(slo(), traffic(120, now=NOW - timedelta(minutes=5)), NOW)
    assert not recent.alert("no-data").firing

    nothing = evaluate_slo(slo(), Events.empty(), NOW)
    assert nothing.alert("no-data").firing
    assert "no results at all" in nothing.alert("no-data").summary
    assert nothing.sli is None and nothing.budget_remaining is None

    disabled = evaluate_slo(slo(no_data=None), Events.empty(), NOW)
    assert [a.key for a in disabled.alerts] == [
        "page:1h/5m", "page:6h/30m", "ticket:1d/2h", "ticket:3d/6h"
    ]  # fmt: skip
    custom = evaluate_slo(slo(no_data=NoDataRule(3600, "page")), quiet_for_20m, NOW)
    assert not custom.alert("no-data").firing


def test_probe_errors_are_excluded_from_the_sli_and_count_as_no_data():
    start = int(NOW.timestamp())
    results = CheckResults.from_records(
        [
            {"check_id": "shop-health", "region": EU, "started_at": start - 60 * age,
             "verdict": verdict, "duration_ms": 120.0}
            for age, verdict in enumerate(["error"] * 20 + ["pass", "fail", "degraded", "pass"])
        ]
    )  # fmt: skip
    report = evaluate_results([slo()], results, NOW)[0]
    assert report.events == 4
    assert report.sli == pytest.approx(3 / 4)  # degraded is good, fail is bad, error is out
    assert report.alert("no-data").firing  # only errors for the last 20 minutes


def test_rolling_and_calendar_windows_count_different_events():
    now = datetime(2024, 3, 15, 12, tzinfo=UTC)
    before_period = int((now - datetime(2024, 2, 29, 22, 30, tzinfo=UTC)).total_seconds()) // 60
    in_period = int((now - datetime(2024, 3, 1, 0, 30, tzinfo=UTC)).total_seconds()) // 60
    events = traffic(
        20 * 1440, lambda age, r: age in (before_period, in_period), regions=(EU,), now=now
    )
    monthly = CalendarWindow(Duration(1, "M"), datetime(2024, 1, 1), "Europe/Paris")

    rolling = evaluate_slo(slo(window=RollingWindow(Duration(30, "d"))), events, now)
    calendar = evaluate_slo(slo(window=monthly), events, now)

    assert rolling.events == 20 * 1440 and rolling.bad == 2
    # March in Paris starts 29 Feb 23:00 UTC: the 22:30 failure belongs to February.
    assert calendar.window_start == datetime(2024, 2, 29, 23, tzinfo=UTC)
    assert calendar.window_end == datetime(2024, 3, 31, 22, tzinfo=UTC)
    elapsed = int((now - calendar.window_start).total_seconds())
    assert calendar.events == elapsed // 60 + 1 and calendar.bad == 1
    assert calendar.time_window == "1M calendar (Europe/Paris)"
    # The budget is the whole month's: events so far projected over the month's 743 hours.
    month = 31 * 86400 - 3600
    expected_budget = 0.001 * calendar.events * month / elapsed
    assert calendar.budget_total == pytest.approx(expected_budget)
    assert calendar.budget_remaining == pytest.approx(1 - 1 / expected_budget)
    assert rolling.budget_remaining == pytest.approx(1 - (2 / (20 * 1440)) / 0.001)


def test_timeslices_budget_as_time_is_43_2_minutes_for_99_9_over_30_days():
    definition = slo(budgeting_method="Timeslices", time_slice_target=0.9, slot_seconds=60)
    events = traffic(120, lambda age, region: age in (5, 6, 7))
    report = evaluate_slo(definition, events, NOW)
    assert report.budget_unit == "slices"
    assert report.budget_total_time == pytest.approx(43.2 * 60)
    assert report.budget_total == pytest.approx(43.2)
    assert report.bad == 3 and report.good == 117
    assert report.sli == pytest.approx(117 / 120)
    assert report.budget_spent_time == 180
    assert report.budget_remaining_time == pytest.approx(43.2 * 60 - 180)
    assert report.budget_remaining == pytest.approx(1 - 3 / 43.2)


def test_timeslices_calendar_budget_is_the_whole_month():
    now = datetime(2024, 3, 2, tzinfo=UTC)
    monthly = CalendarWindow(Duration(1, "M"), datetime(2024, 1, 1), "Europe/Paris")
    definition = slo(
        window=monthly, budgeting_method="Timeslices", time_slice_target=1.0, slot_seconds=300
    )
    report = evaluate_slo(definition, traffic(60, now=now), now)
    assert report.budget_total_time == pytest.approx(0.001 * (31 * 86400 - 3600))
    assert report.budget_remaining == 1.0


def test_latency_sli_counts_results_under_the_threshold():
    start = int(NOW.timestamp())
    rows = [
        ("pass", 100.0), ("pass", 800.0), ("degraded", 801.0), ("fail", 900.0),
        ("error", None), ("pass", None),
    ]  # fmt: skip
    results = CheckResults.from_records(
        {"check_id": "shop-products-list", "region": EU, "started_at": start - i * 60,
         "verdict": v, "duration_ms": d}
        for i, (v, d) in enumerate(rows)
    )  # fmt: skip
    lte = Indicator("latency", checks=("shop-products-list",), latency_op="lte", latency_ms=800)
    events = select_events(lte, results)
    assert events.good.tolist() == [True, True, False, False]  # no duration, or error: left out
    lt = Indicator("latency", checks=("shop-products-list",), latency_op="lt", latency_ms=800)
    assert select_events(lt, results).good.tolist() == [True, False, False, False]
    report = evaluate_slo(slo(indicator=lte, target=0.95), events, NOW)
    assert report.sli == pytest.approx(0.5) and report.sli_kind == "latency"


def test_select_events_by_service_needs_the_check_catalogue():
    results = CheckResults.from_records(
        [{"check_id": "a", "region": EU, "started_at": 0, "verdict": "pass", "duration_ms": 1.0},
         {"check_id": "b", "region": US, "started_at": 0, "verdict": "fail", "duration_ms": 1.0}]
    )  # fmt: skip
    indicator = Indicator("by-service", service="shop-api")
    events = select_events(indicator, results, {"a": "shop-api", "b": "billing"})
    assert len(events) == 1 and events.regions == (EU,)
    from tasks.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="check_services"):
        select_events(indicator, results)


def test_global_occurrences_need_a_quorum_of_failing_regions():
    def bad(age, region):
        return (
            (age == 30 and region == EU)  # one region only: its own problem
            or (age == 20 and region in (EU, US))  # two regions: the service
        )

    events = traffic(60, bad)
    one = evaluate_slo(slo(min_failing_regions=1), events, NOW)
    two = evaluate_slo(slo(min_failing_regions=2), events, NOW)
    assert one.bad == 3 and two.bad == 2
    assert two.sli == pytest.approx(1 - 2 / 180)
    # Per-region figures are the region's own, whatever the quorum.
    eu = {r.region: r for r in two.regions}[EU]
    assert eu.bad == 2 and eu.events == 60 and eu.sli == pytest.approx(58 / 60)
    assert eu.burn_rates["1h"] == pytest.approx(2 / 60 / 0.001)


def test_a_single_region_failure_does_not_alert_with_a_quorum_of_two():
    events = traffic(3 * 1440, lambda age, region: age < 45 and region == AP)
    report = evaluate_slo(slo(min_failing_regions=2), events, NOW)
    assert not report.firing
    ap = {r.region: r for r in report.regions}[AP]
    assert ap.burn_rates["1h"] == pytest.approx(45 / 60 / 0.001)  # visible on the dashboard
    assert evaluate_slo(slo(min_failing_regions=1), events, NOW).firing


def test_quorum_is_capped_at_the_regions_that_reported():
    # Only one region reported in minute 7 (the others' probes errored) and it failed.
    events = traffic(60, lambda age, region: age == 7 and region == EU)
    keep = ~((events.ts == int(NOW.timestamp()) - 7 * 60) & (events.region != 1))
    assert events.regions[1] == EU
    lone = Events(events.ts[keep], events.region[keep], events.good[keep], events.regions)
    report = evaluate_slo(slo(min_failing_regions=2), lone, NOW)
    assert report.bad == 1


def test_global_timeslices_need_a_quorum_of_failing_regions():
    def bad(age, region):
        return (age == 3 and region == EU) or (age == 9 and region in (EU, US))

    definition = slo(budgeting_method="Timeslices", time_slice_target=1.0)
    one = evaluate_slo(definition, traffic(60, bad), NOW)
    two = evaluate_slo(
        slo(**{**definition.__dict__, "min_failing_regions": 2}), traffic(60, bad), NOW
    )
    assert (one.bad, two.bad) == (2, 1)
    assert two.good == 59 and two.events == 180
    eu = {r.region: r for r in two.regions}[EU]
    assert (eu.good, eu.bad) == (58, 2)


def test_batch_evaluation_matches_one_at_a_time_across_mixed_slos():
    monthly = CalendarWindow(Duration(1, "M"), datetime(2025, 1, 1), "America/New_York")
    definitions = [
        slo(id="a"),
        slo(id="b", min_failing_regions=2, target=0.99),
        slo(id="c", budgeting_method="Timeslices", time_slice_target=0.5, slot_seconds=300),
        slo(id="d", window=monthly, slot_seconds=120),
        slo(id="e", window=RollingWindow(Duration(7, "d")), min_events=1),
        slo(id="g", window=CalendarWindow(Duration(1, "Y"), datetime(2025, 1, 1), "UTC")),
    ]
    rng = np.random.default_rng(7)
    events = []
    for i in range(len(definitions)):
        flaky = set(rng.integers(0, 3 * 1440, size=40 + 30 * i).tolist())
        regions = REGIONS[: 1 + i % 3]
        events.append(traffic(3 * 1440, lambda a, r, f=flaky: a in f, regions=regions))
    events.append(Events.empty())
    definitions.append(slo(id="f"))
    batch = evaluate_slos(definitions, events, NOW)
    for definition, ev, report in zip(definitions, events, batch, strict=True):
        assert report.to_dict() == evaluate_slo(definition, ev, NOW).to_dict()


def test_report_is_json_serialisable_with_the_fields_the_lead_needs():
    report = evaluate_slo(slo(), traffic(90, lambda a, r: a == 1 and r == EU), NOW)
    data = json.loads(json.dumps(report.to_dict()))
    for key in (
        "slo_id", "service", "objective", "sli", "budget_total", "budget_spent",
        "budget_remaining", "budget_remaining_time", "events", "burn_rates", "regions", "alerts",
    ):  # fmt: skip
        assert key in data
    assert data["evaluated_at"] == "2025-03-10T12:00:00+00:00"
    assert [a["key"] for a in data["alerts"]] == [
        "page:1h/5m", "page:6h/30m", "ticket:1d/2h", "ticket:3d/6h", "no-data"
    ]  # fmt: skip
    alert = data["alerts"][0]
    assert set(alert) >= {
        "key", "severity", "firing", "long_window", "short_window", "burn_long", "burn_short",
        "threshold", "summary",
    }  # fmt: skip
    assert data["burn_rates"]["1h"]["events"] == 270 // 90 * 60


def test_evaluation_needs_an_aware_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_slo(slo(), Events.empty(), NOW.replace(tzinfo=None))
