"""Evaluate SLOs over the store (used by the flow, the gate and status): rollups, or raw results.

Rollups count most SLOs (:mod:`tasks.slo.rollup_source`). Raw results are read for the SLOs
rollups cannot count exactly, and for the SLOs a maintenance window touched inside their
lookback: a failure inside a window is not an event, and rollups do not know the windows.
SLIs with ``metricSource.type: prometheus`` are read from Prometheus
(:mod:`tasks.slo.prometheus`) over the same lookback.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from tasks.errors import ConfigurationError
from tasks.probes.loader import load_checks
from tasks.slo.definition import SloDefinition
from tasks.slo.evaluate import evaluate_results, evaluate_slos, with_maintenance
from tasks.slo.events import CheckResults, Events, indicator_checks, select_events
from tasks.slo.loader import load_slos
from tasks.slo.maintenance import MaintenanceCalendar
from tasks.slo.maintenance_loader import load_maintenance
from tasks.slo.prometheus import PrometheusReader
from tasks.slo.prometheus_connection import prometheus_reader
from tasks.slo.report import SloReport
from tasks.slo.rollup_source import read_plan, rollup_events
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


def _raw_results(
    engine: Engine, slos: Sequence[SloDefinition], check_services: dict[str, str], now: int
) -> CheckResults:
    """The raw results every SLO counts over its lookback, read in one query."""
    ids = sorted({c for slo in slos for c in indicator_checks(slo.indicator, check_services)})
    columns = fetch_results(
        engine,
        ids,
        datetime.fromtimestamp(lookback_start(slos, now), UTC),
        datetime.fromtimestamp(now + 1, UTC),
    )
    return CheckResults(
        columns.check_id, columns.region, columns.started_at, columns.verdict, columns.duration_ms
    )


def evaluate_from_raw(
    engine: Engine,
    slos: Sequence[SloDefinition],
    check_services: dict[str, str],
    now: datetime,
    maintenance: MaintenanceCalendar | None = None,
) -> list[SloReport]:
    """Evaluate every SLO at ``now`` from the raw results alone (the reference for rollups)."""
    if not slos:
        return []
    results = _raw_results(engine, slos, check_services, int(now.timestamp()))
    return evaluate_results(slos, results, now, check_services, maintenance)


def evaluate_from_store(
    engine: Engine,
    slos: Sequence[SloDefinition],
    check_services: dict[str, str],
    now: datetime,
    maintenance: MaintenanceCalendar | None = None,
    prometheus: PrometheusReader | None = None,
) -> list[SloReport]:
    """Evaluate every SLO at ``now`` from the rollups (raw results for the SLOs they cannot count).

    Args:
        engine: the store.
        slos: SLO objectives to evaluate.
        check_services: check id -> service, for SLIs that select checks by service.
        now: the evaluation instant (timezone-aware).
        maintenance: planned windows (their failures spend no budget; they hold pages).
        prometheus: reads the SLOs whose SLI is a Prometheus query.

    Raises:
        ConfigurationError: an SLO reads Prometheus and ``prometheus`` is None.
    """
    if not slos:
        return []
    t = int(now.timestamp())
    lookback = lookback_start(slos, t)
    on_prometheus = [i for i, slo in enumerate(slos) if slo.indicator.prometheus is not None]
    if on_prometheus and prometheus is None:
        names = ", ".join(slos[i].id for i in on_prometheus)
        raise ConfigurationError(
            f"SLOs {names} read Prometheus: set TRACEO_PROMETHEUS_BLOCK or TRACEO_PROMETHEUS_URL"
        )

    def touched(slo: SloDefinition) -> bool:
        if not maintenance:
            return False
        return maintenance.touches(indicator_checks(slo.indicator, check_services), lookback, t + 1)

    plans = [
        None if touched(slo) or slo.indicator.prometheus else read_plan(slo, t) for slo in slos
    ]
    on_rollups = [(i, p) for i, p in enumerate(plans) if p is not None]
    planned = [i for i, _ in on_rollups]
    unplanned = [i for i, p in enumerate(plans) if p is None and i not in on_prometheus]
    events: list[Events | None] = [None] * len(slos)
    from_rollups = (
        rollup_events(
            engine, [slos[i] for i in planned], [p for _, p in on_rollups], check_services, t
        )
        if planned
        else []
    )
    from_raw: list[Events] = []
    if unplanned:
        raw_slos = [slos[i] for i in unplanned]
        results = _raw_results(engine, raw_slos, check_services, t)
        from_raw = [
            select_events(s.indicator, results, check_services, maintenance) for s in raw_slos
        ]
    from_prometheus = [
        prometheus.events(slos[i], lookback, t) for i in on_prometheus if prometheus is not None
    ]
    order = [*planned, *unplanned, *on_prometheus]
    for i, e in zip(order, [*from_rollups, *from_raw, *from_prometheus], strict=True):
        events[i] = e
    reports = evaluate_slos(slos, [e for e in events if e is not None], now)
    return with_maintenance(slos, reports, now, check_services, maintenance)


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
        SpecError: a spec file is invalid, or Prometheus rejected one of its queries.
        ConfigurationError: an SLO reads Prometheus and none is configured.
        ServiceUnavailableError: Prometheus is down.
    """
    slos = [s for s in load_slos([slos_path]) if service is None or s.service == service]
    checks = load_checks([checks_path])
    check_services = {c.id: c.service for c in checks}
    calendar = MaintenanceCalendar(load_maintenance([checks_path], checks), check_services)
    if not any(slo.indicator.prometheus for slo in slos):
        return evaluate_from_store(engine, slos, check_services, now, calendar)
    with prometheus_reader() as reader:
        return evaluate_from_store(engine, slos, check_services, now, calendar, reader)
