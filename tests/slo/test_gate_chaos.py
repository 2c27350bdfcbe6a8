"""The release gate can require that the service's last chaos experiment passed."""

from __future__ import annotations

from datetime import UTC, datetime

from tasks.slo.gate import ExperimentResult, decide_gate
from tests.slo.test_gate import report

PASSED = ExperimentResult("100 ms latency", "passed", datetime(2026, 12, 4, 12, 0, tzinfo=UTC))
ABORTED = ExperimentResult("2 s latency", "aborted", None, "check failed 2 times in a row")


def test_gate_ignores_experiments_unless_required():
    assert decide_gate([report()], "shop-api", last_experiment=ABORTED).passed


def test_gate_passes_when_the_last_experiment_passed():
    decision = decide_gate([report()], "shop-api", require_experiment=True, last_experiment=PASSED)
    assert decision.passed
    assert (
        decision.reasons[-1]
        == "last chaos experiment '100 ms latency' at 2026-12-04 12:00 UTC passed"
    )


def test_gate_blocks_on_an_aborted_or_missing_experiment():
    aborted = decide_gate([report()], "shop-api", require_experiment=True, last_experiment=ABORTED)
    assert not aborted.passed
    assert aborted.reasons == [
        "last chaos experiment '2 s latency' aborted: check failed 2 times in a row"
    ]
    missing = decide_gate([report()], "shop-api", require_experiment=True)
    assert missing.reasons == ["no chaos experiment has run for service 'shop-api'"]
