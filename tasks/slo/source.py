"""Evaluate SLOs over the check results in the store (used by the flow, the gate and status)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from tasks.probes.loader import load_checks
from tasks.slo.definition import SloDefinition
from tasks.slo.evaluate import evaluate_results
from tasks.slo.events import CheckResults, indicator_checks
from tasks.slo.loader import load_slos
from tasks.slo.maintenance import MaintenanceCalendar
from tasks.slo.maintenance_loader import load_maintenance
from tasks.slo.report import SloReport
from tasks.store.check_results import fetch_results

__all__ = ["evaluate_from_store", "evaluate_specs", "lookback_start"]


def lookback_start(slos: Sequence[SloDefinition], now: int) -> int:
    """The earliest instant any SLO needs: its window start or its longest alert window.

    The engine counts whole slots, so a window can reach back up to one slot before
    ``now - window``; one slot of margin makes the read a superset of what is counted.
    """
    starts = [now]
    for slo in slos:
        windows = [now - slo.window.period(now)[0]]
        windows.extend(tier.long_seconds for tier in slo.tiers)
        if slo.no_data is not None:
            windows.append(slo.no_data.after_seconds)
        starts.append(now - max(windows) - slo.slot_seconds)
    return min(starts)


def _selected_checks(
    slos: Sequence[SloDefinition], check_services: dict[str, str]
) -> list[str] | None:
    ids: set[str] = set()
    for slo in slos:
        ids.update(indicator_checks(slo.indicator, check_services))
    return sorted(ids)


def evaluate_from_store(
    engine: Engine,
    slos: Sequence[SloDefinition],
    check_services: dict[str, str],
    now: datetime,
    maintenance: MaintenanceCalendar | None = None,
) -> list[SloReport]:
    """Fetch the results every SLO needs in one query and evaluate them all at ``now``.

    Args:
        engine: the store.
        slos: SLO objectives to evaluate.
        check_services: check id -> service, for SLIs that select checks by service.
        now: the evaluation instant (timezone-aware).
        maintenance: planned windows (their failures spend no budget; they hold pages).
    """
    if not slos:
        return []
    t = int(now.timestamp())
    columns = fetch_results(
        engine,
        _selected_checks(slos, check_services),
        datetime.fromtimestamp(lookback_start(slos, t), tz=now.tzinfo),
        datetime.fromtimestamp(t + 1, tz=now.tzinfo),
    )
    results = CheckResults(
        columns.check_id, columns.region, columns.started_at, columns.verdict, columns.duration_ms
    )
    return evaluate_results(slos, results, now, check_services, maintenance)


def evaluate_specs(
    engine: Engine,
    slos_path: Path | str,
    checks_path: Path | str,
    now: datetime,
    service: str | None = None,
) -> list[SloReport]:
    """Load SLO, check and maintenance specs, then evaluate (``service``'s) SLOs over the store.

    Maintenance windows are read from ``checks_path``, where they sit next to the checks.

    Raises:
        SpecError: a spec file is invalid.
    """
    slos = [s for s in load_slos([slos_path]) if service is None or s.service == service]
    checks = load_checks([checks_path])
    check_services = {c.id: c.service for c in checks}
    calendar = MaintenanceCalendar(load_maintenance([checks_path], checks), check_services)
    return evaluate_from_store(engine, slos, check_services, now, calendar)
