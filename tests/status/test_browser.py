"""The status page in headless Chromium: each state, a phone's width, no JS, the keyboard.

One screenshot per state is written to ``$TRACEO_TEST_OUTPUT/status-page/`` (default
``test-output/`` in the repository), which CI keeps as its output.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from deployments.status.app import PageCache, StatusApp
from tasks.local_server import ThreadedApp
from tasks.status.assets import contrast_ratio
from tasks.status.model import (
    STATE_LABELS,
    DayBar,
    Incident,
    ScheduledMaintenance,
    ServiceStatus,
    State,
    StatusPage,
)
from tests.services import require_chromium
from tests.status.conftest import NOW

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

OUTPUT = Path(os.environ.get("TRACEO_TEST_OUTPUT", Path(__file__).parents[2] / "test-output"))
PHONE = {"width": 375, "height": 812}
STATES: tuple[State, ...] = (
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
)


def days(bad_day: int = 80) -> tuple[DayBar, ...]:
    first = NOW.date() - timedelta(days=89)
    out = []
    for k in range(90):
        good = 9_800 if k == bad_day else 10_000
        out.append(DayBar(first + timedelta(days=k), good, 10_000, maintenance=k == 85))
    return tuple(out)


def page_in(state: State) -> StatusPage:
    services = (
        ServiceStatus("Shop", "Storefront", "Catalogue and health.", state, 0.999, days()),
        ServiceStatus("Shop", "Checkout", None, "operational", 0.999, days(bad_day=10)),
        ServiceStatus("Accounts", "Sign-in", None, "operational", 0.995, days(bad_day=-1)),
    )
    incidents = (
        (Incident("Storefront", "availability", NOW - timedelta(minutes=12)),)
        if state in ("partial_outage", "major_outage")
        else ()
    )
    maintenance = (
        ScheduledMaintenance(
            "Database upgrade",
            ("Storefront",),
            NOW - timedelta(minutes=10),
            NOW + timedelta(minutes=50),
            active=state == "under_maintenance",
        ),
    )
    return StatusPage("Example Shop status", NOW, services, incidents, maintenance)


@pytest.fixture(scope="module")
def browse() -> Iterator[Callable[..., Any]]:
    """Run ``action(page)`` on a fresh page of a shared Chromium, with context options."""
    require_chromium()
    from tasks.probes.browser_launch import open_browser

    loop = asyncio.new_event_loop()
    opened = open_browser()
    browser = loop.run_until_complete(opened.__aenter__())

    def run(url: str, action: Callable[[Any], Awaitable[Any]], **options: Any) -> Any:
        async def go() -> Any:
            context = await browser.new_context(**options)
            try:
                page = await context.new_page()
                await page.goto(url)
                return await action(page)
            finally:
                await context.close()

        return loop.run_until_complete(go())

    yield run
    loop.run_until_complete(opened.__aexit__(None, None, None))
    loop.close()


# (text colour, background colour) of every badge and the banner, as rgb() strings
_COLOURS = """[...document.querySelectorAll('.state, .banner')].map(el => {
  const style = getComputedStyle(el);
  return [style.color, style.backgroundColor];
})"""


def _hex(rgb: str) -> str:
    red, green, blue = (int(part) for part in rgb[rgb.index("(") + 1 : -1].split(",")[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


def serve(page: StatusPage) -> ThreadedApp:
    cache = PageCache(lambda: page, refresh=3600)
    cache.rebuild()
    return ThreadedApp(StatusApp(cache), "status-browser-test")


@pytest.mark.parametrize("state", STATES)
def test_each_state_reads_on_a_phone_and_is_saved_as_a_screenshot(browse, state) -> None:
    shot = OUTPUT / "status-page" / f"{state}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)

    async def look(page: Any) -> dict[str, Any]:
        await page.screenshot(path=str(shot), full_page=True)
        return {
            "badge": await page.locator(".service .state").first.inner_text(),
            "banner": await page.locator(".banner").inner_text(),
            "incidents": await page.locator("#incidents + *").inner_text(),
            "overflow": await page.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth"
            ),
            "bars": await page.locator("svg.bars").count(),
            "colours": await page.evaluate(_COLOURS),
        }

    with serve(page_in(state)) as server:
        seen = browse(f"{server.url}/status", look, viewport=PHONE)

    assert seen["badge"] == STATE_LABELS[state]
    assert seen["banner"] == page_in(state).headline[1]
    assert ("Elevated error rate on Storefront" in seen["incidents"]) == (
        state in ("partial_outage", "major_outage")
    )
    assert seen["overflow"] <= 0  # nothing wider than a phone
    assert seen["bars"] == 3
    assert shot.stat().st_size > 0
    for text, background in seen["colours"]:  # as the browser computed them: WCAG AA
        assert contrast_ratio(_hex(text), _hex(background)) >= 4.5, (text, background)


def test_without_javascript_times_read_in_utc_and_with_it_in_the_readers_zone(browse) -> None:
    async def updated(page: Any) -> str:
        return str(await page.locator(".updated time").inner_text())

    with serve(page_in("operational")) as server:
        plain = browse(f"{server.url}/status", updated, java_script_enabled=False)
        tokyo = browse(f"{server.url}/status", updated, timezone_id="Asia/Tokyo", locale="en-GB")

    assert plain == "2026-12-07 12:00 UTC"
    assert "21:00" in tokyo and "UTC" not in tokyo  # 12:00 UTC is 21:00 in Tokyo


def test_keyboard_reaches_the_services_and_opens_a_days_table(browse) -> None:
    async def navigate(page: Any) -> dict[str, Any]:
        focused = "document.activeElement"
        await page.keyboard.press("Tab")
        skip = await page.evaluate(f"{focused}.textContent")
        outline = await page.evaluate(f"getComputedStyle({focused}).outlineStyle")
        await page.keyboard.press("Enter")
        target = await page.evaluate(f"{focused}.id")
        await page.keyboard.press("Tab")
        summary = await page.evaluate(f"{focused}.tagName + ' ' + {focused}.textContent")
        await page.keyboard.press("Enter")
        opened = await page.evaluate(f"{focused}.parentElement.open")
        row = await page.locator("details[open] tbody tr").first.inner_text()
        return {
            "skip": skip,
            "outline": outline,
            "target": target,
            "summary": summary,
            "open": opened,
            "row": row,
        }

    with serve(page_in("operational")) as server:
        seen = browse(f"{server.url}/status", navigate)

    assert seen["skip"] == "Skip to services"
    assert seen["outline"] == "solid"  # focus is visible
    assert seen["target"] == "services"
    assert seen["summary"] == "SUMMARY 2 day(s) below the objective or with maintenance"
    assert seen["open"] is True
    expected = date.fromordinal(NOW.date().toordinal() - 4).isoformat()  # the maintenance day
    assert row_starts(seen["row"], expected)


def row_starts(row: str, day: str) -> bool:
    return row.split()[0] == day
