"""Detection quality on generated seasonal series, and agreement with the pandas reference.

The series (see :func:`deployments.bench.anomaly_scoring.make_series`) have a level between 50
and 8,000 a day, a weekday profile with weekends at 55-100%, a trend of up to +-10% a month and
multiplicative noise with a coefficient of variation of 1-4%, as daily cost aggregated per
service or account typically has. Measured figures are printed (``pytest -s``).
"""

from __future__ import annotations

import numpy as np

from deployments.bench.anomaly_scoring import make_series, reference_flags
from tasks.cost.anomaly.scoring import MIN_HISTORY_DAYS, score_matrix


def test_recall_of_spikes_of_30_percent_or_more_is_at_least_95_percent():
    work = make_series(3_000, 90, seed=11, spiky_share=0.5, spike_size=(0.3, 1.0))
    flags = score_matrix(work.values, min_impact=10).anomalous
    recall = (flags & work.spikes).sum() / work.spikes.sum()
    smallest = work.spikes & (work.magnitude < 0.4)
    recall_small = (flags & smallest).sum() / smallest.sum()
    print(
        f"\nrecall {recall:.4f} of {int(work.spikes.sum())} spike days (+30% to +100%); "
        f"{recall_small:.4f} of {int(smallest.sum())} spike days of +30% to +40%"
    )
    assert recall >= 0.95
    assert recall_small >= 0.90


def test_pure_seasonal_noise_gives_at_most_one_false_positive_per_1000_series_days():
    work = make_series(5_000, 120, seed=12, spiky_share=0.0)
    flags = score_matrix(work.values, min_impact=10).anomalous
    scored = flags[:, MIN_HISTORY_DAYS:]
    rate = 1000 * scored.sum() / scored.size
    found = int(scored.sum())
    print(f"\n{found} false positives in {scored.size:,} series-days: {rate:.3f} per 1,000")
    assert rate <= 1.0


def test_vectorised_scoring_flags_exactly_the_days_the_pandas_reference_flags():
    work = make_series(150, 90, seed=14, spiky_share=0.5)
    # add sparse and stepped series: zero days, weekday-only cost, new spend, a level shift
    extra = np.zeros((4, 90))
    extra[0, ::7] = 300.0
    extra[1] = np.where(np.arange(90) % 7 < 5, 120.0, 0.0) * (1 + 0.02 * np.sin(np.arange(90)))
    extra[2, 60:] = 80.0
    extra[3] = 500.0 + 10 * np.cos(np.arange(90))
    extra[3, 50:] *= 1.6
    values = np.vstack([work.values, extra])
    ours = score_matrix(values, min_impact=10).anomalous
    reference = np.stack([reference_flags(v) for v in values])
    assert reference.sum() > 50
    np.testing.assert_array_equal(ours, reference)
