"""Training, holdout evaluation and the promotion gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tasks.errors import ConfigurationError
from tasks.ml.dataset import (
    CATEGORICAL_FEATURES,
    FEATURES,
    LABEL,
    NUMERIC_FEATURES,
    TIMESTAMP,
    generate,
)
from tasks.ml.policy import PromotionPolicy
from tasks.ml.train import Evaluation, evaluate, fit, gate, split_holdout

START = datetime(2026, 3, 2, tzinfo=UTC)
POLICY = PromotionPolicy(slices=["channel"], min_slice_rows=100, slice_tolerance=0.02)


@pytest.fixture(scope="module")
def data():
    frame = generate(START, 21, 400, seed=3)
    return split_holdout(frame, TIMESTAMP, START + timedelta(days=14))


def test_holdout_is_strictly_newer_than_training(data):
    train, holdout = data
    assert train[TIMESTAMP].max() < holdout[TIMESTAMP].min()
    assert len(train) == 14 * 400 and len(holdout) == 7 * 400


def test_trained_model_beats_chance_and_reports_slices(data):
    train, holdout = data
    model = fit(train, NUMERIC_FEATURES, CATEGORICAL_FEATURES, LABEL)
    result = evaluate(model, holdout, FEATURES, LABEL, POLICY)
    assert result.overall > 0.7
    assert set(result.slices["channel"]) == {"chip", "contactless", "online"}
    assert result.rows == len(holdout) and result.positives == int(holdout[LABEL].sum())


def test_a_worse_challenger_is_not_promoted(data):
    train, holdout = data
    champion = fit(train, NUMERIC_FEATURES, CATEGORICAL_FEATURES, LABEL)
    noisy = train.copy()
    noisy[LABEL] = np.random.default_rng(0).permutation(noisy[LABEL].to_numpy())
    challenger = fit(noisy, NUMERIC_FEATURES, CATEGORICAL_FEATURES, LABEL)
    verdict = gate(
        evaluate(challenger, holdout, FEATURES, LABEL, POLICY),
        evaluate(champion, holdout, FEATURES, LABEL, POLICY),
        POLICY,
    )
    assert not verdict.promote
    assert verdict.improvement < 0
    assert any("not better by the required margin" in r for r in verdict.reasons)


def test_an_equal_challenger_does_not_clear_the_margin():
    same = Evaluation("roc_auc", 0.85, 1000, 40)
    verdict = gate(same, same, POLICY)
    assert not verdict.promote and verdict.improvement == 0


def test_better_overall_but_a_worse_slice_is_kept():
    champion = Evaluation("roc_auc", 0.80, 1000, 40, {"channel": {"online": 0.80, "chip": 0.7}})
    challenger = Evaluation("roc_auc", 0.85, 1000, 40, {"channel": {"online": 0.75, "chip": 0.9}})
    verdict = gate(challenger, champion, POLICY)
    assert not verdict.promote
    assert verdict.worse_slices == ["channel=online"]
    assert any("slice channel=online gets worse" in r for r in verdict.reasons)


def test_better_challenger_within_slice_tolerance_is_promoted():
    champion = Evaluation("roc_auc", 0.80, 1000, 40, {"channel": {"online": 0.80, "chip": None}})
    challenger = Evaluation("roc_auc", 0.82, 1000, 40, {"channel": {"online": 0.79, "chip": 0.1}})
    verdict = gate(challenger, champion, POLICY)
    assert verdict.promote, verdict.reasons  # chip is too small to judge; online within 0.02


def test_lower_is_better_metrics_flip_the_comparison():
    policy = PromotionPolicy(metric="log_loss", min_improvement=0.01)
    assert gate(
        Evaluation("log_loss", 0.10, 10, 1), Evaluation("log_loss", 0.2, 10, 1), policy
    ).promote
    assert not gate(
        Evaluation("log_loss", 0.2, 10, 1), Evaluation("log_loss", 0.1, 10, 1), policy
    ).promote


def test_first_model_is_promoted_without_a_champion():
    verdict = gate(Evaluation("roc_auc", 0.7, 10, 1), None, POLICY)
    assert verdict.promote and "no champion yet" in verdict.reasons[0]


def test_single_class_training_set_and_unknown_slice_are_errors(data):
    train, holdout = data
    with pytest.raises(ConfigurationError, match="need both labels"):
        fit(train[train[LABEL] == 0], NUMERIC_FEATURES, CATEGORICAL_FEATURES, LABEL)
    model = fit(train, NUMERIC_FEATURES, CATEGORICAL_FEATURES, LABEL)
    with pytest.raises(ConfigurationError, match=r"promotion\.slices"):
        evaluate(model, holdout, FEATURES, LABEL, PromotionPolicy(slices=["nope"]))
