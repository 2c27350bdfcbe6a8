"""Synthetic probes: run one region's due checks and record every result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from tasks.extras import require_extras

# Before the role's tasks: without the probes extra this is one line naming it, not an
# ImportError from deep in a task module (tasks/extras.py).
require_extras("probes")

from tasks.failure import report_failure  # noqa: E402
from tasks.outcome import job_outcome  # noqa: E402
from tasks.probes.loader import load_checks  # noqa: E402
from tasks.probes.reporting import probe_run_problem, publish_probe_summary  # noqa: E402
from tasks.probes.schedule import RUN_SECONDS, plan_run, run_deadline, slot_start  # noqa: E402
from tasks.probes.tasks import record_results, run_planned_checks  # noqa: E402
from tasks.redaction import install_redaction  # noqa: E402
from tasks.results import rerunnable  # noqa: E402
from tasks.settings import get_settings  # noqa: E402

__all__ = ["synthetic_probes"]


@flow(name="synthetic-probes", log_prints=False, **rerunnable(), on_failure=[report_failure])
def synthetic_probes(
    region: str,
    checks_path: str | None = None,
    scheduled_at: datetime | None = None,
    batch_size: int = 500,
    spread: bool = True,
    check_types: list[str] | None = None,
) -> dict[str, int]:
    """Run the checks of ``region`` due in the scheduled minute and store the results.

    Each check starts at its own stable offset (:mod:`tasks.probes.schedule`) when the run is
    live; a run given an explicit ``scheduled_at`` (a rerun or a backfill) starts them at once.

    Args:
        region: probe region, e.g. ``eu-west-1``; only checks listing it run.
        checks_path: check files or a directory (default: ``TRACEO_CHECKS_PATH``).
        scheduled_at: the slot to run (default: this flow run's scheduled start), so a rerun
            of the same flow run replaces its own results instead of adding new ones.
        batch_size: checks per task run (one task per batch, never one per check).
        spread: start each check at its offset in a live run; False starts them all at once.
        check_types: run only these check types (e.g. ``["http", "multistep", "tcp"]`` on a
            probe host without a browser); default: all.

    Returns:
        Counts of results by verdict; the run ends Failed (with the counts) when every check
        errored.
    """
    install_redaction()
    logger = get_run_logger()
    at = (scheduled_at or flow_run.scheduled_start_time or datetime.now(UTC)).astimezone(UTC)
    at = slot_start(at, RUN_SECONDS)
    until = run_deadline(at)
    live = spread and scheduled_at is None and datetime.now(UTC) < until
    checks = load_checks([checks_path or get_settings().checks_path])
    if check_types is not None:
        checks = [c for c in checks if c.type in check_types]
    plan = plan_run(checks, region, at)
    logger.info("Running %d checks in %s for %s", len(plan), region, at.isoformat())
    batches = [plan[i : i + batch_size] for i in range(0, len(plan), batch_size)]
    # concurrently: each batch sleeps until its checks' instants within the minute
    futures = [run_planned_checks.submit(b, region, wait=live, until=until) for b in batches]
    results = [r for future in futures for r in future.result()]
    record_results(results, flow_run_id=flow_run.id)
    counts = publish_probe_summary(results, region, at)
    # a Failed state ends the run (a direct call raises): callers only ever get the counts
    return cast(dict[str, int], job_outcome(counts, probe_run_problem(counts)))
