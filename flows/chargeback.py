"""Chargeback: allocate a month's cost to teams, post it to the ledger, publish statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from tasks.extras import require_extras

# Before the role's tasks: without the chargeback extra this is one line naming it, not an
# ImportError from deep in a task module (tasks/extras.py).
require_extras("chargeback")

from tasks.chargeback.tasks import (  # noqa: E402
    allocate_period,
    post_chargeback,
    publish_chargeback,
    write_chargeback_statements,
)
from tasks.failure import report_failure  # noqa: E402
from tasks.redaction import install_redaction  # noqa: E402
from tasks.results import rerunnable  # noqa: E402

__all__ = ["run_chargeback"]


@flow(name="chargeback", log_prints=False, **rerunnable(), on_failure=[report_failure])
def run_chargeback(
    period: str | None = None,
    dry_run: bool = False,
    teams_path: str | None = None,
    ratecard_path: str | None = None,
    usage_path: str | None = None,
    metric: str | None = None,
) -> dict[str, Any]:
    """Allocate ``period``'s stored cost to teams, reconcile, post to the ledger, publish.

    A rerun with the same cost posts nothing; restated cost posts only correction entries. A
    reconciliation mismatch fails the run before anything is posted. Team CSVs and a summary go
    to ``TRACEO_HOME/chargeback/<period>/``, with a markdown summary and a table per team as
    artifacts.

    Args:
        period: the month, ``YYYY-MM`` (default: the month before the run's scheduled start).
        dry_run: compute and publish the summary, but post nothing and write no files.
        teams_path: teams and ownership rules (default: ``deployments/chargeback/teams.yaml``).
        ratecard_path: platform rate card (default: ``deployments/chargeback/ratecard.yaml``).
        usage_path: platform usage per team (default: ``deployments/chargeback/usage.csv``).
        metric: the FOCUS cost column charged, overriding the teams file's ``cost_metric``
            (``EffectiveCost``, amortised, by default; ``BilledCost`` as invoiced).
    """
    install_redaction()
    if period is None:
        scheduled = (flow_run.scheduled_start_time or datetime.now(UTC)).astimezone(UTC)
        period = (scheduled.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    allocation = allocate_period(period, teams_path, ratecard_path, usage_path, metric)
    result = post_chargeback(allocation, dry_run)
    files = None if dry_run else write_chargeback_statements(allocation, result)
    publish_chargeback(allocation, result, files)
    return {
        "period": result.period,
        "status": result.status,
        "currency": result.currency,
        "metric": result.metric,
        "source_total": str(result.source_total),
        "unallocated": str(result.unallocated_total),
        "teams": {team: str(total) for team, total in result.statement_totals.items()},
        "entries_posted": 0 if dry_run else len(result.postings),
        "corrections": 0 if dry_run else sum(p.correction for p in result.postings),
        "statements": str(files.directory) if files else None,
    }
