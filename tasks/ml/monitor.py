"""One monitoring window: drift against the champion's training data, and the policy's verdict.

The reference is the data the champion was trained on (its training window, read from the
feature source); the current window is ``[window_end - window_days, window_end)``. The fast
engine (:mod:`tasks.ml.drift`) decides feature drift; prediction drift (the champion's scores)
and, where labels have arrived, performance drift are recorded as evidence. The trigger policy
turns the evidence into ``retrain`` / ``none`` / ``skip``, and the decision is stored under the
window's natural key (a rerun of the window replaces it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from tasks.ml.column_types import kinds_from_schema
from tasks.ml.decisions import (
    Decision,
    list_decisions,
    monitor_key,
    record_decision,
    retrain_running,
)
from tasks.ml.feature_repo.definitions import FEATURE_TAGS, FEATURE_TYPES, FEATURE_VIEW
from tasks.ml.features import FEATURES, LABEL, TIMESTAMP, FeatureRepo, window_frame
from tasks.ml.policy import ModelPolicy, TriggerDecision, WindowEvidence, decide_trigger
from tasks.ml.registry import CHAMPION, VersionInfo, alias_version, load_artifact
from tasks.ml.sampling import sample_window

__all__ = [
    "FEATURE_KINDS",
    "MonitorOutcome",
    "assess_window",
    "record_window",
    "report_path",
    "windows",
    "write_window_report",
]

# What each feature is for drift, from the feature view's schema (types and ``drift`` tags).
FEATURE_KINDS = kinds_from_schema(FEATURE_TYPES, FEATURE_TAGS, FEATURE_VIEW)


@dataclass
class MonitorOutcome:
    """Everything one window produced: the windows, the evidence, the verdict."""

    model: str
    window_start: datetime
    window_end: datetime
    reference: pd.DataFrame
    current: pd.DataFrame
    drift: Any  # tasks.ml.drift.DriftResult
    champion: VersionInfo | None
    verdict: TriggerDecision
    evidence: list[str] = field(default_factory=list)
    rows: int = 0
    """Rows in the current window (before any sampling)."""
    report_path: str | None = None
    decision_id: int | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "rows": self.rows,
            "dataset_drift": bool(self.drift.dataset_drift),
            "drifted_share": round(float(self.drift.drifted_share), 4),
            "drifted_columns": list(self.drift.drifted_columns),
            "problems": [p.describe() for p in self.drift.problems],
            "champion": self.champion.version if self.champion else None,
            "action": self.verdict.action,
            "reasons": list(self.verdict.reasons),
            "evidence": list(self.evidence),
            "report": self.report_path,
        }


def windows(policy: ModelPolicy, window_end: datetime) -> tuple[datetime, datetime]:
    """The window ``[end - window_days, end)`` for a UTC ``window_end``."""
    end = window_end.astimezone(UTC)
    return end - policy.window, end


def _reference(
    repo: FeatureRepo, policy: ModelPolicy, champion: VersionInfo | None, start: datetime
) -> pd.DataFrame:
    if champion is not None and champion.train_start and champion.train_end:
        return window_frame(repo, champion.train_start, champion.train_end, with_labels=True)
    return window_frame(repo, start - timedelta(days=policy.training.days), start, with_labels=True)


def _model_evidence(
    champion: VersionInfo | None,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    unreadable: set[str],
) -> tuple[list[str], dict[str, Any]]:
    """Prediction and (with labels) performance drift of the champion: evidence, not a gate.

    The champion cannot score a window in which one of its inputs could not be read.
    """
    from tasks.ml.drift import performance_drift, prediction_drift

    if champion is None or reference.empty or current.empty:
        return [], {}
    lacking = sorted(unreadable & set(champion.features))
    if lacking:
        return [f"prediction drift not judged: the champion needs {', '.join(lacking)}"], {}
    estimator = load_artifact(champion)
    ref_scores = estimator.predict_proba(reference[champion.features])[:, 1]
    cur_scores = estimator.predict_proba(current[champion.features])[:, 1]
    pred = prediction_drift(ref_scores, cur_scores)
    notes = [
        f"prediction drift: {'yes' if pred.drifted else 'no'} "
        f"({pred.method} {pred.score:.3f}, threshold {pred.threshold})"
    ]
    detail: dict[str, Any] = {"prediction_drift": bool(pred.drifted)}
    if LABEL in reference.columns and LABEL in current.columns:
        perf = performance_drift(
            reference[LABEL].to_numpy(dtype=float),
            ref_scores,
            current[LABEL].to_numpy(dtype=float),
            cur_scores,
        )
        notes.append(f"performance drift: {'yes' if perf.drifted else 'no'} ({perf.reason})")
        detail["performance_drift"] = bool(perf.drifted)
    return notes, detail


def assess_window(
    engine: Engine, repo: FeatureRepo, policy: ModelPolicy, window_end: datetime
) -> MonitorOutcome:
    """Measure drift in the window ending at ``window_end`` and decide what the policy says."""
    from tasks.ml.drift import detect_drift

    start, end = windows(policy, window_end)
    champion = alias_version(engine, policy.name, CHAMPION)
    current = window_frame(repo, start, end, with_labels=True)
    reference = _reference(repo, policy, champion, start)
    rows = len(current)
    notes: list[str] = []
    if current.empty or reference.empty:
        drift = detect_drift(pd.DataFrame(), pd.DataFrame(), [])
    else:
        reference, current, notes = _sampled(policy, reference, current)
        drift = detect_drift(reference, current, columns=FEATURES, kinds=FEATURE_KINDS)
    problems = [f"data quality: {p.describe()}" for p in drift.problems]
    evidence = WindowEvidence(
        start,
        end,
        rows,
        bool(drift.dataset_drift),
        float(drift.drifted_share),
        champion.version if champion else None,
        tuple(problems),
    )
    if champion is None:
        verdict = TriggerDecision("retrain", ["no champion yet: train the first model"], 0, False)
        if retrain_running(engine, policy.name):
            verdict = TriggerDecision(
                "skip", ["a retrain of this model is already running"], 0, False
            )
    else:
        previous = list_decisions(engine, policy.name, "monitor", before=end)
        retrains = list_decisions(engine, policy.name, "retrain")
        verdict = decide_trigger(
            policy, evidence, previous, retrains, retrain_running(engine, policy.name)
        )
    unreadable = {p.column for p in drift.problems}
    model_notes, _ = _model_evidence(champion, reference, current, unreadable)
    return MonitorOutcome(
        policy.name,
        start,
        end,
        reference,
        current,
        drift,
        champion,
        verdict,
        [*problems, *notes, *model_notes],
        rows=rows,
    )


def _sampled(
    policy: ModelPolicy, reference: pd.DataFrame, current: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Both windows cut to ``max_window_rows`` (time-stratified, seeded), with a note for each."""
    notes = []
    sampled = []
    for frame, side in ((reference, "reference"), (current, "current")):
        sample = sample_window(frame, policy.max_window_rows, policy.sample_seed, TIMESTAMP)
        if len(sample) < len(frame):
            notes.append(
                f"{side} window sampled: {len(sample):,} of {len(frame):,} rows "
                f"(stratified by time, seed {policy.sample_seed})"
            )
        sampled.append(sample)
    return sampled[0], sampled[1], notes


def report_path(outcome: MonitorOutcome, home: Path | None = None) -> Path:
    """``$TRACEO_HOME/ml/reports/<model>/<window end>.html``: a rerun overwrites its own report."""
    from tasks.settings import get_settings

    stamp = outcome.window_end.strftime("%Y%m%dT%H%M")
    return (home or get_settings().home) / "ml" / "reports" / outcome.model / f"{stamp}.html"


def write_window_report(outcome: MonitorOutcome, home: Path | None = None) -> Path | None:
    """The Evidently DataDriftPreset HTML report of the window (None for an empty window)."""
    from tasks.ml.evidently_report import write_report

    if outcome.current.empty or outcome.reference.empty:
        return None
    path = report_path(outcome, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    unjudged = {p.column for p in outcome.drift.problems}
    columns = [c for c in FEATURES if c not in unjudged]
    written = Path(write_report(outcome.reference, outcome.current, path, columns, FEATURE_KINDS))
    outcome.report_path = str(written)
    return written


def record_window(engine: Engine, outcome: MonitorOutcome, flow_run_id: str | None = None) -> int:
    """Store the window's decision (replacing an earlier decision of the same window)."""
    drift = outcome.drift
    decision = Decision(
        model=outcome.model,
        kind="monitor",
        action=outcome.verdict.action,
        at=datetime.now(UTC),
        reasons=[*outcome.verdict.reasons, *outcome.evidence],
        window_start=outcome.window_start,
        window_end=outcome.window_end,
        rows=outcome.rows,
        drifted=bool(drift.dataset_drift),
        version=outcome.champion.version if outcome.champion else None,
        detail={
            "counts_as_drift": outcome.verdict.counts_as_drift,
            "drifted_windows": outcome.verdict.drifted_windows,
            "drifted_share": float(np.round(drift.drifted_share, 4)),
            "drifted_columns": list(drift.drifted_columns),
            "problems": [p.describe() for p in drift.problems],
            "reference_rows": len(outcome.reference),
        },
        report_path=outcome.report_path,
    )
    outcome.decision_id = record_decision(
        engine,
        decision,
        natural_key=monitor_key(outcome.model, outcome.window_end),
        flow_run_id=flow_run_id,
    )
    return outcome.decision_id
