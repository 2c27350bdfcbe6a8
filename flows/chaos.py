"""Chaos experiments: inject a fault, hold the SLO to it before / during / after, roll back."""

from __future__ import annotations

from typing import Any, cast

from prefect import flow
from prefect.runtime import flow_run

from tasks.extras import require_extras

# Before the role's tasks: without the chaos extra this is one line naming it, not an
# ImportError from deep in a task module (tasks/extras.py).
require_extras("chaos")

from tasks.chaos.score import run_problem  # noqa: E402
from tasks.chaos.tasks import (  # noqa: E402
    publish_chaos_report,
    publish_plan,
    rollback_after_cancellation,
    rollback_after_crash,
    run_chaos_experiment,
    validate_experiment,
)
from tasks.failure import report_failure  # noqa: E402
from tasks.outcome import job_outcome  # noqa: E402
from tasks.redaction import install_redaction  # noqa: E402

__all__ = ["run_experiment"]


@flow(
    name="chaos-experiment",
    log_prints=False,
    on_cancellation=[rollback_after_cancellation],
    on_crashed=[rollback_after_crash],
    on_failure=[report_failure],
)
def run_experiment(experiment_path: str, dry_run: bool = False) -> dict[str, Any]:
    """Run a Chaos Toolkit experiment file with the SLO as its steady state.

    Args:
        experiment_path: the experiment (JSON or YAML), e.g.
            ``deployments/experiments/shop-latency-100ms.yaml``.
        dry_run: validate and publish the plan; inject nothing.

    Returns:
        The run's summary (verdict passed / failed / aborted, status, faults, clean); the run
        ends Failed, with the summary, unless the experiment passed and every fault was removed.
    """
    install_redaction()
    experiment = validate_experiment(experiment_path)
    if dry_run:
        return publish_plan(experiment)
    outcome = run_chaos_experiment(experiment, flow_run_id=flow_run.id)
    summary = publish_chaos_report(outcome)
    # a Failed state ends the run (a direct call raises): callers only ever get the summary
    return cast(dict[str, Any], job_outcome(summary, run_problem(summary)))
