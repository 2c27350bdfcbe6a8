"""Prefect tasks of the drift job: thin wrappers over features, monitor, retrain and the registry.

Monitoring windows carry data frames between tasks, so those tasks neither cache nor persist
their results (a retry recomputes them; every write they make is keyed and idempotent).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from tasks.links import browser_link
from tasks.ml.decisions import RetrainInProgressError
from tasks.ml.features import FeatureRepo
from tasks.ml.monitor import MonitorOutcome, assess_window, record_window, write_window_report
from tasks.ml.policy import ModelPolicy, load_policy
from tasks.ml.retrain import RetrainOutcome, record_refusal, retrain
from tasks.notify import BlockNotifier, Notifier
from tasks.results import reused_in_retry

__all__ = [
    "assess_drift",
    "materialize_online_features",
    "model_policy",
    "notify_data_quality",
    "parse_window_end",
    "publish_drift_summary",
    "publish_retrain",
    "record_drift_decision",
    "retrain_slot",
    "train_challenger",
    "write_drift_report",
]


def _logger() -> Any:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("traceo.ml")


def _flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    return flow_run.id or None


def parse_window_end(value: str | datetime | None, scheduled: datetime | None = None) -> datetime:
    """A window end as UTC; by default the run's day at 00:00 UTC (windows are whole days)."""
    if isinstance(value, datetime):
        at = value
    elif value:
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            from tasks.errors import ConfigurationError

            raise ConfigurationError(
                f"window_end {value!r} is not an ISO date or datetime (e.g. 2026-12-01)"
            ) from None
    else:
        at = (scheduled or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def model_policy(model: str, policy_path: str | None = None) -> ModelPolicy:
    """The model's policy from ``policy_path`` (default: ``deployments/ml/policy.yaml``)."""
    return load_policy(policy_path).for_model(model)


@task(name="materialize-online-features", cache_policy=NO_CACHE)
def materialize_online_features(end: datetime, home: Path | None = None) -> int:
    """Apply the feature repository and materialise new rows up to ``end`` (incremental)."""
    from tasks.ml.features import materialize

    customers = materialize(FeatureRepo.default(home), end)
    _logger().info("Materialised features up to %s (%d customers)", end.isoformat(), customers)
    return customers


@task(name="assess-drift", cache_policy=NO_CACHE, persist_result=False)
def assess_drift(policy: ModelPolicy, window_end: datetime) -> MonitorOutcome:
    """Drift of the window against the champion's training data, and the policy's verdict."""
    from tasks.store import get_engine

    outcome = assess_window(get_engine(), FeatureRepo.default(), policy, window_end)
    _logger().info(
        "Window %s..%s: %d rows, dataset drift %s (%.0f%% of features), action %s",
        outcome.window_start.isoformat(),
        outcome.window_end.isoformat(),
        outcome.rows,
        outcome.drift.dataset_drift,
        100 * outcome.drift.drifted_share,
        outcome.verdict.action,
    )
    return outcome


@task(name="notify-data-quality", cache_policy=NO_CACHE)
def notify_data_quality(
    outcome: MonitorOutcome, target: str | None, notifier: Notifier | None = None
) -> bool:
    """Tell the model's owners which features could not be judged; True when a notice went out.

    Every problem is logged as a warning; without a ``target`` block nothing else is sent.
    """
    problems = [p.describe() for p in outcome.drift.problems]
    if not problems:
        return False
    for line in problems:
        _logger().warning("Drift check of %s: %s", outcome.model, line)
    if target is None:
        return False
    window = f"{outcome.window_start:%Y-%m-%d} .. {outcome.window_end:%Y-%m-%d}"
    body = "\n".join(
        [
            f"The drift check of {outcome.model} for the window {window} could not judge "
            f"{len(problems)} feature(s); the others were judged "
            f"({len(outcome.drift.columns)} feature(s), decision: {outcome.verdict.action}).",
            *[f"- {line}" for line in problems],
        ]
    )
    (notifier or BlockNotifier()).send(target, f"[DRIFT DATA QUALITY] {outcome.model}", body)
    return True


@task(name="write-drift-report", cache_policy=NO_CACHE, persist_result=False)
def write_drift_report(outcome: MonitorOutcome, home: Path | None = None) -> str | None:
    """The Evidently DataDriftPreset HTML report of the window, linked as an artifact.

    The report is for humans; the gate does not depend on it. An empty window gets no report.
    """
    written = write_window_report(outcome, home)
    if written is None:
        return None
    create_link_artifact(
        link=browser_link(written),
        link_text=f"Evidently data drift report, window ending {outcome.window_end:%Y-%m-%d}",
        key=f"drift-report-{outcome.model.replace('_', '-').replace('.', '-')}",
        description="Evidently DataDriftPreset for the monitoring window (for humans).",
    )
    return str(written)


@task(name="record-drift-decision", cache_policy=NO_CACHE)
def record_drift_decision(outcome: MonitorOutcome, report_path: str | None) -> dict[str, Any]:
    """Store the window's decision with its reasons (a rerun of the window replaces it)."""
    from tasks.store import get_engine

    outcome.report_path = report_path
    record_window(get_engine(), outcome, _flow_run_id())
    return outcome.summary()


@task(name="publish-drift-summary", cache_policy=NO_CACHE)
def publish_drift_summary(summary: dict[str, Any]) -> str:
    """A markdown artifact: the window, drift, the decision and why."""
    lines = [
        f"# Drift check: {summary['model']}",
        f"Window {summary['window_start']} .. {summary['window_end']}: {summary['rows']} rows; "
        f"champion v{summary['champion']}.",
        f"**Dataset drift: {'yes' if summary['dataset_drift'] else 'no'}** "
        f"({summary['drifted_share']:.0%} of features: "
        f"{', '.join(summary['drifted_columns']) or 'none'}).",
        f"**Decision: {summary['action']}**",
        *[f"- {r}" for r in [*summary["reasons"], *summary["evidence"]]],
    ]
    if summary.get("report"):
        lines.append(f"Evidently report: `{summary['report']}`")
    text = "\n\n".join(lines[:5]) + "\n" + "\n".join(lines[5:])
    create_markdown_artifact(text, key="drift-check", description="Drift monitoring window")
    return text


def _limit_name(model: str) -> str:
    return f"retrain-{model}"


@contextmanager
def retrain_slot(model: str) -> Iterator[None]:
    """Hold the model's Prefect concurrency slot (limit 1); refuse at once if it is taken.

    The global concurrency limit ``retrain-<model>`` is created on first use. A second retrain
    gets :class:`RetrainInProgressError` instead of queueing behind the first.
    """
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
    from prefect.concurrency.sync import concurrency

    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(_limit_name(model), 1)
    try:
        with concurrency(_limit_name(model), occupy=1, max_retries=0, strict=True):
            yield
    except ConcurrencySlotAcquisitionError as exc:
        cause = exc.__cause__
        if not (isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code == 423):
            raise
        raise RetrainInProgressError(
            f"a retrain of model {model!r} is already running "
            f"(it holds the concurrency limit {_limit_name(model)!r})"
        ) from None


@task(name="train-challenger", **reused_in_retry())  # a retry keeps a finished retrain
def train_challenger(
    policy: ModelPolicy, end: datetime, trigger: list[str] | None = None
) -> RetrainOutcome:
    """Retrain under the Prefect concurrency slot and the store lease; promote or keep."""
    from tasks.store import get_engine

    engine = get_engine()
    run_id = _flow_run_id()
    holder = run_id or uuid.uuid4().hex
    try:
        with retrain_slot(policy.name):
            outcome = retrain(
                engine,
                FeatureRepo.default(),
                policy,
                end,
                holder=holder,
                trigger=trigger,
                flow_run_id=run_id,
            )
    except RetrainInProgressError as exc:
        outcome = record_refusal(engine, policy.name, str(exc), end, run_id)
    _logger().info("Retrain of %s: %s (version %s)", policy.name, outcome.action, outcome.version)
    return outcome


@task(name="publish-retrain", cache_policy=NO_CACHE)
def publish_retrain(outcome: RetrainOutcome) -> str:
    """A markdown artifact: what the retrain did and why."""
    head = f"# Retrain: {outcome.model}\n\n**{outcome.action}**"
    if outcome.version is not None:
        head += f": v{outcome.version} (champion before: v{outcome.champion_before})"
    text = head + "\n\n" + "\n".join(f"- {r}" for r in outcome.reasons)
    create_markdown_artifact(text, key="retrain", description="Retrain outcome")
    return text
