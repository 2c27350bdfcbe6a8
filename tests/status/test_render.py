"""The rendered page and its JSON: public names only, UTC times, days that missed listed."""

from __future__ import annotations

import json
from datetime import date, timedelta

from tasks.status.model import DayBar, ScheduledMaintenance, ServiceStatus, StatusPage
from tasks.status.publish import page_files
from tasks.status.render import bar_class, render_page
from tasks.store.check_results import upsert_check_results
from tests.status.conftest import NOW, REGIONS, STOREFRONT, add_window, results, sources

INTERNAL = (
    "shop-api",  # the internal service (also a prefix of every SLO id)
    "shop-health",
    "shop-products-list",
    "shop-order-journey",
    "shop-db-now",
    "internal database upgrade",
    *REGIONS,
)


def test_page_and_json_publish_no_internal_name(store_engine, checks_dir) -> None:
    upsert_check_results(
        store_engine,
        [
            r
            for c in STOREFRONT
            for r in results(c, 2 * 1440, lambda a, r: "fail" if a == 3000 else "pass")
        ],
    )
    add_window(
        checks_dir,
        f"  - id: shop-db-now\n    service: shop-api\n"
        f"    start: {NOW + timedelta(hours=2):%Y-%m-%dT%H:%M}\n"
        f"    end: {NOW + timedelta(hours=3):%Y-%m-%dT%H:%M}\n"
        "    reason: internal database upgrade\n",
    )
    page = sources(checks_dir).build(store_engine, NOW)

    files = page_files(page)
    html = files["index.html"][0].decode()
    payload = files["status.json"][0].decode()

    for name in INTERNAL:
        assert name not in html and name not in payload, name
    assert "Storefront" in html and "Checkout" in html
    assert json.loads(payload)["components"][0]["name"] == "Storefront"


def test_times_are_utc_inside_time_elements_for_the_script_to_localise() -> None:
    window = ScheduledMaintenance("Database upgrade", ("Storefront",), NOW, NOW, active=False)
    html = render_page(StatusPage("Shop", NOW, (), (), (window,)))

    assert (
        '<time datetime="2026-12-07T12:00:00+00:00" data-local>2026-12-07 12:00 UTC</time>' in html
    )
    assert '<script src="status.js" defer></script>' in html


def test_names_are_escaped_and_days_that_missed_are_listed() -> None:
    days = (
        DayBar(date(2026, 12, 5), 990, 1000),
        DayBar(date(2026, 12, 6), 1000, 1000, maintenance=True),
        DayBar(date(2026, 12, 7), 1000, 1000),
    )
    service = ServiceStatus("<Shop>", "A & B", None, "operational", 0.999, days)
    html = render_page(StatusPage("Shop <status>", NOW, (service,), (), ()))

    assert "<title>Shop &lt;status&gt;</title>" in html
    assert "<h4>A &amp; B</h4>" in html and "&lt;Shop&gt;" in html
    assert "2 day(s) below the objective or with maintenance" in html
    assert "<td>99.000%</td>" in html
    assert 'aria-label="Daily availability over the last 3 days: 99.67% (objective 99.9%)"' in html


def test_bar_classes_separate_met_low_bad_planned_and_missing_days() -> None:
    day = date(2026, 12, 7)
    assert bar_class(DayBar(day, 1000, 1000), 0.999) == "ok"
    assert bar_class(DayBar(day, 995, 1000), 0.999) == "low"
    assert bar_class(DayBar(day, 980, 1000), 0.999) == "bad"
    assert bar_class(DayBar(day, 1000, 1000, maintenance=True), 0.999) == "plan"
    assert bar_class(DayBar(day, 980, 1000, maintenance=True), 0.999) == "bad"
    assert bar_class(DayBar(day, 0, 0), 0.999) == "none"
