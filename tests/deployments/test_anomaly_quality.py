"""Episode scoring of the anomaly_quality benchmark, and the shipped monitors on its data."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np

from deployments.bench.anomaly_quality import (
    Quality,
    evaluate,
    flag_episodes,
    ours,
    shipped_thresholds,
)
from infra.sandbox.bill_like import CAUSES, BillLikeSet, TrueAnomaly, make_bill_like


def _toy() -> BillLikeSet:
    usage = np.ones((2, 100))
    cause = np.zeros((2, 100), dtype=np.int8)
    cause[1, 90] = CAUSES.index("month_end")
    truth = (TrueAnomaly(0, 70, 72, "spike", 1.0), TrueAnomaly(1, 80, 80, "leak", 0.5))
    return BillLikeSet(
        start=date(2025, 1, 1),
        usage=usage,
        fees=np.zeros_like(usage),
        truth=truth,
        cause=cause,
        holidays=np.zeros(100, dtype=bool),
    )


def test_flag_runs_become_episodes() -> None:
    flags = np.zeros((2, 10), dtype=bool)
    flags[0, 2:4] = flags[1, 0] = flags[1, 9] = True
    assert flag_episodes(flags) == [(0, 2, 3), (1, 0, 0), (1, 9, 9)]


def test_episodes_are_scored_against_the_truth_and_false_alarms_blamed() -> None:
    data = _toy()
    flags = np.zeros((2, 100), dtype=bool)
    flags[0, 71:74] = True  # found: within a day of its start, one true episode
    flags[1, 90] = True  # a false alarm on a month end
    flags[1, 95] = True  # a false alarm on an ordinary day
    flags[0, 10] = True  # history: not scored
    quality = evaluate(flags, data, scored_from=64)
    assert (quality.found, quality.true_anomalies) == (1, 2)
    assert quality.missed_by_kind == Counter({"leak": 1})
    assert (quality.true_episodes, quality.episodes) == (1, 3)
    assert quality.false_by_cause == Counter({"month_end": 1, "noise": 1})
    assert quality.precision == 1 / 3 and quality.recall == 0.5
    late = np.zeros((2, 100), dtype=bool)
    late[0, 72] = True  # two days after the start: too late to count as found
    assert evaluate(late, data, scored_from=64).found == 0


def test_the_shipped_monitors_keep_precision_and_recall_on_bill_like_data() -> None:
    thresholds = shipped_thresholds()
    total = Quality()
    for seed in range(4):
        data = make_bill_like(seed)
        flags, _ = ours(data, thresholds)
        total.add(evaluate(flags, data))
    # deterministic data and detector: a regression in either shows here (the benchmark
    # reports the same figures over 30 seeds)
    assert total.precision >= 0.75, total.summary()
    assert total.recall >= 0.9, total.summary()
    assert total.false_by_cause["month_end"] + total.false_by_cause["fee"] <= 8
