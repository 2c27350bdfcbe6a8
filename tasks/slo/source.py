"""Evaluate SLOs over the store (used by the flow, the gate and status): rollups, or raw results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from tasks.probes.loader import load_checks
from tasks.slo.definition import SloDefinition
from tasks.slo.evaluate import evaluate_slos
from tasks.slo.events import CheckResults, Events, select_events
from tasks.slo.loader import load_slos
from tasks.slo.report import SloReport
from tasks.slo.rollup_source import check_ids, read_plan, rollup_events
from tasks.store.check_results import fetch_results

__all__ = ["evaluate_from_raw", "evaluate_from_store", "evaluate_specs", "lookback_start"]


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


def _raw_events(
    engine: Engine, slos: Sequence[SloDefinition], check_services: dict[str, str], now: int
) -> list[Events]:
    """Each SLO's events from the raw results, read in one query."""
    if not slos:
        return []
    ids = sorted({c for slo in slos for c in check_ids(slo.indicator, check_services)})
    columns = fetch_results(
        engine,
        ids,
        datetime.fromtimestamp(lookback_start(slos, now), UTC),
        datetime.fromtimestamp(now + 1, UTC),
    )
    results = CheckResults(
        columns.check_id, columns.region, columns.started_at, columns.verdict, columns.duration_ms
    )
    return [select_events(slo.indicator, results, check_services) for slo in slos]


def evaluate_from_raw(
    engine: Engine,
    slos: Sequence[SloDefinition],
    check_services: dict[str, str],
    now: datetime,
) -> list[SloReport]:
    """Evaluate every SLO at ``now`` from the raw results alone (the reference for rollups)."""
    return evaluate_slos(slos, _raw_events(engine, slos, check_services, int(now.timestamp())), now)


def evaluate_from_store(
    engine: Engine,
    slos: Sequence[SloDefinition],
    check_services: dict[str, str],
    now: datetime,
) -> list[SloReport]:
    """Evaluate every SLO at ``now`` from the rollups (raw results for the SLOs they cannot count).

    Args:
        engine: the store.
        slos: SLO objectives to evaluate.
        check_services: check id -> service, for SLIs that select checks by service.
        now: the evaluation instant (timezone-aware).
    """
    if not slos:
        return []
    t = int(now.timestamp())
    plans = [read_plan(slo, t) for slo in slos]
    planned = [i for i, p in enumerate(plans) if p is not None]
    unplanned = [i for i, p in enumerate(plans) if p is None]
    events: list[Events | None] = [None] * len(slos)
    from_rollups = (
        rollup_events(
            engine, [slos[i] for i in planned], [plans[i] for i in planned], check_services, t
        )
        if planned
        else []
    )
    from_raw = _raw_events(engine, [slos[i] for i in unplanned], check_services, t)
    for i, e in zip([*planned, *unplanned], [*from_rollups, *from_raw], strict=True):
        events[i] = e
    return evaluate_slos(slos, [e for e in events if e is not None], now)


def evaluate_specs(
    engine: Engine,
    slos_path: Path | str,
    checks_path: Path | str,
    now: datetime,
    service: str | None = None,
) -> list[SloReport]:
    """Load SLO and check specs from files, then evaluate (``service``'s) SLOs over the store.

    Raises:
        SpecError: a spec file is invalid.
    """
    slos = [s for s in load_slos([slos_path]) if service is None or s.service == service]
    check_services = {c.id: c.service for c in load_checks([checks_path])}
    return evaluate_from_store(engine, slos, check_services, now)
