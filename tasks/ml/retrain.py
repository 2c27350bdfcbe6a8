"""One retrain: training set from Feast, fit, holdout comparison, register, promote or keep.

The store lease (:func:`~tasks.ml.decisions.acquire_retrain_lease`) is taken first and released
last, so a second retrain of the same model is refused (and the refusal recorded) even when the
Prefect concurrency limit is not in play. The challenger is always registered; it becomes the
champion only when the gate says so, otherwise it is the ``challenger`` alias with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine

from tasks.ml.dataset import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from tasks.ml.decisions import (
    Decision,
    RetrainInProgressError,
    acquire_retrain_lease,
    record_decision,
    release_retrain_lease,
)
from tasks.ml.features import FEATURES, LABEL, TIMESTAMP, FeatureRepo, training_set
from tasks.ml.policy import ModelPolicy
from tasks.ml.registry import (
    CHALLENGER,
    CHAMPION,
    alias_version,
    load_artifact,
    promote,
    register,
    set_alias,
)
from tasks.ml.train import ALGORITHM, evaluate, fit, gate, split_holdout

__all__ = ["RetrainOutcome", "record_refusal", "retrain"]


@dataclass(frozen=True)
class RetrainOutcome:
    """What a retrain did: ``promoted``, ``kept`` (challenger) or ``refused`` (another runs)."""

    model: str
    action: Literal["promoted", "kept", "refused"]
    reasons: list[str]
    version: int | None = None
    champion_before: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "action": self.action,
            "version": self.version,
            "champion_before": self.champion_before,
            "reasons": list(self.reasons),
        }


def record_refusal(
    engine: Engine,
    model: str,
    reason: str,
    window_end: datetime | None,
    flow_run_id: str | None = None,
) -> RetrainOutcome:
    """Record a refused retrain (it does not start a cooldown) and return the outcome."""
    record_decision(
        engine,
        Decision(
            model=model,
            kind="retrain",
            action="refused",
            at=datetime.now(UTC),
            reasons=[reason],
            window_end=window_end,
        ),
        flow_run_id=flow_run_id,
    )
    return RetrainOutcome(model, "refused", [reason])


def retrain(
    engine: Engine,
    repo: FeatureRepo,
    policy: ModelPolicy,
    end: datetime,
    *,
    holder: str,
    trigger: list[str] | None = None,
    flow_run_id: str | None = None,
    artifact_dir: Path | None = None,
) -> RetrainOutcome:
    """Train a challenger on the ``training.days`` before ``end`` and run the promotion gate.

    Args:
        engine: the store.
        repo: the feature repository.
        policy: the model's policy (training window, holdout, promotion gate).
        end: the end of the training data (the window end that triggered the retrain).
        holder: who holds the lease (the flow run id, or a random token).
        trigger: the reasons that triggered the retrain (recorded with the outcome).
        flow_run_id: recorded with the version and the decision.
        artifact_dir: where the joblib artefact goes (default: ``$TRACEO_HOME/models``).
    """
    model = policy.name
    try:
        acquire_retrain_lease(
            engine, model, holder, ttl=timedelta(minutes=policy.max_retrain_minutes)
        )
    except RetrainInProgressError as exc:
        return record_refusal(engine, model, str(exc), end, flow_run_id)
    try:
        outcome = _train_and_gate(engine, repo, policy, end, flow_run_id, artifact_dir)
    finally:
        release_retrain_lease(engine, model, holder)
    record_decision(
        engine,
        Decision(
            model=model,
            kind="retrain",
            action=outcome.action,
            at=datetime.now(UTC),
            reasons=[*(trigger or []), *outcome.reasons],
            window_end=end,
            version=outcome.version,
            detail={"champion_before": outcome.champion_before, "metrics": outcome.metrics},
        ),
        flow_run_id=flow_run_id,
    )
    return outcome


def _train_and_gate(
    engine: Engine,
    repo: FeatureRepo,
    policy: ModelPolicy,
    end: datetime,
    flow_run_id: str | None,
    artifact_dir: Path | None,
) -> RetrainOutcome:
    training = policy.training
    start = end - timedelta(days=training.days)
    holdout_start = end - timedelta(days=training.holdout_days)
    frame = training_set(repo, start, end)
    train, holdout = split_holdout(frame, TIMESTAMP, holdout_start)
    estimator = fit(train, NUMERIC_FEATURES, CATEGORICAL_FEATURES, LABEL, seed=training.seed)
    challenger = evaluate(estimator, holdout, FEATURES, LABEL, policy.promotion)
    current = alias_version(engine, policy.name, CHAMPION)
    champion = None
    if current is not None:
        champion = evaluate(
            load_artifact(current), holdout, current.features, LABEL, policy.promotion
        )
    verdict = gate(challenger, champion, policy.promotion)
    metrics = {
        "challenger": challenger.as_dict(),
        "champion": champion.as_dict() if champion else None,
        "champion_version": current.version if current else None,
        "train_rows": len(train),
        "holdout_rows": len(holdout),
        "holdout_start": holdout_start.isoformat(),
        "dropped_labels": int(frame.attrs.get("dropped_labels", 0)),
        "gate": verdict.reasons,
    }
    info = register(
        engine,
        policy.name,
        estimator,
        algorithm=ALGORITHM,
        metrics=metrics,
        features=FEATURES,
        train_start=start,
        train_end=holdout_start,
        artifact_dir=artifact_dir,
        flow_run_id=flow_run_id,
        note="; ".join(verdict.reasons),
    )
    before = current.version if current else None
    if verdict.promote:
        promote(engine, policy.name, info.version, "; ".join(verdict.reasons))
        action: Literal["promoted", "kept"] = "promoted"
    else:
        set_alias(engine, policy.name, CHALLENGER, info.version, "; ".join(verdict.reasons))
        action = "kept"
    return RetrainOutcome(policy.name, action, verdict.reasons, info.version, before, metrics)
