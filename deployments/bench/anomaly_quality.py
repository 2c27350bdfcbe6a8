"""Benchmark ``anomaly_quality``: would a FinOps team keep the monitor switched on?

Data: :func:`infra.sandbox.bill_like.make_bill_like`, 30 seeds (8 with ``quick``) of 40 bill-like
series over January-June with fees, month-end jobs, holidays, planned steps and new services,
and injected spikes and leaks. Scoring is by episode, as people read alerts:

* recall: a true anomaly counts as found when a flagged day falls within a day of its start;
* precision: the share of flagged episodes (runs of flagged days) that overlap a true anomaly;
* every other flagged episode is a false alarm, blamed on the normal pattern of its days
  (fee, month end, holiday, step, new service) or on ``noise``.

Ours: the monitors' shipped defaults (``deployments/cost/monitors.yaml``, the ``services``
monitor, US holidays) on the usage series, as a monitor builds it from FOCUS lines (its default
filter is ``ChargeCategory`` Usage; the fees are FOCUS Purchase lines with ``ChargeFrequency``
Recurring). Episodes the detector announces as a step change or new spend are not anomaly
alerts: they are counted apart, with what each really was. Reference, on the same series: MSTL
(statsmodels) with weekly and monthly seasons, each day flagged when its remainder, scaled by
the median absolute deviation of the 30 remainders before it, reaches the same score and is
above the same floors. Days before column 64 are history only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deployments.bench import Measurement
from infra.sandbox.bill_like import CAUSES, DAYS, BillLikeSet, make_bill_like
from tasks.cost.anomaly.detect import score_series
from tasks.cost.anomaly.episodes import flag_runs
from tasks.cost.anomaly.monitors import Thresholds, load_monitors
from tasks.cost.anomaly.scoring import FULL_HISTORY_DAYS, MAD_SCALE
from tasks.cost.anomaly.shifts import ANOMALY

__all__ = ["Quality", "evaluate", "flag_episodes", "ours", "reference", "run", "shipped_thresholds"]

MONITORS = Path(__file__).resolve().parents[1] / "cost" / "monitors.yaml"
SCORED_FROM = FULL_HISTORY_DAYS
TARGET_PRECISION, TARGET_RECALL = 0.8, 0.9


@dataclass
class Quality:
    """Episode-level figures over one or more labelled sets."""

    true_anomalies: int = 0
    found: int = 0
    episodes: int = 0
    true_episodes: int = 0
    false_by_cause: Counter[str] = field(default_factory=Counter)
    missed_by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def precision(self) -> float:
        return self.true_episodes / self.episodes if self.episodes else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.true_anomalies if self.true_anomalies else 1.0

    def add(self, other: Quality) -> None:
        self.true_anomalies += other.true_anomalies
        self.found += other.found
        self.episodes += other.episodes
        self.true_episodes += other.true_episodes
        self.false_by_cause.update(other.false_by_cause)
        self.missed_by_kind.update(other.missed_by_kind)

    def summary(self) -> str:
        causes = ", ".join(f"{c} {n}" for c, n in self.false_by_cause.most_common()) or "none"
        return (
            f"precision {self.precision:.2f} ({self.true_episodes}/{self.episodes} episodes), "
            f"recall {self.recall:.2f} ({self.found}/{self.true_anomalies}); "
            f"false alarms by cause: {causes}"
        )


def flag_episodes(flags: np.ndarray) -> list[tuple[int, int, int]]:
    """Runs of flagged days: ``(row, first, last)`` with inclusive column indices."""
    return [(int(r), int(s), int(e)) for r, s, e in zip(*flag_runs(flags), strict=True)]


def _overlaps_truth(data: BillLikeSet, row: int, first: int, last: int) -> bool:
    return any(a.row == row and a.start <= last and first <= a.end for a in data.truth)


def evaluate(flags: np.ndarray, data: BillLikeSet, scored_from: int = SCORED_FROM) -> Quality:
    """Score ``flags`` (series x days) against the set's truth, by episode."""
    flags = flags.copy()
    flags[:, :scored_from] = False
    quality = Quality()
    truth = [a for a in data.truth if a.start >= scored_from]
    for anomaly in truth:
        window = flags[anomaly.row, anomaly.start : anomaly.start + 2]
        quality.true_anomalies += 1
        if window.any():
            quality.found += 1
        else:
            quality.missed_by_kind[anomaly.kind] += 1
    for row, first, last in flag_episodes(flags):
        quality.episodes += 1
        if _overlaps_truth(data, row, first, last):
            quality.true_episodes += 1
            continue
        causes = data.cause[row, first : last + 1]
        labelled = causes[causes > 0]
        blamed = np.bincount(labelled).argmax() if labelled.size else 0
        quality.false_by_cause[CAUSES[blamed]] += 1
    return quality


def shipped_thresholds(monitor: str = "services") -> Thresholds:
    """The thresholds a monitor gets from the shipped ``monitors.yaml``."""
    (found,) = [m for m in load_monitors([MONITORS]) if m.name == monitor]
    return found.thresholds


def ours(data: BillLikeSet, thresholds: Thresholds) -> tuple[np.ndarray, Counter[str]]:
    """The monitors' detector on the usage series: anomaly flags, and other kinds announced.

    As :func:`tasks.cost.anomaly.detect.detect_anomalies` runs it: month boundaries and US
    holidays as calendar labels, episodes classified; only episodes of kind ``anomaly`` are
    anomaly alerts (step changes and new spend are announced as such, counted apart).
    """
    scored = score_series(data.usage, data.start, thresholds, "US", SCORED_FROM)
    scores, episodes, kinds = scored.scores, scored.episodes, scored.kinds
    flags = scores.anomalous.copy()
    announced: Counter[str] = Counter()
    for i, kind in enumerate(kinds):
        if kind != ANOMALY:
            row, start, end = int(episodes.row[i]), int(episodes.start[i]), int(episodes.end[i])
            flags[row, start : end + 1] = False
            announced[_announced_as(data, row, start, end, str(kind))] += 1
    return flags, announced


def _announced_as(data: BillLikeSet, row: int, start: int, end: int, kind: str) -> str:
    """``step_change: step``: what an announcement said, and what the change really was."""
    if _overlaps_truth(data, row, start, end):
        return f"{kind}: a true anomaly"
    causes = data.cause[row, start : end + 1]
    return f"{kind}: {CAUSES[int(causes.max())]}"


def reference(data: BillLikeSet, thresholds: Thresholds) -> np.ndarray:
    """MSTL (weekly and monthly seasons) with a robust residual threshold, series by series."""
    from statsmodels.tsa.seasonal import MSTL

    values = data.usage
    flags = np.zeros(values.shape, dtype=bool)
    for row, series in enumerate(values):
        if np.ptp(series) == 0:
            continue
        fit = MSTL(series, periods=(7, 30)).fit()
        remainder = np.asarray(fit.resid)
        expected = series - remainder
        for t in range(SCORED_FROM, len(series)):
            past = remainder[t - 30 : t]
            sigma = MAD_SCALE * float(np.median(np.abs(past - np.median(past))))
            sigma = max(sigma, 0.01 * abs(expected[t]), 0.01)
            excess = series[t] - expected[t]
            flags[row, t] = (
                excess / sigma >= thresholds.score
                and excess >= thresholds.min_pct / 100 * expected[t]
                and excess > float(thresholds.min_impact)
            )
    return flags


def run(quick: bool) -> list[Measurement]:
    seeds = range(8 if quick else 30)
    thresholds = shipped_thresholds()
    mine, theirs = Quality(), Quality()
    announced: Counter[str] = Counter()
    for seed in seeds:
        data = make_bill_like(seed)
        flags, other = ours(data, thresholds)
        mine.add(evaluate(flags, data))
        announced.update(other)
        theirs.add(evaluate(reference(data, thresholds), data))
    others = ", ".join(f"{k} {n}" for k, n in sorted(announced.items())) or "none"
    note = (
        f"{len(seeds)} seeds x 40 series x {DAYS} days, shipped thresholds {thresholds}; "
        f"ours: {mine.summary()}; announced apart (kind: what it was): {others} | "
        f"MSTL reference on the same usage series: {theirs.summary()}"
    )

    def row(name: str, unit: str, a: float, b: float, target: float) -> Measurement:
        return Measurement(
            workload=name,
            ours=a,
            reference=b,
            unit=unit,
            ratio=a / b if b else float("inf"),
            target=f">= {target}",
            met=a >= target,
            note=note if unit == "precision" else "",
        )

    return [
        row("anomaly_quality", "precision", mine.precision, theirs.precision, TARGET_PRECISION),
        row("anomaly_quality", "recall", mine.recall, theirs.recall, TARGET_RECALL),
    ]
