"""The prometheus_sli benchmark loads Prometheus with the very events its reference evaluates."""

from __future__ import annotations

import numpy as np

from deployments.bench import WORKLOADS
from deployments.bench.prometheus_sli import SLOT, _events, _series, _slos, _traffic


def test_the_counters_and_the_reference_events_hold_the_same_requests() -> None:
    total, bad = _traffic(10, 48)
    series = _series(total, bad, first=0)
    events = _events(total, bad, first=0)

    for i, e in enumerate(events):
        ok, errors = series[2 * i][3], series[2 * i + 1][3]
        weights = e.weights()
        assert np.diff(ok).sum() == weights[e.good].sum()
        assert np.diff(errors).sum() == weights[~e.good].sum()
    assert bad[0, -12:].sum() > 0  # every fifth SLO has an outage
    assert len(_slos(3)) == 3 and _slos(1)[0].slot_seconds == SLOT
    assert WORKLOADS["prometheus_sli"] == "deployments.bench.prometheus_sli"
