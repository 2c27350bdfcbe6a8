"""Merge consecutive anomalous days of each series into episodes (one anomaly each).

Runs are found for every series at once from the edges of the padded flag matrix; their sums
come from row-wise cumulative sums, so the cost does not grow with the number of series beyond
the array arithmetic itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tasks.cost.anomaly.scoring import Scores

__all__ = ["Episodes", "find_episodes", "flag_runs"]


@dataclass(frozen=True)
class Episodes:
    """Aligned arrays, one element per episode, ordered by series then start.

    ``start`` and ``end`` are inclusive column indices. Impact is actual minus expected, summed
    over the episode (``total_impact``) or its largest day (``max_impact``); ``impact_pct`` is the
    total impact over the total expectation, in percent (NaN where nothing was expected).
    """

    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    actual_total: np.ndarray
    expected_total: np.ndarray
    total_impact: np.ndarray
    max_impact: np.ndarray
    max_score: np.ndarray

    def __len__(self) -> int:
        return len(self.row)

    @property
    def impact_pct(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = 100.0 * self.total_impact / self.expected_total
        return np.where(self.expected_total > 0, pct, np.nan)


def _segment_sums(
    matrix: np.ndarray, row: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    cumulative = np.zeros((matrix.shape[0], matrix.shape[1] + 1))
    np.cumsum(matrix, axis=1, out=cumulative[:, 1:])
    return cumulative[row, end + 1] - cumulative[row, start]


def _segment_max(
    matrix: np.ndarray, row: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    if not len(row):
        return np.zeros(0)
    days = matrix.shape[1]
    flat = matrix.ravel()
    # reduceat over [start, end] pairs: odd slots are the gaps between episodes, dropped
    bounds = np.empty(2 * len(row), dtype=np.intp)
    bounds[0::2] = row * days + start
    bounds[1::2] = row * days + end + 1
    if bounds[-1] == flat.size:
        flat = np.append(flat, 0.0)
    return np.maximum.reduceat(flat, bounds)[0::2]


def flag_runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every maximal run of True in a ``(series, days)`` matrix: rows, starts and inclusive ends,
    ordered by row then start."""
    n, days = flags.shape
    padded = np.zeros((n, days + 2), dtype=np.int8)
    padded[:, 1:-1] = flags
    edges = np.diff(padded, axis=1)
    # nonzero walks row-major, so the k-th rise and the k-th fall belong to the same run
    row, start = np.nonzero(edges == 1)
    _, stop = np.nonzero(edges == -1)
    return row, start, stop - 1


def find_episodes(scores: Scores) -> Episodes:
    """Every maximal run of consecutive anomalous days, with its impact figures."""
    flags = scores.anomalous
    row, start, end = flag_runs(flags)
    expected = np.where(flags, scores.expected, 0.0)
    actual = np.where(flags, scores.actual, 0.0)
    impact = np.where(flags, scores.actual - scores.expected, -np.inf)
    score = np.where(flags, scores.score, -np.inf)
    actual_total = _segment_sums(actual, row, start, end)
    expected_total = _segment_sums(expected, row, start, end)
    return Episodes(
        row=row,
        start=start,
        end=end,
        actual_total=actual_total,
        expected_total=expected_total,
        total_impact=actual_total - expected_total,
        max_impact=_segment_max(impact, row, start, end),
        max_score=_segment_max(score, row, start, end),
    )
