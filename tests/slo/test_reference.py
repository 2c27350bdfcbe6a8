"""The vectorised engine against the straightforward pandas reference of the benchmark."""

from __future__ import annotations

import pytest

from deployments.bench.slo_evaluation import NOW, make_workload, reference_verdicts
from tasks.slo.evaluate import evaluate_slos


def test_engine_verdicts_match_pandas_rolling_windows():
    slos, events = make_workload(25)  # one full cycle of scenarios
    reports = evaluate_slos(slos, events, NOW)
    firing_anywhere = 0
    for slo, ev, report in zip(slos, events, reports, strict=True):
        expected = reference_verdicts(slo, ev, NOW)
        assert {a.key: a.firing for a in report.alerts} == expected.firing, slo.id
        assert report.sli == pytest.approx(expected.sli, abs=1e-9)
        firing_anywhere += any(expected.firing.values())
    assert 0 < firing_anywhere < len(slos)  # the workload mixes quiet and alerting SLOs
    keys = {a.key for r in reports for a in r.alerts if a.firing}
    assert {"page:1h/5m", "page:6h/30m", "ticket:1d/2h", "ticket:3d/6h", "no-data"} <= keys
