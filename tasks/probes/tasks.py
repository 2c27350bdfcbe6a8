"""Prefect tasks for probes: one task run per batch of checks, one per bulk write.

A task run costs 15-22 ms of orchestration, more than a whole check; so a batch of hundreds of
checks is one task run, and a check's own retries happen inside the engine, not in Prefect.
Prefect retries only :class:`~tasks.errors.TransientError` (e.g. the store is unreachable).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from tasks.probes.catalog import AnyCheck
from tasks.probes.http import DEFAULT_CONCURRENCY, ProbeResult, count_verdicts
from tasks.probes.runner import run_any_checks_sync
from tasks.probes.schedule import PlannedRun, run_plan_sync
from tasks.results import reused_in_retry
from tasks.retry import retry_policy

__all__ = ["record_results", "run_check_batch", "run_planned_checks"]


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    # get_run_logger() raises outside a run; tests and scripts call ``task.fn(...)`` directly
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("traceo.probes")


@task(
    name="run-check-batch",
    **retry_policy(retries=2),
    cache_policy=NO_CACHE,  # hashing thousands of checks per run buys nothing
)
def run_check_batch(
    checks: Sequence[AnyCheck],
    region: str,
    scheduled_at: datetime,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[ProbeResult]:
    """Run a batch of checks from ``region`` for the slot ``scheduled_at``.

    A failing or broken check yields a ``fail``/``error`` result; it never fails the task.
    """
    results = run_any_checks_sync(checks, region, scheduled_at, concurrency=concurrency)
    _log_counts(results, region)
    return results


@task(
    name="run-planned-checks",
    **retry_policy(retries=2),
    # A retry of the minute's run (the store was down) reuses the batches that completed; a
    # retry runs late, so it no longer waits for each check's instant: not part of the key.
    **reused_in_retry("wait"),
)
def run_planned_checks(
    plan: Sequence[PlannedRun],
    region: str,
    wait: bool = False,
    until: datetime | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[ProbeResult]:
    """Run part of a probe run's plan; with ``wait``, each check starts at its own instant.

    Sleeps never last past ``until`` (the end of the run). See :mod:`tasks.probes.schedule`.
    """
    results = run_plan_sync(plan, region, wait=wait, until=until, concurrency=concurrency)
    _log_counts(results, region)
    return results


def _log_counts(results: Sequence[ProbeResult], region: str) -> None:
    counts = count_verdicts(results)
    _logger().info(
        "Ran %d checks in %s: %d pass, %d degraded, %d fail, %d error",
        len(results),
        region,
        counts["pass"],
        counts["degraded"],
        counts["fail"],
        counts["error"],
    )


@task(
    name="record-check-results",
    **retry_policy(),
    cache_policy=NO_CACHE,
)
def record_results(
    results: Sequence[ProbeResult],
    flow_run_id: str | UUID | None = None,
    simulated: bool = False,
    database_url: str | None = None,
) -> int:
    """Upsert results into the store (a rerun of the same slot replaces, never duplicates).

    Returns:
        The number of rows written.
    """
    from tasks.store.check_results import upsert_check_results
    from tasks.store.engine import get_engine

    written = upsert_check_results(
        get_engine(database_url),
        results,
        flow_run_id=str(flow_run_id) if flow_run_id is not None else None,
        simulated=simulated,
    )
    _logger().info("Recorded %d check results", written)
    return written
