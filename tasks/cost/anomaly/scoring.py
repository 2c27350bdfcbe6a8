"""Vectorised anomaly scoring of daily cost series (one row per series, one column per day).

The model, for the cost ``x[t]`` of one series on day ``t`` (columns are consecutive days):

* **Weekly level.** ``W[t]`` is the median of the seven days ending on ``t`` (one of each
  weekday), so it is free of the weekly pattern.
* **Day-of-week seasonality.** Each day's share of its week, ``r[t] = x[t] / W[t]``, and the
  weekday's seasonal index ``S[t] = median(r[t], r[t-7], r[t-14], r[t-21])``: the median over
  four weeks of the same weekday, so one unusual week in four does not move it. Public holidays
  are left out of it (the median of the other same weekdays; they carry their own calendar
  effect below), so two holidays on one weekday do not drag that weekday down for weeks. Because
  it is a ratio to the level of its own week, a level shift does not distort the pattern.
* **Robust level.** ``L[t]``: the median of the last seven days, each divided by its seasonal
  index (``x[t-k] / S[t-k]``, k = 1..7). Being a median, up to three spike days in the last week
  do not move it, and four days after a lasting shift it is the new level::

      expected[t] = S[t-7] * L[t]

  A ratio is 1 where a day and its weekly level are both 0, infinite where only the level is
  (negative days, from credits, count as 0 in ratios). Where the product is not finite (a
  sparse series with cost on fewer than four days a week) the expectation is the median of the
  last four same-weekdays instead.
* **Calendar effects.** Days with a calendar label (the 1st, 2nd, second-last or last day of a
  month, a public holiday: :mod:`tasks.cost.anomaly.calendar`) get their series' own effect of
  that label: the median ratio of actual to expected on the last three earlier days with the
  same label (``expected[t] *= C[t]``). So a month-end batch job or a holiday peak that happens
  every time is expected, while a change in it is still scored. A labelled day with no earlier
  day of the same label in the matrix (or none with cost) has no known effect and is not
  flagged; the spread of one with a known effect is widened by ``sqrt(1 + 1.5 / k)`` for an
  effect learned from ``k`` days, and an effect within twice the day-to-day noise is not
  applied.
* **Robust spread.** The one-step-ahead errors ``e = x - expected`` of the 30 days before ``t``
  (at least 14): ``sigma = 1.4826 * median(|e - median(e)|)``, the median absolute deviation
  scaled to a standard deviation for normal noise. Errors are out of sample (each day was
  predicted from its own past), so the spread also covers the error of the expectation itself.
  A floor of 1% of the expectation (and 0.01 money) keeps flat series' scores finite.
* **Score** ``(x - expected) / sigma``. A day is anomalous when its score reaches the score
  threshold AND its impact ``x - expected`` is at least ``min_pct`` % of the expectation AND the
  impact exceeds the absolute floor ``min_impact``.

Together this is the "30-day baseline": four weeks of weekday indices (34 days with the weekly
level) for the expectation, 30 days of errors for the spread. A day is scored once the matrix
holds :data:`MIN_HISTORY_DAYS` (48) days before it; with :data:`FULL_HISTORY_DAYS` (64) its
spread uses all 30 errors and its result no longer depends on where the matrix starts (so
sliding the window never rescores a day differently).
Everything is array arithmetic over all series at once; the only Python loop runs over the at
most 16 days whose error window is still filling.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tasks.cost.anomaly.calendar import HOLIDAY, NONE

__all__ = [
    "FIRST_EXPECTED_DAY",
    "FULL_HISTORY_DAYS",
    "MAD_SCALE",
    "MIN_HISTORY_DAYS",
    "SPREAD_DAYS",
    "Scores",
    "Terms",
    "expected_matrix",
    "score_matrix",
]

WEEK = 7
WEEKS = 4
# W needs 7 days, S four weeks of W's, the forecast S[t-7]: the first expectation is day 34
FIRST_EXPECTED_DAY = (WEEK - 1) + WEEK * (WEEKS - 1) + WEEK
SPREAD_DAYS = 30
MIN_SPREAD_DAYS = 14
MIN_HISTORY_DAYS = FIRST_EXPECTED_DAY + MIN_SPREAD_DAYS  # 48
FULL_HISTORY_DAYS = FIRST_EXPECTED_DAY + SPREAD_DAYS  # 64
MAD_SCALE = 1.4826
SIGMA_FLOOR_PCT = 0.01
SIGMA_FLOOR_ABS = 0.01
CALENDAR_OCCURRENCES = 3
CALENDAR_MIN_EFFECT_NOISES = 2.0

ArrayLike = float | np.ndarray


@dataclass(frozen=True)
class Terms:
    """The parts of each day's expectation: ``weekday`` index x ``level`` x ``calendar``.

    ``weekday`` and ``level`` are NaN where the sparse-series fallback (the median of the last
    four same weekdays) gave the expectation instead; ``calendar`` is 1 on ordinary days.
    """

    weekday: np.ndarray
    level: np.ndarray
    calendar: np.ndarray


@dataclass(frozen=True)
class Scores:
    """Per-series, per-day figures; every array has the shape of the input matrix.

    ``expected``, ``sigma`` and ``score`` are NaN where a day lacks the history to be scored;
    ``anomalous`` is False there.
    """

    actual: np.ndarray
    expected: np.ndarray
    sigma: np.ndarray
    score: np.ndarray
    anomalous: np.ndarray
    terms: Terms | None = None

    @property
    def impact(self) -> np.ndarray:
        return self.actual - self.expected


def _median_inplace(windows: np.ndarray) -> np.ndarray:
    """Median along the last axis of an array the caller owns (it is partitioned in place).

    Equal to ``np.median(windows, axis=-1)`` (the mean of the two middle values for an even
    count) without ``np.median``'s extra copy, which matters on millions of small windows.
    """
    size = windows.shape[-1]
    half = size // 2
    if size % 2:
        windows.partition(half, axis=-1)
        return windows[..., half].copy()
    windows.partition((half - 1, half), axis=-1)
    return (windows[..., half - 1] + windows[..., half]) / 2


def _trailing_median(x: np.ndarray, window: int) -> np.ndarray:
    """``out[:, t]`` = median of ``x[:, t-window+1 .. t]``; NaN for the first ``window-1`` days."""
    out = np.full(x.shape, np.nan)
    if x.shape[1] >= window:
        out[:, window - 1 :] = _median_inplace(np.array(sliding_window_view(x, window, axis=1)))
    return out


def _mad_inplace(windows: np.ndarray) -> np.ndarray:
    """Median absolute deviation along the last axis (``windows`` is overwritten)."""
    centre = _median_inplace(windows)
    np.subtract(windows, centre[..., None], out=windows)
    np.abs(windows, out=windows)
    return _median_inplace(windows)


def _shift(x: np.ndarray, days: int) -> np.ndarray:
    """``out[:, t] = x[:, t-days]`` (NaN before the start)."""
    out = np.full(x.shape, np.nan)
    if x.shape[1] > days:
        out[:, days:] = x[:, :-days]
    return out


def _same_weekday_median(x: np.ndarray, skip: np.ndarray | None = None) -> np.ndarray:
    """``out[:, t]`` = median of ``x[:, t], x[:, t-7], x[:, t-14], x[:, t-21]`` (NaN before 21),
    leaving out the days (columns) marked in ``skip`` (NaN when all four are skipped)."""
    n, days = x.shape
    out = np.full((n, days), np.nan)
    first = WEEK * (WEEKS - 1)
    if days > first:
        lags = np.stack([x[:, WEEK * k : days - WEEK * (WEEKS - 1 - k)] for k in range(WEEKS)])
        lags.sort(axis=0)
        out[:, first:] = (lags[1] + lags[2]) / 2
        if skip is not None and skip.any():
            # only the columns whose four weeks hold a skipped day are recomputed
            kept = np.stack([~skip[WEEK * k : days - WEEK * (WEEKS - 1 - k)] for k in range(WEEKS)])
            for column in np.flatnonzero(~kept.all(axis=0)):
                use = [
                    x[:, first + column - WEEK * k] for k in range(WEEKS) if kept[-1 - k, column]
                ]
                out[:, first + column] = np.median(np.stack(use), axis=0) if use else np.nan
    return out


def _ratio(numerator: np.ndarray, denominator: np.ndarray, both_zero: float) -> np.ndarray:
    top, bottom = np.maximum(numerator, 0.0), np.maximum(denominator, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = top / bottom
    out[(top == 0) & (bottom == 0)] = both_zero
    return out


def _calendar_effects(
    x: np.ndarray, base: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each day's calendar factor (1 on ordinary days) and its spread multiplier.

    The multiplier widens the spread by the uncertainty of an effect estimated from ``k``
    earlier days (``sqrt(1 + 1.5 / k)``); it is NaN where the effect cannot be known (no
    earlier day with the label, or none with cost), and such days are not flagged.
    """
    factor = np.ones(x.shape)
    spread = np.ones(x.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.maximum(x, 0.0) / base
    ratio[~np.isfinite(ratio)] = np.nan
    ordinary = np.where(labels == NONE, np.abs(ratio - 1.0), np.nan)
    for label in np.unique(labels[labels != NONE]):
        columns = np.flatnonzero(labels == label)
        for k, column in enumerate(columns):
            prior = columns[:k]
            prior = prior[prior >= FIRST_EXPECTED_DAY][-CALENDAR_OCCURRENCES:]
            if prior.size == 0:
                spread[:, column] = np.nan
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: no effect known
                effect = np.nanmedian(ratio[:, prior], axis=1)
                # the day-to-day noise of ordinary days before it, as a relative spread
                recent = ordinary[:, max(column - SPREAD_DAYS, 0) : column]
                noise = MAD_SCALE * np.nanmedian(recent, axis=1)
            known = np.isfinite(ratio[:, prior]).sum(axis=1)
            # an effect within the noise is no effect: estimating it would only add noise
            small = np.abs(effect - 1.0) < CALENDAR_MIN_EFFECT_NOISES * noise
            real = np.isfinite(effect) & ~small
            factor[:, column] = np.where(real, effect, 1.0)
            with np.errstate(divide="ignore"):
                widen = np.sqrt(1.0 + 1.5 / known)
            spread[:, column] = np.where(known > 0, np.where(real, widen, 1.0), np.nan)
    return factor, spread


def _expected(x: np.ndarray, labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, Terms]:
    """Every day's expectation, its spread multiplier (see :func:`_calendar_effects`) and its
    terms."""
    with np.errstate(invalid="ignore"):
        shares = _ratio(x, _trailing_median(x, WEEK), both_zero=1.0)
        # holidays carry their own effect: they do not shape their weekday's index
        holidays = None if labels is None else np.asarray(labels) == HOLIDAY
        index = _same_weekday_median(shares, holidays)
        level = _shift(_trailing_median(_ratio(x, index, both_zero=0.0), WEEK), 1)
        weekday = _shift(index, WEEK)
        expected = weekday * level
        fallback = _shift(_same_weekday_median(x), WEEK)
    modelled = np.isfinite(expected)
    expected = np.where(modelled, expected, fallback)
    expected[:, : min(FIRST_EXPECTED_DAY, x.shape[1])] = np.nan
    spread = np.ones(x.shape)
    factor = np.ones(x.shape)
    if labels is not None:
        if labels.shape != (x.shape[1],):
            raise ValueError(f"expected {x.shape[1]} day labels, got shape {labels.shape}")
        factor, spread = _calendar_effects(x, expected, labels)
        expected = expected * factor
    terms = Terms(np.where(modelled, weekday, np.nan), np.where(modelled, level, np.nan), factor)
    return expected, spread, terms


def expected_matrix(values: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """The seasonal, level-scaled expectation of every day (NaN for the first 34 days).

    Args:
        values: ``(series, days)`` finite daily cost, consecutive days.
        labels: one calendar label per day (:func:`tasks.cost.anomaly.calendar.day_labels`);
            None: no calendar effects.
    """
    return _expected(np.asarray(values, dtype=np.float64), labels)[0]


def _trailing_mad(errors: np.ndarray, first_valid: int, from_day: int = 0) -> np.ndarray:
    """Scaled MAD of the errors of the :data:`SPREAD_DAYS` days before each day (>= 14 of them).

    ``errors`` is valid (finite) from column ``first_valid`` on, in every row; only days from
    ``from_day`` on are computed (the others stay NaN).
    """
    n, days = errors.shape
    sigma = np.full((n, days), np.nan)
    first = max(first_valid + MIN_SPREAD_DAYS, from_day)
    full = max(first_valid + SPREAD_DAYS, first)
    for t in range(first, min(full, days)):  # windows still filling: at most 16 days
        sigma[:, t] = _mad_inplace(errors[:, first_valid:t].copy())
    if days > full:
        # windows[:, j] holds errors[:, full-30+j .. full-1+j]: the 30 days before day full+j
        windows = sliding_window_view(errors[:, full - SPREAD_DAYS : days - 1], SPREAD_DAYS, axis=1)
        sigma[:, full:] = _mad_inplace(np.array(windows))
    return sigma * MAD_SCALE


def _column(value: ArrayLike) -> np.ndarray:
    """A threshold as a column: one value per series, or one for all."""
    arr = np.asarray(value, dtype=np.float64)
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr


def _flag(
    x: np.ndarray,
    labels: np.ndarray | None,
    thresholds: tuple[np.ndarray, np.ndarray, np.ndarray],
    scored_from: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Terms]:
    """Expectation, spread, score, flags and expectation terms of every day."""
    score_threshold, min_pct, min_impact = thresholds
    expected, spread, terms = _expected(x, labels)
    errors = x - expected
    sigma = _trailing_mad(errors, FIRST_EXPECTED_DAY, scored_from)
    floor = np.maximum(SIGMA_FLOOR_PCT * np.abs(expected), SIGMA_FLOOR_ABS)
    sigma_eff = np.fmax(sigma, floor) * np.nan_to_num(spread, nan=1.0)
    sigma_eff[np.isnan(sigma)] = np.nan
    score = errors / sigma_eff
    with np.errstate(invalid="ignore"):
        anomalous = (
            (score >= score_threshold)
            & (errors >= min_pct / 100.0 * expected)
            & (errors > min_impact)
        )
    anomalous[np.isnan(spread)] = False
    return expected, sigma_eff, score, anomalous, terms


def score_matrix(
    values: np.ndarray,
    *,
    score_threshold: ArrayLike = 2.5,
    min_pct: ArrayLike = 15.0,
    min_impact: ArrayLike = 0.0,
    scored_from: int = 0,
    labels: np.ndarray | None = None,
) -> Scores:
    """Score every day of every series and flag the anomalous ones.

    Args:
        values: ``(series, days)`` daily cost; missing days must already be zero.
        score_threshold: robust standard deviations above the expectation (scalar or per row).
        min_pct: minimum impact as a percentage of the expectation (scalar or per row).
        min_impact: the impact must exceed this absolute floor (scalar or per row).
        scored_from: flag only days from this column on (earlier days are baseline only).
        labels: one calendar label per day (see :func:`expected_matrix`).

    Raises:
        ValueError: the matrix is not 2-D, or holds NaN or infinite values.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected a (series, days) matrix, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("cost matrix holds NaN or infinite values; fill missing days with 0")
    thresholds = (_column(score_threshold), _column(min_pct), _column(min_impact))
    expected, sigma_eff, score, anomalous, terms = _flag(x, labels, thresholds, max(scored_from, 0))
    anomalous[:, : max(scored_from, 0)] = False
    return Scores(x, expected, sigma_eff, score, anomalous, terms)
