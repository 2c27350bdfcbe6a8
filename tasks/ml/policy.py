"""The retraining trigger policy (YAML) and the pure decision it drives.

``deployments/ml/policy.yaml``::

    models:
      - name: payments-fraud
        window_days: 7            # one monitoring window (whole days: seasonality is weekly)
        consecutive_windows: 2    # K: dataset drift in K consecutive windows triggers a retrain
        min_rows: 2000            # N: a window with fewer rows is no evidence either way
        cooldown_hours: 72        # no retrain within this time of the previous one
        max_retrain_minutes: 120  # the store lease of a retrain expires after this
        max_window_rows: 1000000  # a bigger window is judged on a time-stratified sample ...
        sample_seed: 0            # ... drawn with this seed (a rerun draws the same rows)
        partial_check_may_retrain: false  # may drift found with a feature missing count?
        notify: slack-webhook/ml-alerts   # data-quality notices (optional)
        training: {days: 28, holdout_days: 7}
        promotion:
          metric: roc_auc         # roc_auc | average_precision | log_loss | brier
          min_improvement: 0.005  # the challenger must beat the champion by this margin
          slices: [channel, card_type]
          slice_tolerance: 0.02   # and no slice may get worse by more than this
          min_slice_rows: 300     # slices with fewer holdout rows (or one class) are not judged

Every problem names the file, the model and the field. Cooldowns run on the data clock (the
windows' end times), so a backfill of old windows obeys the same policy as live monitoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tasks.errors import NotFoundError, SpecError, SpecIssue
from tasks.ml.decisions import Decision
from tasks.specs import load_documents, validation_issues

__all__ = [
    "DEFAULT_POLICY_PATH",
    "RETRAIN_ACTIONS",
    "ModelPolicy",
    "Policy",
    "PromotionPolicy",
    "TrainingPolicy",
    "TriggerDecision",
    "WindowEvidence",
    "decide_trigger",
    "load_policy",
]

DEFAULT_POLICY_PATH = Path(__file__).resolve().parents[2] / "deployments" / "ml" / "policy.yaml"
# Retrain decisions that count for the cooldown (a refused retrain does not).
RETRAIN_ACTIONS = ("started", "promoted", "kept")
Metric = Literal["roc_auc", "average_precision", "log_loss", "brier"]


class TrainingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=28, ge=2, le=3660, description="days of data up to the window end")
    holdout_days: int = Field(default=7, ge=1, description="the newest days, held out")
    seed: int = 0

    @model_validator(mode="after")
    def _holdout_inside(self) -> TrainingPolicy:
        if self.holdout_days >= self.days:
            raise ValueError("holdout_days must be smaller than days")
        return self


class PromotionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: Metric = "roc_auc"
    min_improvement: float = Field(default=0.005, ge=0, le=1)
    slices: list[str] = Field(default_factory=list)
    slice_tolerance: float = Field(default=0.02, ge=0, le=1)
    min_slice_rows: int = Field(default=300, ge=1)


class ModelPolicy(BaseModel):
    """The policy of one model."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$")
    window_days: int = Field(default=7, ge=1, le=366)
    consecutive_windows: int = Field(default=2, ge=1, le=100)
    min_rows: int = Field(default=1000, ge=1)
    cooldown_hours: float = Field(default=72, ge=0)
    max_retrain_minutes: float = Field(default=120, gt=0)
    max_window_rows: int = Field(default=1_000_000, ge=1_000)
    sample_seed: int = Field(default=0, ge=0)
    partial_check_may_retrain: bool = False
    notify: str | None = Field(default=None, pattern=r"^[a-z0-9-]+/[A-Za-z0-9_.-]+$")
    training: TrainingPolicy = Field(default_factory=TrainingPolicy)
    promotion: PromotionPolicy = Field(default_factory=PromotionPolicy)

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)

    @property
    def cooldown(self) -> timedelta:
        return timedelta(hours=self.cooldown_hours)


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[ModelPolicy] = Field(min_length=1)
    source: str = ""

    def for_model(self, name: str) -> ModelPolicy:
        for model in self.models:
            if model.name == name:
                return model
        known = ", ".join(m.name for m in self.models)
        raise NotFoundError(f"{self.source}: no policy for model {name!r} (known: {known})")


def load_policy(path: Path | str | None = None) -> Policy:
    """Load and validate a policy file; every problem is a :class:`SpecIssue` (file/model/field)."""
    file = Path(path) if path is not None else DEFAULT_POLICY_PATH
    documents = load_documents(file)
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise SpecError([SpecIssue(str(file), None, None, "expected one mapping with `models:`")])
    raw: dict[str, Any] = documents[0]
    models = raw.get("models")
    issues: list[SpecIssue] = []
    if not isinstance(models, list) or not models:
        issues.append(SpecIssue(str(file), None, "models", "must be a non-empty list of models"))
    else:
        for index, item in enumerate(models):
            name = item.get("name") if isinstance(item, dict) else None
            label = str(name) if name else f"models[{index}]"
            try:
                ModelPolicy.model_validate(item)
            except ValidationError as exc:
                issues.extend(validation_issues(file, label, exc))
        names = [m.get("name") for m in models if isinstance(m, dict)]
        for dup in sorted({n for n in names if n and names.count(n) > 1}):
            issues.append(SpecIssue(str(file), str(dup), "name", "model listed more than once"))
    for key in sorted(set(raw) - {"models"}):
        issues.append(SpecIssue(str(file), None, key, "unknown field (not supported)"))
    if issues or not isinstance(models, list):
        raise SpecError(issues)
    return Policy(models=[ModelPolicy.model_validate(m) for m in models], source=str(file))


@dataclass(frozen=True)
class WindowEvidence:
    """What the drift engine found in one monitoring window."""

    window_start: datetime
    window_end: datetime
    rows: int
    dataset_drift: bool
    drifted_share: float
    champion_version: int | None = None
    problems: tuple[str, ...] = ()
    """Features that could not be judged (a partial check), each described in one line."""


@dataclass(frozen=True)
class TriggerDecision:
    """The verdict on a window: ``retrain``, ``none`` (nothing to do) or ``skip`` (held back)."""

    action: Literal["retrain", "none", "skip"]
    reasons: list[str]
    drifted_windows: int
    counts_as_drift: bool


def decide_trigger(
    policy: ModelPolicy,
    window: WindowEvidence,
    previous: list[Decision],
    retrains: list[Decision],
    retrain_running: bool = False,
) -> TriggerDecision:
    """Decide whether ``window`` triggers a retrain.

    Args:
        policy: the model's policy.
        window: the evidence of the window being decided.
        previous: earlier monitoring decisions of the model, newest window first (this window's
            own earlier decision, from a rerun, is ignored).
        retrains: earlier retrain decisions, newest first.
        retrain_running: whether a retrain of the model holds the lease now.
    """
    share = f"{window.drifted_share:.0%} of features drifted"
    if window.rows < policy.min_rows:
        reason = f"{window.rows} rows in the window, below min_rows={policy.min_rows}: no evidence"
        return TriggerDecision("none", [reason], 0, False)
    if not window.dataset_drift:
        return TriggerDecision("none", [f"no dataset drift ({share})"], 0, False)
    if window.problems and not policy.partial_check_may_retrain:
        reason = (
            f"dataset drift ({share}) on a partial check ({len(window.problems)} feature "
            f"problem(s)): not counted, partial_check_may_retrain is false"
        )
        return TriggerDecision("none", [reason], 0, False)
    streak = 1 + _streak(policy, window, previous)
    reasons = [f"dataset drift ({share})"]
    need = policy.consecutive_windows
    if streak < need:
        reasons.append(f"drift in {streak} of {need} required consecutive windows: wait")
        return TriggerDecision("none", reasons, streak, True)
    reasons.append(f"drift in {streak} consecutive windows (>= {need})")
    last = next((r for r in retrains if r.action in RETRAIN_ACTIONS and r.window_end), None)
    if last is not None and last.window_end is not None:
        since = window.window_end - last.window_end
        if since < policy.cooldown:
            reasons.append(
                f"cooldown: last retrain for the window ending {last.window_end.isoformat()}, "
                f"{since} ago < cooldown {policy.cooldown}"
            )
            return TriggerDecision("skip", reasons, streak, True)
    if retrain_running:
        reasons.append("a retrain of this model is already running")
        return TriggerDecision("skip", reasons, streak, True)
    return TriggerDecision("retrain", reasons, streak, True)


def _streak(policy: ModelPolicy, window: WindowEvidence, previous: list[Decision]) -> int:
    """Drifted windows chained back from ``window``, each ending where the next one starts.

    Monitoring may run more often than the window is long (daily runs of a weekly window): the
    chain follows the windows that tile the time axis back from this one, judged against the
    same champion, and stops at the first gap, quiet window or window of another champion.
    """
    count = 0
    expected_end = window.window_start
    while True:
        match = next(
            (
                d
                for d in previous
                if d.window_end is not None
                and d.window_end < window.window_end
                and abs(d.window_end - expected_end) <= timedelta(hours=1)
            ),
            None,
        )
        if match is None or not match.detail.get("counts_as_drift"):
            return count
        if match.version != window.champion_version:
            return count  # drift against an older champion is not evidence against this one
        count += 1
        expected_end = match.window_start or (expected_end - policy.window)
