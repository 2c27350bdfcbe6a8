"""The bill-like series behind the anomaly_quality benchmark: seeded, labelled, above floors."""

from __future__ import annotations

import numpy as np

from infra.sandbox.bill_like import CAUSES, make_bill_like


def test_a_seed_gives_the_same_set_and_another_seed_another() -> None:
    a, b, c = make_bill_like(5), make_bill_like(5), make_bill_like(6)
    np.testing.assert_array_equal(a.usage, b.usage)
    assert a.truth == b.truth
    assert not np.array_equal(a.usage, c.usage)


def test_fees_fall_on_the_first_and_every_pattern_appears_across_seeds() -> None:
    seen: set[str] = set()
    kinds: set[str] = set()
    for seed in range(10):
        data = make_bill_like(seed)
        fee_days = {data.day(int(c)).day for c in np.flatnonzero(data.fees.any(axis=0))}
        assert fee_days <= {1}
        seen |= {CAUSES[int(c)] for c in np.unique(data.cause)}
        kinds |= {a.kind for a in data.truth}
    assert seen == set(CAUSES)
    assert kinds == {"spike", "leak"}


def test_true_anomalies_come_after_the_history_and_clear_the_money_floor() -> None:
    data = make_bill_like(11, min_excess=30.0)
    assert data.truth
    for anomaly in data.truth:
        assert 70 <= anomaly.start <= anomaly.end < data.usage.shape[1]
        before = data.usage[anomaly.row, anomaly.start - 7]  # the same weekday, a week before
        assert data.usage[anomaly.row, anomaly.start] - before > 20.0  # floor 30, less noise
