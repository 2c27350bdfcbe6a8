"""The intake_memory benchmark runs and reports ours next to its reference."""

from __future__ import annotations

import pytest

from deployments.bench.intake_memory import TARGET_MB, run


@pytest.mark.slow
def test_quick_run_measures_the_intake_and_the_discarding_reference():
    (measurement,) = run(quick=True)
    assert measurement.workload == "intake_memory" and measurement.unit == "MB peak RSS"
    assert measurement.ours > 0 and measurement.reference > 0
    assert measurement.ratio == measurement.reference / measurement.ours
    assert measurement.met == (measurement.ours < TARGET_MB)
