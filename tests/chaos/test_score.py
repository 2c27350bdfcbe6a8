"""Verdicts, probe success and the resilience score (Litmus's weighted formula)."""

from __future__ import annotations

import pytest

from tasks.chaos.score import probe_success, resilience_score, verdict


def _state(*met: bool) -> dict:
    return {"steady_state_met": all(met), "probes": [{"tolerance_met": m} for m in met]}


def _journal(status="completed", deviated=False, before=None, during=(), after=None) -> dict:
    return {
        "status": status,
        "deviated": deviated,
        "steady_states": {"before": before, "during": list(during), "after": after},
    }


@pytest.mark.parametrize(
    ("journal", "reason", "expected"),
    [
        (_journal(before=_state(True), after=_state(True)), None, "passed"),
        (_journal(before=_state(True), after=_state(False), deviated=True), None, "failed"),
        (_journal(before=_state(False)), None, "failed"),
        (_journal(status="failed", before=_state(True)), None, "failed"),
        (_journal(status="aborted", before=_state(True)), None, "aborted"),
        (_journal(status="interrupted"), None, "aborted"),
        (_journal(before=_state(True)), "check failed 3 times in a row", "aborted"),
    ],
)
def test_verdict(journal, reason, expected):
    judged, why = verdict(journal, reason)
    assert judged == expected and why


def test_probe_success_counts_every_evaluation_and_a_trip_as_a_failure():
    journal = _journal(before=_state(True, True), during=[_state(True, False)], after=None)
    assert probe_success(journal) == pytest.approx(3 / 4)
    assert probe_success(journal, tripped=True) == pytest.approx(3 / 5)
    assert probe_success(_journal()) is None


def test_resilience_score_is_the_weighted_mean_of_probe_success():
    # (2 x 100% + 1 x 50% + 1 x 0%) / 4 = 62.5
    assert resilience_score([(2, 1.0), (1, 0.5), (1, 0.0)]) == 62.5
    assert resilience_score([(3, 0.8), (1, None)]) == 80.0
    assert resilience_score([]) is None
