"""Drift-triggered retraining: materialise features, monitor one window, retrain a model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from tasks.extras import require_extras

# Before the role's tasks: without the drift extra this is one line naming it, not an
# ImportError from deep in a task module (tasks/extras.py).
require_extras("drift")

from tasks.failure import report_failure  # noqa: E402
from tasks.ml.tasks import (  # noqa: E402
    assess_drift,
    materialize_online_features,
    model_policy,
    notify_data_quality,
    parse_window_end,
    publish_drift_summary,
    publish_retrain,
    record_drift_decision,
    train_challenger,
    write_drift_report,
)
from tasks.redaction import install_redaction  # noqa: E402
from tasks.results import rerunnable  # noqa: E402

__all__ = ["DEFAULT_MODEL", "materialize_features", "monitor_drift", "retrain_model"]

DEFAULT_MODEL = "payments-fraud"


def _scheduled() -> datetime:
    return (flow_run.scheduled_start_time or datetime.now(UTC)).astimezone(UTC)


@flow(name="materialize-features", log_prints=False, **rerunnable(), on_failure=[report_failure])
def materialize_features(end: str | None = None) -> dict[str, Any]:
    """Apply the Feast feature repository and materialise new rows into the online store.

    Incremental: a rerun up to the same ``end`` loads nothing new.

    Args:
        end: materialise up to this ISO datetime (default: the run's scheduled start).
    """
    install_redaction()
    until = parse_window_end(end) if end else _scheduled()
    customers = materialize_online_features(until)
    return {"end": until.isoformat(), "customers": customers}


@flow(name="monitor-drift", log_prints=False, **rerunnable(), on_failure=[report_failure])
def monitor_drift(
    model: str = DEFAULT_MODEL,
    window_end: str | None = None,
    policy_path: str | None = None,
    report: bool = True,
    notify_via: str | None = None,
) -> dict[str, Any]:
    """Check one monitoring window for drift and retrain when the trigger policy says so.

    The fast engine decides; the Evidently HTML report of the same window is linked as an
    artifact. The decision and its reasons are stored under the window's key, so a rerun of a
    window replaces its decision and never counts it twice.

    Args:
        model: the model's name in the policy file.
        window_end: the window's end, ISO date or datetime (default: today 00:00 UTC).
        policy_path: the trigger policy (default: ``deployments/ml/policy.yaml``).
        report: write the Evidently report (about 10 s of imports; off for quick checks).
        notify_via: send data-quality notices (a feature missing or empty in a window) to this
            notification block instead of the policy's ``notify``.
    """
    install_redaction()
    policy = model_policy(model, policy_path)
    end = parse_window_end(window_end, _scheduled())
    outcome = assess_drift(policy, end)
    # A failed notice is visible on the run but never blocks the gate.
    notify_data_quality(outcome, notify_via or policy.notify, return_state=True)
    path = None
    if report:  # for humans: a failed report is visible on the run but never blocks the gate
        state = write_drift_report(outcome, return_state=True)
        path = state.result() if state.is_completed() else None
    summary = record_drift_decision(outcome, path)
    publish_drift_summary(summary)
    if outcome.verdict.action == "retrain":
        summary["retrain"] = retrain_model(
            model, end.isoformat(), policy_path, trigger=list(outcome.verdict.reasons)
        )
    return summary


@flow(name="retrain-model", log_prints=False, **rerunnable(), on_failure=[report_failure])
def retrain_model(
    model: str = DEFAULT_MODEL,
    window_end: str | None = None,
    policy_path: str | None = None,
    trigger: list[str] | None = None,
) -> dict[str, Any]:
    """Train a challenger on Feast's training set; promote it only if it beats the champion.

    One retrain per model at a time: a second one is refused (and the refusal recorded).

    Args:
        model: the model's name in the policy file.
        window_end: the end of the training data (default: today 00:00 UTC).
        policy_path: the trigger policy (default: ``deployments/ml/policy.yaml``).
        trigger: why the retrain was started (recorded with the outcome).
    """
    install_redaction()
    policy = model_policy(model, policy_path)
    end = parse_window_end(window_end, _scheduled())
    outcome = train_challenger(policy, end, trigger or ["started by hand"])
    publish_retrain(outcome)
    return outcome.summary()
