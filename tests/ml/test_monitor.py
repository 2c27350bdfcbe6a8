"""Monitoring windows end to end on the store (no Feast import: the source is read directly)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest

from tasks.ml.dataset import CATEGORICAL_FEATURES, FEATURES, LABEL, NUMERIC_FEATURES, generate
from tasks.ml.decisions import acquire_retrain_lease, list_decisions
from tasks.ml.features import FeatureRepo, window_frame, write_source
from tasks.ml.monitor import assess_window, record_window
from tasks.ml.policy import ModelPolicy
from tasks.ml.registry import promote, register
from tasks.ml.retrain import retrain
from tasks.ml.train import fit

MODEL = "mlmon-fraud"
START = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
DRIFT = START + timedelta(days=28)
TRAIN_END = START + timedelta(days=21)
POLICY = ModelPolicy(name=MODEL, consecutive_windows=2, min_rows=1000, cooldown_hours=72)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """Six weeks of payments and a champion fit on the first three, built once per module."""
    repo = FeatureRepo(tmp_path_factory.mktemp("monitor") / "repo")
    frame = generate(START, 42, 200, scenario="covariate_shift", drift_start=DRIFT, seed=9)
    write_source(repo, frame)
    train = window_frame(repo, START, TRAIN_END, with_labels=True)
    return repo, fit(train, NUMERIC_FEATURES, CATEGORICAL_FEATURES, LABEL)


@pytest.fixture
def setup(source, store_engine, tmp_path):
    """A copy of the module's source (tests rewrite it) and the champion registered afresh."""
    built, estimator = source
    repo = FeatureRepo(tmp_path / "repo")
    shutil.copytree(built.root, repo.root)
    info = register(
        store_engine,
        MODEL,
        estimator,
        algorithm="test",
        metrics={},
        features=FEATURES,
        train_start=START,
        train_end=TRAIN_END,
        artifact_dir=tmp_path / "models",
    )
    promote(store_engine, MODEL, info.version)
    return store_engine, repo


def _check(engine, repo, end: datetime):
    outcome = assess_window(engine, repo, POLICY, end)
    record_window(engine, outcome)
    return outcome


def test_stable_then_two_drifted_windows_trigger_exactly_one_retrain(setup):
    engine, repo = setup
    stable = _check(engine, repo, DRIFT)
    assert not stable.drift.dataset_drift and stable.verdict.action == "none"
    assert any("prediction drift: no" in e for e in stable.evidence)
    noisy = _check(engine, repo, DRIFT + timedelta(days=7))
    assert noisy.drift.dataset_drift and noisy.verdict.action == "none"  # one window: wait
    second = _check(engine, repo, DRIFT + timedelta(days=14))
    assert second.verdict.action == "retrain"
    assert second.verdict.drifted_windows == 2
    decisions = list_decisions(engine, MODEL, "monitor")
    assert [d.action for d in decisions] == ["retrain", "none", "none"]
    assert decisions[0].detail["drifted_columns"] == list(second.drift.drifted_columns)


def test_rerunning_a_window_does_not_count_it_twice(setup):
    engine, repo = setup
    end = DRIFT + timedelta(days=7)
    first = _check(engine, repo, end)
    again = _check(engine, repo, end)
    assert first.verdict.action == again.verdict.action == "none"
    assert len(list_decisions(engine, MODEL, "monitor")) == 1


def test_too_small_a_window_is_no_evidence(setup):
    engine, repo = setup
    small = ModelPolicy(name=MODEL, min_rows=5000)
    outcome = assess_window(engine, repo, small, DRIFT + timedelta(days=7))
    assert outcome.verdict.action == "none" and "below min_rows" in outcome.verdict.reasons[0]


def test_a_retrain_is_refused_while_another_holds_the_lease(setup):
    engine, repo = setup
    acquire_retrain_lease(engine, MODEL, "other-run")
    outcome = retrain(engine, repo, POLICY, DRIFT + timedelta(days=14), holder="me")
    assert outcome.action == "refused" and "already running" in outcome.reasons[0]
    (recorded,) = list_decisions(engine, MODEL, "retrain")
    assert recorded.action == "refused"
    # While the lease is held, a drifted window is held back rather than retrained.
    _check(engine, repo, DRIFT + timedelta(days=7))
    held = _check(engine, repo, DRIFT + timedelta(days=14))
    assert held.verdict.action == "skip" and "already running" in held.verdict.reasons[-1]


def test_a_feature_without_values_is_reported_and_the_rest_judged(setup):
    engine, repo = setup
    end = DRIFT + timedelta(days=14)
    window = window_frame(repo, end - timedelta(days=7), end)
    window["merchant_risk_score"] = float("nan")  # the upstream job stopped filling it
    write_source(repo, window.drop(columns=[LABEL], errors="ignore"), labels=False)

    outcome = assess_window(engine, repo, POLICY, end)
    record_window(engine, outcome)

    assert [p.describe() for p in outcome.drift.problems] == [
        "feature 'merchant_risk_score' has no value in the current window"
    ]
    assert "merchant_risk_score" not in outcome.drift.judged_columns
    assert len(outcome.drift.judged_columns) == len(FEATURES) - 1
    assert outcome.drift.dataset_drift  # the covariate shift is still seen on the others
    assert outcome.verdict.action == "none" and not outcome.verdict.counts_as_drift
    assert "partial_check_may_retrain is false" in outcome.verdict.reasons[0]
    assert "data quality: feature 'merchant_risk_score' has no value" in outcome.evidence[0]
    assert "prediction drift not judged" in outcome.evidence[-1]
    (recorded,) = list_decisions(engine, MODEL, "monitor")
    assert recorded.detail["problems"] == [p.describe() for p in outcome.drift.problems]

    lenient = POLICY.model_copy(update={"partial_check_may_retrain": True})
    assert assess_window(engine, repo, lenient, end).verdict.counts_as_drift


def test_a_data_quality_notice_names_the_features_and_never_blocks(setup):
    from tasks.ml.tasks import notify_data_quality
    from tasks.notify import BlockNotifier

    engine, repo = setup
    end = DRIFT + timedelta(days=7)
    window = window_frame(repo, end - timedelta(days=7), end)
    window["channel"] = None
    write_source(repo, window, labels=False)
    sent = []

    class Block:
        def notify(self, body, subject, _sync):
            sent.append((subject, body))

    outcome = assess_window(engine, repo, POLICY, end)
    notifier = BlockNotifier({"slack-webhook/ml": Block()})

    assert notify_data_quality.fn(outcome, "slack-webhook/ml", notifier)
    assert not notify_data_quality.fn(outcome, None, notifier)
    ((subject, body),) = sent
    assert subject == f"[DRIFT DATA QUALITY] {MODEL}"
    assert "feature 'channel' has no value in the current window" in body
