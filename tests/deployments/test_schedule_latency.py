"""deployments/bench/schedule_latency.py: the figures it reports (the run itself is the bench)."""

from __future__ import annotations

import pytest

from deployments.bench.schedule_latency import LatencySample, noop, summarise


def test_medians_are_taken_per_state() -> None:
    samples = [LatencySample(1.0, 3.0, 3.2), LatencySample(0.5, 9.0, 9.5), LatencySample(2, 4, 4)]
    assert summarise(samples) == (1.0, 4.0, 4.0)


def test_no_samples_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="no samples"):
        summarise([])


def test_the_measured_flow_does_nothing_but_return() -> None:
    assert noop.fn() == 1
    assert noop.name == "schedule-latency-noop"
