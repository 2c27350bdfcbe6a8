"""Step changes and new spend are told apart from anomalies."""

from __future__ import annotations

import numpy as np

from tasks.cost.anomaly.episodes import find_episodes
from tasks.cost.anomaly.scoring import score_matrix
from tasks.cost.anomaly.shifts import ANOMALY, NEW_SPEND, STEP, classify_episodes

WEEK = np.array([100.0, 104.0, 108.0, 104.0, 100.0, 60.0, 55.0])
DAYS = 120


def _kinds(x: np.ndarray) -> list[tuple[int, str]]:
    scores = score_matrix(x[None, :], min_impact=25, scored_from=64)
    episodes = find_episodes(scores)
    kinds = classify_episodes(x[None, :], episodes, min_pct=15, min_impact=25)
    return [(int(s), str(k)) for s, k in zip(episodes.start, kinds, strict=True)]


def _series() -> np.ndarray:
    rng = np.random.default_rng(7)
    return 10 * WEEK[np.arange(DAYS) % 7] * (1 + 0.01 * rng.standard_normal(DAYS))


def test_a_level_that_lasts_two_weeks_is_one_step_change() -> None:
    x = _series()
    x[80:] *= 1.4  # a migration: +40% from day 80 on, for good
    assert _kinds(x) == [(80, STEP)]


def test_a_fixed_leak_stays_an_anomaly() -> None:
    x = _series()
    x[80:90] *= 1 + np.minimum(0.25 + 0.125 * np.arange(10), 1.0)  # a ramp, then fixed
    kinds = _kinds(x)
    assert kinds and kinds[0] == (80, ANOMALY)
    assert {k for _, k in kinds} == {ANOMALY}


def test_a_new_level_too_recent_to_judge_stays_an_anomaly() -> None:
    x = _series()
    x[110:] *= 1.4  # ten days before the end: it may still go away
    assert _kinds(x) == [(110, ANOMALY)]


def test_a_series_that_appears_is_one_new_spend() -> None:
    x = _series()
    x[:90] = 0.0
    assert _kinds(x) == [(90, NEW_SPEND)]
