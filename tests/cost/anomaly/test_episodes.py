"""Merging consecutive anomalous days into episodes."""

from __future__ import annotations

import numpy as np
import pytest

from tasks.cost.anomaly.episodes import find_episodes
from tasks.cost.anomaly.scoring import Scores


def scores_of(flags: list[list[int]], actual: float = 150.0, expected: float = 100.0) -> Scores:
    anomalous = np.array(flags, dtype=bool)
    shape = anomalous.shape
    days = np.arange(shape[1], dtype=np.float64)
    act = np.full(shape, actual) + days  # impact grows by 1 each day
    return Scores(
        actual=act,
        expected=np.full(shape, expected),
        sigma=np.full(shape, 10.0),
        score=(act - expected) / 10.0,
        anomalous=anomalous,
    )


def test_consecutive_days_merge_and_gaps_split():
    episodes = find_episodes(scores_of([[0, 1, 1, 1, 0, 1, 0], [1, 0, 0, 0, 0, 1, 1]]))
    assert list(zip(episodes.row, episodes.start, episodes.end, strict=True)) == [
        (0, 1, 3),
        (0, 5, 5),
        (1, 0, 0),
        (1, 5, 6),
    ]


def test_episode_figures_are_sums_and_maxima_over_its_days():
    episodes = find_episodes(scores_of([[0, 1, 1, 1, 0]]))
    # days 1..3: actual 151, 152, 153 against 100 each
    assert episodes.actual_total[0] == pytest.approx(456.0)
    assert episodes.expected_total[0] == pytest.approx(300.0)
    assert episodes.total_impact[0] == pytest.approx(156.0)
    assert episodes.max_impact[0] == pytest.approx(53.0)
    assert episodes.max_score[0] == pytest.approx(5.3)
    assert episodes.impact_pct[0] == pytest.approx(52.0)


def test_runs_touching_both_edges_of_the_matrix():
    episodes = find_episodes(scores_of([[1, 1, 0, 1, 1]]))
    assert episodes.start.tolist() == [0, 3]
    assert episodes.end.tolist() == [1, 4]
    assert episodes.max_impact.tolist() == pytest.approx([51.0, 54.0])


def test_nothing_anomalous_gives_no_episodes():
    episodes = find_episodes(scores_of([[0, 0, 0], [0, 0, 0]]))
    assert len(episodes) == 0
    assert episodes.max_impact.shape == (0,)


def test_impact_percentage_is_undefined_for_new_spend():
    episodes = find_episodes(scores_of([[0, 1, 1]], actual=50.0, expected=0.0))
    assert np.isnan(episodes.impact_pct[0])
    assert episodes.total_impact[0] == pytest.approx(103.0)


def test_many_series_at_once_match_one_at_a_time():
    rng = np.random.default_rng(7)
    flags = (rng.random((200, 60)) < 0.1).astype(int).tolist()
    together = find_episodes(scores_of(flags))
    rows = []
    for i, row_flags in enumerate(flags):
        alone = find_episodes(scores_of([row_flags]))
        rows += [
            (i, s, e, t) for s, e, t in zip(alone.start, alone.end, alone.total_impact, strict=True)
        ]
    assert [
        (r, s, e, pytest.approx(t))
        for r, s, e, t in zip(
            together.row, together.start, together.end, together.total_impact, strict=True
        )
    ] == rows
