"""Synthetic probes: run one region's due checks and record every result."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from tasks.probes.loader import load_checks
from tasks.probes.reporting import publish_probe_summary
from tasks.probes.schedule import due_checks, slot_start
from tasks.probes.tasks import record_results, run_check_batch
from tasks.redaction import install_redaction
from tasks.settings import get_settings

__all__ = ["synthetic_probes"]


@flow(name="synthetic-probes", log_prints=False)
def synthetic_probes(
    region: str,
    checks_path: str | None = None,
    scheduled_at: datetime | None = None,
    batch_size: int = 500,
) -> dict[str, int]:
    """Run the checks of ``region`` due at the scheduled time and store the results.

    Args:
        region: probe region, e.g. ``eu-west-1``; only checks listing it run.
        checks_path: check files or a directory (default: ``TRACEO_CHECKS_PATH``).
        scheduled_at: the slot to run (default: this flow run's scheduled start), so a rerun
            of the same flow run replaces its own results instead of adding new ones.
        batch_size: checks per task run (one task per batch, never one per check).

    Returns:
        Counts of results by verdict.
    """
    install_redaction()
    logger = get_run_logger()
    at = (scheduled_at or flow_run.scheduled_start_time or datetime.now(UTC)).astimezone(UTC)
    at = slot_start(at, 60)
    checks = due_checks(load_checks([checks_path or get_settings().checks_path]), region, at)
    logger.info("Running %d checks in %s for %s", len(checks), region, at.isoformat())
    batches = [checks[i : i + batch_size] for i in range(0, len(checks), batch_size)]
    results = [r for batch in batches for r in run_check_batch(batch, region, at)]
    record_results(results, flow_run_id=flow_run.id)
    return publish_probe_summary(results, region, at)
