"""SLO-backed probes for steady-state hypotheses, reading the store through the SLO engine.

Each probe sees the store's check results plus, inside a Traceo run, the run's own continuous
check results (kept apart from ``check_results`` unless the experiment counts them), so the
hypothesis sees the fault while the release gate does not. Use them with tolerances::

    - type: probe
      name: latency-slo-burn-under-10x
      tolerance: {type: range, range: [0, 10]}
      provider: {type: python, module: tasks.chaos.activities.slo, func: slo_burn_rate,
                 arguments: {slo: shop-api-latency, window_seconds: 30}}

A probe with nothing to judge (no results in its window) fails the activity rather than
guessing; the burn rate alone reads 0 with no events (nothing is burning).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import Engine

from tasks.chaos.context import current
from tasks.chaos.records import concat_results, fetch_run_results, results_columns
from tasks.errors import NotFoundError
from tasks.slo.definition import SloDefinition
from tasks.slo.events import CheckResults, select_events

__all__ = [
    "burn_rate",
    "check_latency_percentile",
    "check_passing",
    "check_verdict",
    "slo_budget_remaining",
    "slo_burn_rate",
]


@lru_cache(maxsize=8)
def _specs(slos_path: str, checks_path: str) -> tuple[dict[str, SloDefinition], dict[str, str]]:
    from tasks.probes.loader import load_checks
    from tasks.slo.loader import load_slos

    slos = {s.id: s for s in load_slos([slos_path])}
    return slos, {c.id: c.service for c in load_checks([checks_path])}


def _where(configuration: Mapping[str, Any] | None) -> tuple[Engine, str | None, str, str]:
    from tasks.settings import get_settings
    from tasks.store import get_engine

    config = configuration or {}
    settings = get_settings()
    context = current(config)
    engine = context.engine if context else get_engine()
    slos = str(config.get("slos_path") or settings.slos_path)
    checks = str(config.get("checks_path") or settings.checks_path)
    return engine, context.run_id if context else None, slos, checks


def _slo(slo: str, slos_path: str, checks_path: str) -> tuple[SloDefinition, dict[str, str]]:
    slos, services = _specs(slos_path, checks_path)
    if slo not in slos:
        raise NotFoundError(f"SLO {slo!r} not found in {slos_path} (known: {', '.join(slos)})")
    return slos[slo], services


def results(
    engine: Engine, run_id: str | None, check_ids: list[str] | None, start: datetime, end: datetime
) -> CheckResults:
    """Store results of ``check_ids`` (None: all) in [start, end), plus the run's own."""
    from tasks.store.check_results import fetch_results

    parts = [results_columns(fetch_results(engine, check_ids, start, end))]
    if run_id is not None:
        parts.append(fetch_run_results(engine, run_id, start, end))
    return concat_results(parts)


def burn_rate(
    engine: Engine,
    slo: SloDefinition,
    check_services: Mapping[str, str],
    window_seconds: float,
    now: datetime,
    run_id: str | None = None,
) -> tuple[float | None, int]:
    """``(burn rate, events)`` of ``slo`` over the trailing window; None without events.

    The plain ratio (bad / events) / error budget, with no region quorum: over the seconds an
    experiment lasts, every failed check counts.
    """
    start = now - timedelta(seconds=window_seconds)
    events = select_events(
        slo.indicator,
        results(engine, run_id, None, start, now + timedelta(seconds=1)),
        dict(check_services),
    )
    total = len(events.good)
    if total == 0:
        return None, 0
    return float((~events.good).sum()) / total / slo.error_budget, total


def slo_burn_rate(
    slo: str, window_seconds: float = 300, configuration: dict[str, Any] | None = None
) -> float:
    """Burn rate of ``slo`` over the last ``window_seconds`` (1 = spending exactly on budget)."""
    engine, run_id, slos_path, checks_path = _where(configuration)
    definition, services = _slo(slo, slos_path, checks_path)
    rate, _ = burn_rate(engine, definition, services, window_seconds, datetime.now(UTC), run_id)
    return round(rate or 0.0, 4)


def slo_budget_remaining(slo: str, configuration: dict[str, Any] | None = None) -> float:
    """Share of ``slo``'s error budget left over its whole window (negative when overspent)."""
    from chaoslib.exceptions import ActivityFailed

    from tasks.slo.evaluate import evaluate_results
    from tasks.slo.source import lookback_start

    engine, run_id, slos_path, checks_path = _where(configuration)
    definition, services = _slo(slo, slos_path, checks_path)
    now = datetime.now(UTC)
    start = datetime.fromtimestamp(lookback_start([definition], int(now.timestamp())), UTC)
    columns = results(engine, run_id, None, start, now + timedelta(seconds=1))
    report = evaluate_results([definition], columns, now, services)[0]
    if report.budget_remaining is None:
        raise ActivityFailed(f"SLO {slo!r} has no data in its window")
    return round(report.budget_remaining, 6)


def _recent(check: str, seconds: float, configuration: dict[str, Any] | None) -> CheckResults:
    engine, run_id, _, _ = _where(configuration)
    now = datetime.now(UTC)
    return results(
        engine, run_id, [check], now - timedelta(seconds=seconds), now + timedelta(seconds=1)
    )


def check_verdict(
    check: str, within_seconds: float = 300, configuration: dict[str, Any] | None = None
) -> str:
    """The latest verdict of ``check`` (pass, degraded, fail, error) in the last N seconds."""
    from chaoslib.exceptions import ActivityFailed

    found = _recent(check, within_seconds, configuration)
    mine = found.verdict[found.check_id == check]
    if len(mine) == 0:
        raise ActivityFailed(f"check {check!r} has no result in the last {within_seconds:g} s")
    return str(mine[-1])


def check_passing(
    check: str, within_seconds: float = 300, configuration: dict[str, Any] | None = None
) -> bool:
    """Whether ``check``'s latest verdict is good (pass or degraded): use ``tolerance: true``.

    (A two-item list tolerance is a numeric range in Chaos Toolkit, so ``[pass, degraded]``
    cannot express this.)
    """
    return check_verdict(check, within_seconds, configuration) in ("pass", "degraded")


def check_latency_percentile(
    check: str,
    percentile: float = 95,
    last_seconds: float = 30,
    configuration: dict[str, Any] | None = None,
) -> float:
    """The ``percentile`` of ``check``'s duration (ms) over its results of the last N seconds."""
    from chaoslib.exceptions import ActivityFailed

    found = _recent(check, last_seconds, configuration)
    durations = found.duration_ms[(found.check_id == check) & ~np.isnan(found.duration_ms)]
    if len(durations) == 0:
        raise ActivityFailed(f"check {check!r} has no timed result in the last {last_seconds:g} s")
    return round(float(np.percentile(durations, percentile)), 1)
