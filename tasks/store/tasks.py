"""Prefect tasks of the store's upkeep: thin wrappers over compaction and retention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import get_run_logger, task

from tasks.retry import retry_policy
from tasks.settings import get_settings
from tasks.store.compaction import compact_check_results
from tasks.store.engine import get_engine
from tasks.store.retention import RetentionPolicy, apply_retention

__all__ = ["pack_cold_check_results", "remove_expired_check_data", "remove_expired_evidence"]


@task(name="pack-cold-check-results", **retry_policy())
def pack_cold_check_results(now: datetime, batch: int) -> dict[str, Any]:
    """Pack raw results older than the compaction age into one row per check, region and hour."""
    after = get_settings().compact_after_hours
    report = compact_check_results(get_engine(), now, after, batch)
    get_run_logger().info(
        "Packed %d results into %d hours (older than %d hours); dropped %d emptied partitions;"
        " rewrote %d hours' minutes in the current format",
        report.results_packed,
        report.hours_packed,
        after,
        report.partitions_dropped,
        report.minutes_repacked,
    )
    return {
        "packed_before": datetime.fromtimestamp(report.cutoff, UTC),
        "results_packed": report.results_packed,
        "hours_packed": report.hours_packed,
        "partitions_dropped": report.partitions_dropped,
        "minutes_repacked": report.minutes_repacked,
    }


@task(name="remove-expired-check-data", **retry_policy())
def remove_expired_check_data(now: datetime, batch: int) -> dict[str, Any]:
    """Apply the configured retention at ``now`` (raw results, then rollups), in batches."""
    policy = RetentionPolicy.from_settings(get_settings())
    report = apply_retention(get_engine(), policy, now, batch)
    logger = get_run_logger()
    logger.info("Removed %d raw check results (kept %d days)", report.raw_removed, policy.raw_days)
    for resolution, removed in report.rollups_removed.items():
        logger.info("Removed %d rollups of %d s", removed, resolution)
    return {
        "raw_cutoff": datetime.fromtimestamp(report.raw_cutoff, UTC),
        "raw_removed": report.raw_removed,
        "rollups_removed": {str(r): n for r, n in report.rollups_removed.items()},
    }


@task(name="remove-expired-evidence", **retry_policy())
def remove_expired_evidence(before: datetime) -> int:
    """Remove browser evidence (screenshots, traces) of slots before the raw results' cutoff."""
    from tasks.probes.evidence import evidence_store

    removed = evidence_store().expire(before)
    get_run_logger().info("Removed %d evidence files of slots before %s", removed, before)
    return removed
