"""Store upkeep: cold check results packed, and check data kept only as long as retention says."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from tasks.failure import report_failure
from tasks.redaction import install_redaction
from tasks.results import rerunnable
from tasks.store.tasks import (
    pack_cold_check_results,
    remove_expired_check_data,
    remove_expired_evidence,
)

__all__ = ["enforce_store_retention"]


@flow(name="store-retention", log_prints=False, on_failure=[report_failure], **rerunnable())
def enforce_store_retention(now: datetime | None = None, batch: int = 10_000) -> dict[str, Any]:
    """Pack cold raw check results, then remove results, evidence and rollups past retention.

    Args:
        now: the instant compaction and retention are judged at (default: this run's
            scheduled start).
        batch: rows removed (or check-region-hours packed) per transaction.
    """
    install_redaction()
    at = (now or flow_run.scheduled_start_time or datetime.now(UTC)).astimezone(UTC)
    packed = pack_cold_check_results(at, batch)
    report = remove_expired_check_data(at, batch)
    report.update(packed)
    # Evidence follows the raw results it explains.
    report["evidence_removed"] = remove_expired_evidence(report["raw_cutoff"])
    return report
