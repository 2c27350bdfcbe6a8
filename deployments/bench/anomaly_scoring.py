"""Benchmark ``anomaly_scoring``: 10,000 daily cost series of 90 days, scored and merged.

Ours: :func:`tasks.cost.anomaly.scoring.score_matrix` over the whole (series x day) matrix, then
:func:`tasks.cost.anomaly.episodes.find_episodes`. Reference: the straightforward pandas way, one
series at a time: a dated Series, ``rolling(7).median()`` for the weekly level,
``groupby(weekday)`` + ``rolling(4).median()`` for the seasonal indices, ``rolling(7).median()``
of the deseasonalised days for the level and ``rolling(30).apply(MAD)`` for the spread,
following the same documented rules (pandas' rolling windows treat infinity as missing, so
infinite ratios are encoded as a huge finite value and decoded after each median). The
reference runs on a subset (500 series, 100 with ``quick``) and its time is extrapolated
linearly to all series. Ours is timed as the monitors run it (with US holidays and month
boundaries); the reference reproduces the arithmetic without a calendar, and ``score_matrix``
without labels must flag exactly the same days on that subset. Generating the data is not
timed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

import numpy as np

from deployments.bench import Measurement
from tasks.cost.anomaly.calendar import day_labels, holiday_dates
from tasks.cost.anomaly.episodes import find_episodes
from tasks.cost.anomaly.scoring import MAD_SCALE, MIN_HISTORY_DAYS, score_matrix

__all__ = ["START", "Workload", "make_series", "reference_flags", "run"]

START = date(2025, 3, 3)  # a Monday
SCORE, MIN_PCT, MIN_IMPACT = 2.5, 15.0, 10.0
HUGE = 1e300


@dataclass(frozen=True)
class Workload:
    """Generated series and the truth about them.

    ``spikes`` marks injected anomalous days; ``magnitude`` is each spike's relative size
    (0 elsewhere). Spikes are only injected from ``first_spike_day`` on.
    """

    values: np.ndarray
    spikes: np.ndarray
    magnitude: np.ndarray
    first_spike_day: int


def make_series(
    n_series: int,
    days: int = 90,
    *,
    seed: int = 20250303,
    noise: tuple[float, float] = (0.01, 0.04),
    spiky_share: float = 0.2,
    spike_size: tuple[float, float] = (0.3, 1.5),
    first_spike_day: int = MIN_HISTORY_DAYS,
) -> Workload:
    """Daily cost with weekly seasonality, a slow trend, noise and injected spikes.

    Each series: a level between about 50 and 8,000 a day, a weekday profile (weekends at 55-100%
    of weekdays, +-8% day to day), a trend of up to +-10% a month, multiplicative normal noise
    with a coefficient of variation drawn from ``noise``. A share ``spiky_share`` of the series
    gets one to three spikes of 1-3 days, each raising cost by a factor drawn from
    ``spike_size`` (0.3 = +30%), from ``first_spike_day`` on.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    level = np.exp(rng.uniform(np.log(50), np.log(8000), size=(n_series, 1)))
    profile = 1 + rng.uniform(-0.08, 0.08, size=(n_series, 7))
    weekend = rng.uniform(0.55, 1.0, size=(n_series, 1))
    profile[:, 5:] *= weekend  # START is a Monday: columns 5 and 6 are the weekend
    trend = 1 + rng.uniform(-0.1, 0.1, size=(n_series, 1)) * t / 30
    cv = rng.uniform(*noise, size=(n_series, 1))
    values = level * profile[:, t % 7] * trend * (1 + cv * rng.standard_normal((n_series, days)))
    values = np.maximum(values, 0.0)
    magnitude = np.zeros((n_series, days))
    spiky = np.flatnonzero(rng.random(n_series) < spiky_share)
    for row in spiky:  # data generation, not timed: a loop is fine here
        for _ in range(rng.integers(1, 4)):
            length = int(rng.integers(1, 4))
            start = int(rng.integers(first_spike_day, days - length + 1))
            magnitude[row, start : start + length] = rng.uniform(*spike_size)
    values = values * (1 + magnitude)
    return Workload(np.round(values, 2), magnitude > 0, magnitude, first_spike_day)


def _mad(window: np.ndarray) -> float:
    valid = window[~np.isnan(window)]
    return float(np.median(np.abs(valid - np.median(valid))))


def reference_flags(
    values: np.ndarray,
    start: date = START,
    score: float = SCORE,
    min_pct: float = MIN_PCT,
    min_impact: float = MIN_IMPACT,
) -> np.ndarray:
    """Flag one series' anomalous days the straightforward pandas way (see module docstring)."""
    import pandas as pd

    s = pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D"))
    by_weekday = s.index.dayofweek

    def ratio(top: pd.Series, bottom: pd.Series, both_zero: float) -> pd.Series:
        top, bottom = top.clip(lower=0), bottom.clip(lower=0)
        out = top / bottom
        out[(top == 0) & (bottom == 0)] = both_zero
        return out

    # pandas' rolling windows turn inf into missing: encode it as a huge finite value and decode
    # any median that involved it (the mean of the two middle values) back to inf
    def decoded(series: pd.Series) -> pd.Series:
        return series.mask(series >= HUGE / 4, np.inf)

    def four_weeks(series: pd.Series) -> pd.Series:
        encoded = series.replace(np.inf, HUGE)
        return decoded(encoded.groupby(by_weekday).transform(lambda g: g.rolling(4).median()))

    index = four_weeks(ratio(s, s.rolling(7).median(), 1.0))
    level = decoded(ratio(s, index, 0.0).replace(np.inf, HUGE).rolling(7).median()).shift(1)
    expected = index.shift(7) * level
    expected = expected.where(np.isfinite(expected), four_weeks(s).shift(7))
    expected.iloc[:34] = np.nan
    errors = s - expected
    sigma = errors.rolling(30, min_periods=14).apply(_mad, raw=True).shift(1) * MAD_SCALE
    floor = np.maximum(0.01 * expected.abs(), 0.01)
    sigma = sigma.where(sigma >= floor, floor).where(sigma.notna())
    z = errors / sigma
    flags = (z >= score) & (errors >= min_pct / 100 * expected) & (errors > min_impact)
    return flags.to_numpy(dtype=bool)


def _detection(flags: np.ndarray, work: Workload) -> tuple[float, float]:
    """Recall of injected spike days, and false positives per 1,000 clean series-days."""
    scored = np.zeros_like(flags)
    scored[:, work.first_spike_day :] = True
    spikes = work.spikes & scored
    clean = ~work.spikes & scored
    recall = float((flags & spikes).sum() / max(spikes.sum(), 1))
    return recall, float(1000 * (flags & clean).sum() / max(clean.sum(), 1))


def run(quick: bool) -> list[Measurement]:
    n_series, n_ref = (1_000, 100) if quick else (10_000, 500)
    work = make_series(n_series)

    days = work.values.shape[1]
    last = START + timedelta(days=days - 1)
    labels = day_labels(START, days, holiday_dates("US", START, last))
    score = partial(score_matrix, score_threshold=SCORE, min_pct=MIN_PCT, min_impact=MIN_IMPACT)
    ours = float("inf")
    for _ in range(2):  # best of two: the first run also pays first-touch page faults
        began = time.perf_counter()
        scores = score(work.values, labels=labels)
        episodes = find_episodes(scores)
        ours = min(ours, time.perf_counter() - began)
    # the reference reproduces the arithmetic without calendar effects
    single = score(work.values)

    reference_flags(work.values[0])  # untimed warm-up: pandas import, first calls
    began = time.perf_counter()
    reference = np.stack([reference_flags(work.values[i]) for i in range(n_ref)])
    reference_s = (time.perf_counter() - began) * n_series / n_ref

    mismatches = int((reference != single.anomalous[:n_ref]).sum())
    agree = mismatches == 0
    ratio = reference_s / ours if ours > 0 else float("inf")
    met = agree and ratio >= 20 and (quick or ours < 1.0)
    recall, fp = _detection(scores.anomalous, work)
    note = (
        f"{n_series:,} series x {days} days, {int(scores.anomalous.sum()):,} anomalous days in "
        f"{len(episodes):,} episodes; ours (with the US calendar, as the monitors run) best "
        f"of 2 runs; reference (pandas per series, without calendar, after one untimed "
        f"warm-up call) timed on {n_ref} series and extrapolated to {n_series:,}; flagged days "
        f"without calendar {'agree' if agree else f'DISAGREE ({mismatches} days)'} on "
        f"those {n_ref} ({int(reference.sum())} flagged); detection: recall {recall:.3f} of "
        f"injected spike days (+30% to +150%), {fp:.2f} false positives per 1,000 clean series-days"
    )
    return [
        Measurement(
            workload="anomaly_scoring",
            ours=ours,
            reference=reference_s,
            unit="s",
            ratio=ratio,
            target="< 1 s for 10,000 series x 90 d, >= 20x pandas, same days",
            met=met,
            note=note,
        )
    ]
