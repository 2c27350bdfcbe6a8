"""The intake_throughput benchmark runs and reports ours next to its reference."""

from __future__ import annotations

import pytest

from deployments.bench.intake_throughput import TARGET_PER_S, TARGET_RATIO, run


@pytest.mark.slow
def test_quick_run_measures_signed_webhooks_and_a_bare_app_on_the_same_stack():
    (measurement,) = run(quick=True)
    assert measurement.workload == "intake_throughput" and measurement.unit == "req/s"
    assert measurement.ours > 0 and measurement.reference > 0
    assert measurement.ratio == measurement.ours / measurement.reference
    assert measurement.met == (
        measurement.ours >= TARGET_PER_S and measurement.ratio >= TARGET_RATIO
    )
