from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tasks.errors import SpecError
from tasks.slo.evaluate import evaluate_results
from tasks.slo.events import CheckResults
from tasks.slo.loader import load_slos, load_slos_from_text
from tasks.slo.source import evaluate_from_store, evaluate_specs, lookback_start
from tasks.store.check_results import upsert_check_results
from tests.slo.helpers import NOW, REGIONS

EU, US, AP = REGIONS
DEPLOYMENTS = Path(__file__).resolve().parents[2] / "deployments"
CHECK_SERVICES = {
    "shop-health": "shop-api",
    "shop-products-list": "shop-api",
    "billing-invoices": "billing",
}


def slo_text(
    name: str,
    selector: str,
    window: str = "timeWindow: [{duration: 28d, isRolling: true}]",
    target: float = 0.999,
    annotations: str = "{}",
    extra: str = "",
) -> str:
    """An Occurrences availability SLO for shop-api; ``selector`` is the SLI's check selection."""
    return f"""
apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}
  annotations: {annotations}
spec:
  service: shop-api
  indicator:
    metadata: {{name: {name}-sli}}
    spec:
      ratioMetric:
        good: {{metricSource: {{type: traceo, spec: {{verdicts: [pass, degraded]}}}}}}
        total: {{metricSource: {{type: traceo, spec: {{{selector}}}}}}}
  {window}
  budgetingMethod: Occurrences
  objectives: [{{target: {target}}}]
{extra}"""


def results(
    check_id: str,
    minutes: int,
    bad: Callable[[int, str], str | None] = lambda age, region: None,
    now: datetime = NOW,
    every: int = 60,
    regions: tuple[str, ...] = REGIONS,
) -> Iterator[dict[str, Any]]:
    """One result per region every ``every`` seconds for ``minutes`` up to ``now``.

    ``bad(age_minutes, region)`` returns the verdict of a result that did not pass, or None.
    """
    for offset in range(0, minutes * 60, every):
        slot = now - timedelta(seconds=offset)
        for region in regions:
            yield {
                "check_id": check_id,
                "region": region,
                "scheduled_at": slot,
                # Sub-second start times: the store and the engine both count whole seconds.
                "started_at": slot + timedelta(microseconds=250_000),
                "verdict": bad(offset // 60, region) or "pass",
                "duration_ms": 100.0,
            }


def one(check_id: str, at: datetime, verdict: str, region: str = EU) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "region": region,
        "scheduled_at": at,
        "started_at": at,
        "verdict": verdict,
        "duration_ms": 100.0,
    }


# --- lookback_start -------------------------------------------------------------------------
# The engine counts whole slots, so the read reaches one slot (60 s by default) further back.
SLOT = 60


def test_lookback_of_a_rolling_window_is_its_duration() -> None:
    slos = load_slos_from_text(slo_text("rolling", "checks: [shop-health]"))
    t = int(NOW.timestamp())
    assert lookback_start(slos, t) == t - 28 * 86400 - SLOT


def test_lookback_of_a_calendar_month_is_the_period_start_once_it_exceeds_the_tiers() -> None:
    (orders,) = [s for s in load_slos([DEPLOYMENTS / "slos"]) if s.id == "shop-order-journey"]
    # The month starts at midnight in Paris: 23:00 UTC on the last day of February.
    month_start = int(datetime(2025, 2, 28, 23, 0, tzinfo=UTC).timestamp())
    assert lookback_start([orders], int(NOW.timestamp())) == month_start - orders.slot_seconds
    # Early in the month its longest tier (1d) still fits in the period so far.
    early = int(datetime(2025, 3, 2, 6, 0, tzinfo=UTC).timestamp())
    assert lookback_start([orders], early) == month_start - orders.slot_seconds


def test_lookback_of_a_young_calendar_month_reaches_back_over_its_longest_tier() -> None:
    calendar = (
        "timeWindow:\n"
        "    - duration: 1M\n"
        "      isRolling: false\n"
        '      calendar: {startTime: "2024-01-01 00:00:00", timeZone: Europe/Paris}'
    )
    slos = load_slos_from_text(slo_text("monthly", "checks: [shop-health]", window=calendar))
    early = int(datetime(2025, 3, 2, 6, 0, tzinfo=UTC).timestamp())
    # 31 hours into March, but the default ticket tier looks back over 3 days.
    assert lookback_start(slos, early) == early - 3 * 86400 - SLOT


def test_lookback_of_a_30_day_slo_with_3_day_tiers_is_30_days() -> None:
    window = "timeWindow: [{duration: 30d, isRolling: true}]"
    slos = load_slos_from_text(slo_text("thirty", "checks: [shop-health]", window=window))
    assert max(tier.long_seconds for tier in slos[0].tiers) == 3 * 86400
    t = int(NOW.timestamp())
    assert lookback_start(slos, t) == t - 30 * 86400 - SLOT


def test_lookback_of_a_short_window_covers_its_longest_alert_window() -> None:
    window = "timeWindow: [{duration: 1d, isRolling: true}]"
    slos = load_slos_from_text(slo_text("daily", "checks: [shop-health]", window=window))
    t = int(NOW.timestamp())
    assert lookback_start(slos, t) == t - 3 * 86400 - SLOT


def test_lookback_of_many_slos_is_the_earliest_and_of_none_is_now() -> None:
    daily = "timeWindow: [{duration: 1d, isRolling: true}]"
    slos = [
        *load_slos_from_text(slo_text("daily", "checks: [shop-health]", window=daily)),
        *load_slos_from_text(slo_text("rolling", "checks: [shop-health]")),
    ]
    t = int(NOW.timestamp())
    assert lookback_start(slos, t) == t - 28 * 86400 - SLOT
    assert lookback_start([], t) == t


# --- evaluate_from_store --------------------------------------------------------------------


@pytest.fixture
def shop_history(store_engine):
    """Six hours of shop-api results in 3 regions, a few failures in the last hour.

    shop-health: EU failed 2, 3 and 4 minutes ago, US 40 minutes ago (4 failures in 1,080).
    shop-products-list: US failed 10 minutes ago; AP's newest run is a probe error (not counted).
    billing-invoices (another service) failed everywhere; plus a failure from before the SLO
    window and one after ``now``: none of these may count for shop-api.
    """
    rows = [
        *results(
            "shop-health",
            360,
            lambda age, region: (
                "fail" if (region == EU and 2 <= age <= 4) or (region == US and age == 40) else None
            ),
        ),
        *results(
            "shop-products-list",
            360,
            lambda age, region: {(10, US): "fail", (0, AP): "error"}.get((age, region)),
        ),
        *results("billing-invoices", 60, lambda age, region: "fail"),
        one("shop-health", NOW - timedelta(days=29), "fail"),
        one("shop-health", NOW + timedelta(minutes=2), "fail"),
    ]
    upsert_check_results(store_engine, rows)
    return store_engine


def test_slo_selecting_checks_by_id_matches_hand_computed_figures(shop_history) -> None:
    slos = load_slos_from_text(slo_text("health", "checks: [shop-health]"))

    (report,) = evaluate_from_store(shop_history, slos, CHECK_SERVICES, NOW)

    assert (report.events, report.bad) == (1080, 4)
    assert report.sli == pytest.approx(1076 / 1080)
    assert report.budget_total == pytest.approx(0.001 * 1080)
    assert report.budget_remaining == pytest.approx(1 - 4 / 1.08)
    burns = {w: (b.events, b.bad) for w, b in report.burn_rates.items()}
    assert burns == {
        "5m": (15, 3),
        "30m": (90, 3),
        "1h": (180, 4),
        "2h": (360, 4),
        "6h": (1080, 4),
        "1d": (1080, 4),
        "3d": (1080, 4),
    }
    assert report.burn_rates["5m"].burn == pytest.approx(3 / 15 / 0.001)  # 200x
    assert report.burn_rates["1h"].burn == pytest.approx(4 / 180 / 0.001)  # 22.2x
    # 28-day thresholds: page 13.44 (1h/5m) and 5.6 (6h/30m), ticket 2.8 (1d/2h), 0.93 (3d/6h).
    assert [a.key for a in report.firing] == ["page:1h/5m", "ticket:1d/2h", "ticket:3d/6h"]
    assert not report.alert("page:6h/30m").firing  # 3.7x over 6h
    assert not report.alert("no-data").firing
    assert {r.region: (r.events, r.bad) for r in report.regions} == {
        EU: (360, 3),
        US: (360, 1),
        AP: (360, 0),
    }
    assert report.last_event_at == NOW


def test_slo_selecting_checks_by_service_counts_only_that_services_checks(shop_history) -> None:
    slos = load_slos_from_text(slo_text("api", "service: shop-api", target=0.99))

    (report,) = evaluate_from_store(shop_history, slos, CHECK_SERVICES, NOW)

    # shop-health 1,080 + shop-products-list 1,080 minus its one probe error; billing excluded.
    assert (report.events, report.bad) == (2159, 5)
    assert report.sli == pytest.approx(2154 / 2159)
    assert report.budget_remaining == pytest.approx(1 - 5 / (0.01 * 2159))
    assert report.burn_rates["5m"].burn == pytest.approx(3 / 29 / 0.01)  # 10.3x < 13.44
    assert report.burn_rates["1h"].burn == pytest.approx(5 / 359 / 0.01)
    assert report.firing == []


def test_slos_sharing_one_query_are_each_evaluated_on_their_own_checks(shop_history) -> None:
    slos = [
        *load_slos_from_text(slo_text("health", "checks: [shop-health]")),
        *load_slos_from_text(slo_text("products", "checks: [shop-products-list]")),
    ]

    health, products = evaluate_from_store(shop_history, slos, CHECK_SERVICES, NOW)

    assert (health.slo_id, health.events, health.bad) == ("health", 1080, 4)
    assert (products.slo_id, products.events, products.bad) == ("products", 1079, 1)


def test_service_slo_without_checks_of_that_service_has_no_data(shop_history) -> None:
    slos = load_slos_from_text(slo_text("api", "service: shop-api"))

    (report,) = evaluate_from_store(shop_history, slos, {"billing-invoices": "billing"}, NOW)

    assert report.sli is None and report.events == 0
    assert report.alert("no-data").firing


def test_no_slos_evaluate_to_no_reports(store_engine) -> None:
    assert evaluate_from_store(store_engine, [], CHECK_SERVICES, NOW) == []


def test_store_evaluation_equals_evaluating_the_full_history(store_engine) -> None:
    """Results before lookback_start are never needed: reading from there changes nothing."""
    now = NOW + timedelta(minutes=7, seconds=30)  # off the minute and 5-minute grids
    calendar = (
        "timeWindow:\n"
        "    - duration: 1M\n"
        "      isRolling: false\n"
        '      calendar: {startTime: "2024-01-01 00:00:00", timeZone: Europe/Paris}'
    )
    slos = [
        *load_slos_from_text(slo_text("rolling", "checks: [shop-health]")),
        *load_slos_from_text(slo_text("monthly", "checks: [shop-health]", window=calendar)),
        *load_slos_from_text(
            slo_text(
                "daily", "service: shop-api", window="timeWindow: [{duration: 1d, isRolling: true}]"
            )
        ),
        *[s for s in load_slos([DEPLOYMENTS / "slos"]) if s.id == "shop-order-journey"],
    ]
    checks = {**CHECK_SERVICES, "shop-order-journey": "shop-api"}

    def bad(age: int, region: str) -> str | None:
        return "fail" if age % 97 == 0 and region != AP else None

    rows = [
        *results("shop-health", 40 * 1440, bad, now=now, every=1200),
        *results("shop-products-list", 40 * 1440, bad, now=now, every=1200),
        *results("shop-order-journey", 40 * 1440, bad, now=now, every=1500),
    ]
    upsert_check_results(store_engine, rows)

    from_store = evaluate_from_store(store_engine, slos, checks, now)
    in_memory = evaluate_results(slos, CheckResults.from_records(rows), now, checks)

    assert [r.slo_id for r in from_store] == ["rolling", "monthly", "daily", "shop-order-journey"]
    assert all(r.events > 0 and r.bad > 0 for r in from_store)
    assert [r.to_dict() for r in from_store] == [r.to_dict() for r in in_memory]


def test_store_evaluation_counts_every_slot_of_a_window_not_a_multiple_of_the_slot(
    store_engine,
) -> None:
    """A 7-minute slot: the 3d window is 618 slots, which start up to 7 minutes before now - 3d.

    Results in those minutes count when evaluating in memory; the store must read them too.
    """
    slos = load_slos_from_text(
        slo_text(
            "sliced",
            "checks: [shop-health]",
            window="timeWindow: [{duration: 1d, isRolling: true}]",
            annotations='{"traceo.dev/slot": 7m}',
        )
    )
    t = int(NOW.timestamp())
    assert t % 420 == 300  # now is 5 minutes into its slot
    # The 618 slots of the 3d window start 4 minutes before now - 3d.
    rows = [
        *results("shop-health", 3 * 1440, every=300),
        *(one("shop-health", NOW - timedelta(days=3, minutes=m), "fail") for m in (1, 2, 3)),
    ]
    upsert_check_results(store_engine, rows)

    (from_store,) = evaluate_from_store(store_engine, slos, CHECK_SERVICES, NOW)
    (in_memory,) = evaluate_results(slos, CheckResults.from_records(rows), NOW, CHECK_SERVICES)

    assert in_memory.burn_rates["3d"].bad == 3
    assert from_store.burn_rates["3d"].bad == in_memory.burn_rates["3d"].bad


# --- evaluate_specs -------------------------------------------------------------------------


def test_example_specs_over_an_empty_store_report_no_data(store_engine) -> None:
    reports = evaluate_specs(store_engine, DEPLOYMENTS / "slos", DEPLOYMENTS / "checks", NOW)

    assert sorted(r.slo_id for r in reports) == [
        "shop-api-availability",
        "shop-api-latency",
        "shop-order-journey",
    ]
    for report in reports:
        assert report.sli is None and report.met is None, report.slo_id
        assert report.budget_remaining is None and report.events == 0
        no_data = report.alert("no-data")
        assert no_data.firing and "no results at all" in no_data.summary
        assert [a.key for a in report.firing] == ["no-data"]


def test_example_specs_filtered_by_service(store_engine) -> None:
    def ids(service: str) -> list[str]:
        reports = evaluate_specs(
            store_engine, DEPLOYMENTS / "slos", DEPLOYMENTS / "checks", NOW, service=service
        )
        return [r.slo_id for r in reports]

    assert len(ids("shop-api")) == 3
    assert ids("payments") == []


def test_example_specs_read_results_of_checks_selected_by_service(store_engine, tmp_path) -> None:
    # An SLI that selects "service: shop-api" relies on the check files for the mapping.
    (tmp_path / "slos.yaml").write_text(slo_text("api", "service: shop-api"), encoding="utf-8")
    upsert_check_results(
        store_engine,
        [
            *results("shop-product-detail", 60),  # a shop-api check in deployments/checks
            *results("not-a-known-check", 60, lambda age, region: "fail"),
        ],
    )

    (report,) = evaluate_specs(store_engine, tmp_path / "slos.yaml", DEPLOYMENTS / "checks", NOW)

    assert (report.events, report.bad) == (180, 0)


def test_evaluate_specs_raises_on_a_malformed_slo_file(store_engine, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(slo_text("broken", "checks: [shop-health]", target=1.5), encoding="utf-8")

    with pytest.raises(SpecError) as info:
        evaluate_specs(store_engine, bad, DEPLOYMENTS / "checks", NOW)
    assert "SLO broken" in str(info.value)
