"""The demo's status part: a planned outage a maintenance window keeps off the budget, and the page.

The planned outage is 30 minutes of failed order journeys, in every region, inside a one-off
window written next to a copy of the shop's checks (the demo points ``TRACEO_CHECKS_PATH`` at the
copy, so the SLO flow honours the window like any other). It lies in the order journey SLO's
current calendar month: a day before the demo, or four hours before it early in a month.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from infra.sandbox.history import Incident
from tasks.settings.core import Settings
from tasks.slo.definition import SloDefinition

__all__ = ["PLANNED_CHECK", "PlannedOutage", "plan_outage", "show_status"]

PLANNED_CHECK = "shop-order-journey"
PLANNED_SLO = "shop-order-journey"
WINDOW_ID = "demo-checkout-upgrade"
_LENGTH = timedelta(minutes=30)


@dataclass(frozen=True)
class PlannedOutage:
    incident: Incident
    slo: SloDefinition

    def window_yaml(self) -> str:
        start, end = self.incident.start, self.incident.end
        return (
            "# Written by `traceo demo`: the planned outage of its simulated history.\n"
            "maintenance:\n"
            f"  - id: {WINDOW_ID}\n"
            f"    check: {PLANNED_CHECK}\n"
            f"    start: {start:%Y-%m-%dT%H:%M}\n"
            f"    end: {end:%Y-%m-%dT%H:%M}\n"
            "    timezone: UTC\n"
            "    reason: checkout database upgrade (planned)\n"
        )


def plan_outage(slos: Sequence[SloDefinition], now: datetime) -> PlannedOutage | None:
    """The planned outage for ``now``; None in a month's first hours, where none fits."""
    slo = next(s for s in slos if s.id == PLANNED_SLO)
    period_start = slo.window.period(int(now.timestamp()))[0]
    for back in (timedelta(days=1), timedelta(hours=4)):
        start = (now - back).replace(second=0, microsecond=0)
        if start.timestamp() >= period_start:
            incident = Incident(
                "planned checkout upgrade (inside a maintenance window)",
                start,
                start + _LENGTH,
                1.0,
                checks=frozenset({PLANNED_CHECK}),
            )
            return PlannedOutage(incident, slo)
    return None


def checks_with_window(source: Path, demo_home: Path, planned: PlannedOutage) -> Path:
    """A fresh copy of the checks in ``demo_home`` with the planned outage's window beside them."""
    target = demo_home / "checks"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    (target / "demo-maintenance.yaml").write_text(planned.window_yaml(), encoding="utf-8")
    return target


def show_status(
    echo: Callable[[str], None],
    engine: Engine,
    settings: Settings,
    now: datetime,
    demo_home: Path,
    planned: PlannedOutage | None,
) -> None:
    """Print what the window kept off the budget, then export the status page and say where."""
    from tasks.status.model import STATE_LABELS
    from tasks.status.publish import export_page, load_sources

    sources = load_sources(settings.status_page, settings.checks_path, settings.slos_path)
    if planned is not None:
        _compare_budgets(echo, engine, sources.calendar, sources.checks, now, planned)
    page = sources.build(engine, now)
    files = export_page(page, demo_home / "status")
    _, headline = page.headline
    states = ", ".join(f"{s.name}: {STATE_LABELS[s.state]}" for s in page.services)
    echo(f"Status page: {headline}; {states}")
    echo(f"  {len(page.incidents)} open incident(s); open {files[0].resolve().as_uri()}")
    echo(
        f"  live: TRACEO_DATABASE_URL={settings.resolved_database_url} "
        f"TRACEO_CHECKS_PATH={settings.checks_path} uv run traceo status serve"
    )


def _compare_budgets(echo, engine, calendar, checks, now, planned) -> None:  # type: ignore[no-untyped-def]
    from tasks.slo.source import evaluate_from_store

    check_services = {c.id: c.service for c in checks}
    kept, spent = (
        evaluate_from_store(engine, [planned.slo], check_services, now, windows)[0]
        for windows in (calendar, None)
    )
    start = planned.incident.start.astimezone(UTC)
    echo(
        f"Maintenance window {WINDOW_ID}: the planned outage of {PLANNED_CHECK} "
        f"({start:%Y-%m-%d %H:%M}-{planned.incident.end:%H:%M} UTC, every region failing) "
        "was kept off the budget:"
    )
    echo(
        f"  {planned.slo.id} keeps {_share(kept.budget_remaining)} of its error budget "
        f"(without the window: {_share(spent.budget_remaining)})"
    )


def _share(value: float | None) -> str:
    return "no data" if value is None else f"{value:.1%}"
