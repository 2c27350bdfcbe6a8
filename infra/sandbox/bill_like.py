"""Bill-like daily cost series with labelled anomalies: the data of the ``anomaly_quality`` bench.

Each series is the daily cost of one service in one account as a bill shows it: usage with a
weekly profile, a slow trend and noise, plus what every real bill has and nobody wants to be
alerted about (each series draws some of these):

* ``fee``: a monthly recurring charge on the 1st (support plan, marketplace subscription,
  reserved-instance or savings-plan fee), FOCUS ``ChargeFrequency`` Recurring, kept apart from
  usage in :attr:`BillLikeSet.fees` exactly as a FOCUS source delivers it;
* ``month_end``: batch jobs on the last one or two days of every month;
* ``holiday``: US public holidays: consumer-facing services peak, office workloads dip;
* ``step``: a planned change (a migration) that raises spend for good from one day on;
* ``new``: a service that appears part-way (nothing before, normal spend after).

True anomalies are injected on top: ``spike`` (+20% to +400% for 1-5 days, some close to the
monitors' floors) and ``leak`` (a ramp over a week, from +25% to about +100%, then fixed).
Every day also carries the normal pattern it belongs to (:attr:`BillLikeSet.cause`), so a false
alarm can be blamed on the pattern that caused it. Everything comes from one seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from tasks.cost.anomaly.calendar import holiday_dates

__all__ = ["CAUSES", "START", "BillLikeSet", "TrueAnomaly", "make_bill_like"]

START = date(2025, 1, 1)
DAYS = 181  # January to June: five month boundaries after the first
# Day labels for false-alarm attribution; the first that applies wins, in this order.
CAUSES = ("noise", "fee", "month_end", "holiday", "step", "new")
_SETTLING_DAYS = 7  # days after a step or a new service that are blamed on it


@dataclass(frozen=True)
class TrueAnomaly:
    """One injected anomaly: series row, first and last day (column indices, inclusive)."""

    row: int
    start: int
    end: int
    kind: str  # "spike" | "leak"
    size: float  # relative excess at its peak (0.3 = +30%)


@dataclass(frozen=True)
class BillLikeSet:
    """Usage and recurring fees per series and day, the truth, and each day's normal cause."""

    start: date
    usage: np.ndarray  # (series, days) usage-based cost
    fees: np.ndarray  # (series, days) recurring fees, on the 1st of each month
    truth: tuple[TrueAnomaly, ...]
    cause: np.ndarray  # (series, days) index into CAUSES
    holidays: np.ndarray  # (days,) bool: a US public holiday

    @property
    def billed(self) -> np.ndarray:
        """What a bill shows per day: usage and fees together."""
        return self.usage + self.fees

    def day(self, column: int) -> date:
        return self.start + timedelta(days=int(column))


def _calendar(start: date, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    dates = [start + timedelta(days=i) for i in range(days)]
    us = holiday_dates("US", dates[0], dates[-1])
    first = np.array([d.day == 1 for d in dates])
    last = np.array([(d + timedelta(days=1)).day == 1 for d in dates])
    second_last = np.array([(d + timedelta(days=2)).day == 1 for d in dates])
    holiday = np.array([d in us for d in dates])
    return first, last, second_last, holiday


def make_bill_like(
    seed: int,
    n_series: int = 40,
    days: int = DAYS,
    *,
    anomaly_share: float = 0.35,
    first_anomaly_day: int = 70,
    min_excess: float = 30.0,
    start: date = START,
) -> BillLikeSet:
    """One labelled set of ``n_series`` bill-like series (see the module docstring).

    Args:
        seed: every random draw comes from it.
        anomaly_share: share of the series that get true anomalies (one or two each).
        first_anomaly_day: anomalies start on or after this column (the history before it is
            clean enough for any detector to learn from).
        min_excess: every anomaly's first day costs at least this much more than usual: the
            money floor a team sets on its monitors (25 in the shipped ones), plus a margin.
    """
    rng = np.random.default_rng(seed)
    first, last, second_last, holiday = _calendar(start, days)
    t = np.arange(days)
    weekday = np.array([(start + timedelta(days=int(i))).weekday() for i in t])

    level = np.exp(rng.uniform(np.log(40), np.log(6000), size=(n_series, 1)))
    profile = 1 + rng.uniform(-0.06, 0.06, size=(n_series, 7))
    profile[:, 5:] *= rng.uniform(0.5, 1.0, size=(n_series, 1))
    trend = 1 + rng.uniform(-0.08, 0.12, size=(n_series, 1)) * t / 30
    cv = rng.uniform(0.01, 0.05, size=(n_series, 1))
    shape = profile[:, weekday] * trend
    cause = np.zeros((n_series, days), dtype=np.int8)
    fees = np.zeros((n_series, days))

    for row in range(n_series):  # data generation, not timed: loops keep it readable
        daily = float(level[row, 0])
        if rng.random() < 0.5:
            fees[row, first] = daily * rng.uniform(0.5, 3.0)
            cause[row, first & (cause[row] == 0)] = CAUSES.index("fee")
        if rng.random() < 0.4:
            bump = rng.uniform(0.3, 1.0)
            days_hit = last | second_last if rng.random() < 0.5 else last
            shape[row, days_hit] *= 1 + bump
            cause[row, days_hit & (cause[row] == 0)] = CAUSES.index("month_end")
        if rng.random() < 0.4:
            effect = rng.uniform(0.4, 0.9) if rng.random() < 0.5 else -rng.uniform(0.4, 0.7)
            shape[row, holiday] *= 1 + effect
            cause[row, holiday & (cause[row] == 0)] = CAUSES.index("holiday")
        if rng.random() < 0.15:
            at = int(rng.integers(first_anomaly_day - 20, days - 20))
            shape[row, at:] *= 1 + rng.uniform(0.3, 0.6)
            settling = slice(at, at + _SETTLING_DAYS)
            cause[row, settling][cause[row, settling] == 0] = CAUSES.index("step")
        elif rng.random() < 0.1:
            at = int(rng.integers(first_anomaly_day - 20, days - 20))
            shape[row, :at] = 0.0
            settling = slice(at, at + _SETTLING_DAYS)
            cause[row, settling][cause[row, settling] == 0] = CAUSES.index("new")

    noise = 1 + cv * rng.standard_normal((n_series, days))
    usage = np.maximum(level * shape * noise, 0.0)

    truth: list[TrueAnomaly] = []
    for row in map(int, np.flatnonzero(rng.random(n_series) < anomaly_share)):
        at = int(rng.integers(first_anomaly_day, days - 25))
        for _ in range(int(rng.integers(1, 3))):
            usual = float(level[row, 0] * shape[row, at])
            if usual <= 0:
                break  # a service that has not appeared yet
            floor = min_excess / usual  # relative size that clears the money floor
            if rng.random() < 0.75:
                length = int(rng.integers(1, 6))
                size = max(float(np.exp(rng.uniform(np.log(0.2), np.log(4.0)))), floor)
                usage[row, at : at + length] *= 1 + size
                truth.append(TrueAnomaly(row, at, at + length - 1, "spike", size))
            else:
                length = int(rng.integers(7, 12))
                opening = max(0.25, floor)
                ramp = np.minimum(
                    opening + (1 - opening) * np.arange(length) / 6, max(1.0, opening)
                )
                usage[row, at : at + length] *= 1 + ramp
                truth.append(TrueAnomaly(row, at, at + length - 1, "leak", 1.0))
            at += length + int(rng.integers(10, 25))
            if at >= days - 10:
                break
    return BillLikeSet(start, usage, fees, tuple(truth), cause, holiday)
