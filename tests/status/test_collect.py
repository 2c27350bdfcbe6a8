"""The page built from the store: current states, daily bars, maintenance, incidents."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tasks.store import AlertState, session_scope
from tasks.store.check_results import upsert_check_results
from tests.status.conftest import NOW, STOREFRONT, add_window, results, sources

DAY_EVENTS = 144 * 3 * 2  # every 10 minutes, three regions, two checks


def storefront(store_engine, verdict=lambda age, region: "pass", minutes=3 * 1440) -> None:
    upsert_check_results(
        store_engine, [r for check in STOREFRONT for r in results(check, minutes, verdict)]
    )


def test_latest_verdicts_give_each_service_its_state(store_engine, checks_dir) -> None:
    # the latest health result fails in one region: a partial outage; checkout has no data
    storefront(
        store_engine, lambda age, region: "fail" if age == 0 and region == "eu-west-1" else "pass"
    )

    page = sources(checks_dir).build(store_engine, NOW)

    assert [(s.name, s.state) for s in page.services] == [
        ("Storefront", "partial_outage"),
        ("Checkout", "unknown"),
    ]
    assert page.headline == ("partial_outage", "Partial outage")


def test_every_latest_verdict_failing_is_a_major_outage_and_old_ones_do_not_count(
    store_engine, checks_dir
) -> None:
    storefront(store_engine, lambda age, region: "fail" if age == 0 else "pass")
    upsert_check_results(
        store_engine, results("shop-order-journey", 60, now=NOW - timedelta(hours=1))
    )

    page = sources(checks_dir).build(store_engine, NOW)

    assert [s.state for s in page.services] == ["major_outage", "unknown"]


def test_daily_bars_count_the_availability_sli_per_utc_day(store_engine, checks_dir) -> None:
    # six failures two days ago (ages 2880-2940 minutes), one probe error today
    def verdict(age: int, region: str) -> str:
        if 2880 <= age < 2940 and region == "us-east-1":
            return "fail"
        return "error" if age == 10 and region == "eu-west-1" else "pass"

    storefront(store_engine, verdict)

    (bars, _) = (s.days for s in sources(checks_dir).build(store_engine, NOW).services)

    assert len(bars) == 90 and bars[-1].day == NOW.date()
    assert all(b.total == 0 for b in bars[:-4])
    two_days_ago = bars[-3]
    assert (two_days_ago.good, two_days_ago.total) == (DAY_EVENTS - 12, DAY_EVENTS)
    assert two_days_ago.availability == pytest.approx(1 - 12 / DAY_EVENTS)
    today = bars[-1]  # 73 slots from 00:00 to 12:00; the two errors are not events
    assert (today.good, today.total) == (73 * 6 - 2, 73 * 6 - 2)
    assert not any(b.maintenance for b in bars)


def test_a_maintenance_window_keeps_its_planned_failures_off_the_bar(
    store_engine, checks_dir
) -> None:
    storefront(store_engine, lambda age, region: "fail" if 2880 <= age < 2940 else "pass")
    start, end = NOW - timedelta(minutes=2940), NOW - timedelta(minutes=2870)
    add_window(
        checks_dir,
        f"  - id: planned-upgrade\n    service: shop-api\n"
        f"    start: {start:%Y-%m-%dT%H:%M}\n    end: {end:%Y-%m-%dT%H:%M}\n"
        "    reason: internal database upgrade\n",
    )

    bars = sources(checks_dir).build(store_engine, NOW).services[0].days

    two_days_ago = bars[-3]
    assert two_days_ago.maintenance
    # the 36 failures inside the window are not events; the day's passing results all count
    assert (two_days_ago.good, two_days_ago.total) == (DAY_EVENTS - 36, DAY_EVENTS - 36)
    assert not bars[-2].maintenance


def test_an_active_window_puts_its_services_under_maintenance_and_is_listed(
    store_engine, checks_dir
) -> None:
    storefront(store_engine, lambda age, region: "fail" if age < 30 else "pass")
    add_window(
        checks_dir,
        f"  - id: shop-db-now\n    service: shop-api\n"
        f"    start: {NOW - timedelta(minutes=40):%Y-%m-%dT%H:%M}\n"
        f"    end: {NOW + timedelta(minutes=20):%Y-%m-%dT%H:%M}\n"
        "    reason: internal database upgrade\n",
    )

    page = sources(checks_dir).build(store_engine, NOW)

    assert [s.state for s in page.services] == ["under_maintenance", "under_maintenance"]
    now_window = [m for m in page.maintenance if m.active]
    (window,) = now_window
    assert window.title == "Scheduled maintenance"  # the internal reason is not published
    assert window.services == ("Storefront", "Checkout")
    assert window.ends_at == NOW + timedelta(minutes=20)


def test_firing_page_alerts_of_a_service_slos_are_its_open_incidents(
    store_engine, checks_dir
) -> None:
    storefront(store_engine, minutes=60)
    with session_scope(store_engine) as session:
        session.add_all(
            [
                AlertState(
                    slo_id="shop-api-latency",
                    alert_key="page:1h/5m",
                    severity="page",
                    firing=True,
                    fired_at=NOW - timedelta(minutes=7),
                ),
                AlertState(
                    slo_id="shop-api-availability",
                    alert_key="ticket:1d/2h",
                    severity="ticket",
                    firing=True,
                    fired_at=NOW,
                ),
                AlertState(
                    slo_id="shop-order-journey",
                    alert_key="page:1h/5m",
                    severity="page",
                    firing=False,
                    fired_at=NOW - timedelta(days=1),
                ),
            ]
        )

    page = sources(checks_dir).build(store_engine, NOW)

    (incident,) = page.incidents
    assert incident.title == "Slow responses on Storefront"
    assert incident.started_at == NOW - timedelta(minutes=7)


def test_an_empty_store_gives_services_without_data(store_engine, checks_dir) -> None:
    page = sources(checks_dir).build(store_engine, NOW)

    assert [s.state for s in page.services] == ["unknown", "unknown"]
    assert all(s.uptime is None and len(s.days) == 90 for s in page.services)
    assert page.headline == ("unknown", "Some services have no recent data")
