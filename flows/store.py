"""Store upkeep: check results and rollups kept only as long as the retention settings say."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from tasks.failure import report_failure
from tasks.redaction import install_redaction
from tasks.results import rerunnable
from tasks.store.tasks import remove_expired_check_data, remove_expired_evidence

__all__ = ["enforce_store_retention"]


@flow(name="store-retention", log_prints=False, on_failure=[report_failure], **rerunnable())
def enforce_store_retention(now: datetime | None = None, batch: int = 10_000) -> dict[str, Any]:
    """Remove raw check results, their evidence and rollups past retention, in batches.

    Args:
        now: the instant retention is judged at (default: this run's scheduled start).
        batch: rows removed per transaction.
    """
    install_redaction()
    at = (now or flow_run.scheduled_start_time or datetime.now(UTC)).astimezone(UTC)
    report = remove_expired_check_data(at, batch)
    # Evidence follows the raw results it explains.
    report["evidence_removed"] = remove_expired_evidence(report["raw_cutoff"])
    return report
