"""The scoring model and the three anomaly conditions, on constructed series."""

from __future__ import annotations

import numpy as np
import pytest

from tasks.cost.anomaly.scoring import (
    FULL_HISTORY_DAYS,
    MIN_HISTORY_DAYS,
    expected_matrix,
    score_matrix,
)

WEEK = np.array([100.0, 104.0, 108.0, 104.0, 100.0, 60.0, 55.0])


def seasonal(days: int = 70, level: float = 1.0, noise: float = 0.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = level * WEEK[np.arange(days) % 7]
    return x * (1 + noise * rng.standard_normal(days))


def test_expectation_follows_the_weekly_pattern_exactly_on_clean_data():
    x = seasonal()[None, :]
    expected = expected_matrix(x)
    assert np.isnan(expected[0, :34]).all()
    np.testing.assert_allclose(expected[0, 34:], x[0, 34:])


def test_expectation_follows_a_level_shift_within_four_days():
    x = seasonal(70)
    x[50:] *= 1.5  # a permanent step up (a new workload)
    expected = expected_matrix(x[None, :])[0]
    ratio = expected / x
    assert ratio[50] == pytest.approx(1 / 1.5)  # the step day itself is a surprise
    np.testing.assert_allclose(ratio[54:], 1.0)  # four days later it is the new normal


def test_expectation_ignores_up_to_three_spike_days_in_the_last_week():
    x = seasonal(70)
    x[60:63] *= 3
    expected = expected_matrix(x[None, :])[0]
    np.testing.assert_allclose(expected[63:67], seasonal(70)[63:67])


def test_a_spike_on_a_noisy_series_is_flagged_and_scored_in_robust_deviations():
    x = seasonal(70, level=10, noise=0.03)
    x[65] *= 1.4
    scores = score_matrix(x[None, :], min_impact=10)
    assert scores.anomalous[0].nonzero()[0].tolist() == [65]
    assert scores.score[0, 65] > 5
    assert np.nanmax(np.abs(scores.score[0, :65])) < 2.5


@pytest.mark.parametrize(
    ("rule", "kwargs"),
    [
        ("score", {"score_threshold": 50.0}),
        ("min_pct", {"min_pct": 45.0}),
        ("min_impact", {"min_impact": 1_000.0}),
    ],
)
def test_each_condition_alone_can_veto_a_day(rule, kwargs):
    x = seasonal(70, level=10, noise=0.03)
    x[65] *= 1.4  # about +40%, ~400 money, a score well above 5
    defaults = {"score_threshold": 2.5, "min_pct": 15.0, "min_impact": 10.0}
    assert score_matrix(x[None, :], **defaults).anomalous[0, 65]
    assert not score_matrix(x[None, :], **{**defaults, **kwargs}).anomalous[0, 65], rule


def test_percentage_rule_protects_against_tiny_spreads():
    # a nearly flat series: +5% is many robust deviations but not 15% above expected
    x = seasonal(70, level=10, noise=0.002)
    x[65] *= 1.05
    scores = score_matrix(x[None, :])
    assert scores.score[0, 65] > 2.5
    assert not scores.anomalous[0, 65]


def test_floor_is_strict_and_thresholds_can_differ_per_series():
    x = np.stack([seasonal(70, level=1, noise=0.03, seed=s) for s in (1, 2)])
    x[:, 65] += 40.0
    scores = score_matrix(x, min_impact=np.array([5.0, 500.0]))
    assert scores.anomalous[:, 65].tolist() == [True, False]


def test_a_flat_series_gets_a_finite_score():
    x = np.full((1, 70), 200.0)
    x[0, 65] = 300.0
    scores = score_matrix(x)
    assert np.isfinite(scores.score[0, 65]) and scores.anomalous[0, 65]
    assert scores.score[0, 64] == 0.0


def test_new_spend_is_an_anomaly_until_it_becomes_the_norm():
    x = np.zeros((1, 70))
    x[0, 60:] = 80.0
    flagged = score_matrix(x, min_impact=10).anomalous[0].nonzero()[0].tolist()
    assert flagged == [60, 61, 62, 63]


def test_drops_are_never_anomalies():
    x = seasonal(70, level=10, noise=0.03)
    x[65] = 0.0
    assert not score_matrix(x[None, :]).anomalous.any()


def test_too_short_history_is_not_scored_and_scored_from_limits_flags():
    x = seasonal(70, level=10, noise=0.03)
    x[[30, 50, 66]] *= 1.6
    scores = score_matrix(x[None, :])
    assert np.isnan(scores.score[0, :MIN_HISTORY_DAYS]).all()
    assert scores.anomalous[0].nonzero()[0].tolist() == [50, 66]
    later = score_matrix(x[None, :], scored_from=FULL_HISTORY_DAYS)
    assert later.anomalous[0].nonzero()[0].tolist() == [66]


def test_a_day_scores_the_same_whatever_the_matrix_start_once_history_is_full():
    x = seasonal(100, level=10, noise=0.05)
    whole = score_matrix(x[None, :])
    tail = score_matrix(x[None, 20:])
    np.testing.assert_allclose(
        whole.score[0, 20 + FULL_HISTORY_DAYS :], tail.score[0, FULL_HISTORY_DAYS:]
    )


def test_rows_are_scored_independently():
    a = seasonal(70, level=10, noise=0.03, seed=3)
    b = seasonal(70, level=3, noise=0.04, seed=4)
    b[66] *= 2
    both = score_matrix(np.stack([a, b]), min_impact=10)
    np.testing.assert_array_equal(both.score[1], score_matrix(b[None, :], min_impact=10).score[0])
    np.testing.assert_array_equal(both.score[0], score_matrix(a[None, :], min_impact=10).score[0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_missing_values_are_rejected(bad):
    x = seasonal(70)[None, :]
    x[0, 5] = bad
    with pytest.raises(ValueError, match="fill missing days with 0"):
        score_matrix(x)


def test_a_vector_is_rejected():
    with pytest.raises(ValueError, match="matrix"):
        score_matrix(seasonal(70))
