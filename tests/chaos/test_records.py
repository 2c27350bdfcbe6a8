"""The chaos journal in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from tasks.chaos.drivers.base import FaultHandle, Verification
from tasks.chaos.records import (
    create_run,
    finish_if_running,
    finish_run,
    last_experiment,
    last_runs,
    mark_removed,
    open_faults,
    record_check_results,
    record_fault,
    run_faults,
    runs_of_flow_run,
    service_resilience,
)
from tasks.probes.http import ProbeResult


def test_fault_handles_stay_open_until_removed_and_verified_clean(store_engine):
    create_run(store_engine, "r1", "latency", "e.yaml", "shop-api", flow_run_id="fr-1")
    handle = FaultHandle("proxy", "shop", {"toxic": "t1", "api_url": "http://x"})
    first = record_fault(store_engine, "r1", handle)
    second = record_fault(store_engine, "r1", FaultHandle("proxy", "cart", {"toxic": "t2"}))

    assert [f.handle for f in open_faults(store_engine, "r1")] == [
        handle,
        FaultHandle("proxy", "cart", {"toxic": "t2"}),
    ]
    mark_removed(store_engine, first, Verification(True, "clean"))
    mark_removed(store_engine, second, Verification(False, "still slow"))

    assert [f.id for f in open_faults(store_engine)] == [second]
    faults = run_faults(store_engine, "r1")
    assert [(f["verified_clean"], f["verification"]) for f in faults] == [
        (True, "clean"),
        (False, "still slow"),
    ]
    assert runs_of_flow_run(store_engine, "fr-1") == ["r1"]


def test_check_results_of_a_run_are_recorded_once_per_slot(store_engine):
    create_run(store_engine, "r2", "t", "e.yaml", "shop-api")
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    result = ProbeResult("shop-health", "chaos", at, at, "pass", 12.0, 200, None, None, 1, {}, None)
    assert record_check_results(store_engine, "r2", [result]) == 1
    assert record_check_results(store_engine, "r2", [result]) == 0


def test_last_experiment_score_and_interrupted_runs(store_engine):
    for run_id, file, verdict, success, weight in [
        ("a1", "a.yaml", "failed", 0.5, 1),
        ("a2", "a.yaml", "passed", 1.0, 1),  # the latest run of a.yaml counts
        ("b1", "b.yaml", "aborted", 0.25, 3),
    ]:
        create_run(store_engine, run_id, f"exp {file}", file, "shop-api", weight=weight)
        finish_run(
            store_engine,
            run_id,
            status="completed",
            verdict=verdict,
            probe_success=success,
            reason=f"{verdict} run",
        )
    create_run(store_engine, "c1", "still running", "c.yaml", "shop-api")

    last = last_experiment(store_engine, "shop-api")
    assert last is not None and (last.title, last.verdict) == ("exp b.yaml", "aborted")
    assert [r.run_id for r in last_runs(store_engine, "shop-api")] == ["b1", "a2"]
    # (1 x 100 + 3 x 25) / 4
    assert service_resilience(store_engine, "shop-api") == 43.75
    assert last_experiment(store_engine, "other") is None

    finish_if_running(store_engine, "c1", "cancelled")
    finish_if_running(store_engine, "a2", "cancelled")  # finished runs are left alone
    assert last_experiment(store_engine, "shop-api").verdict == "aborted"  # type: ignore[union-attr]
    assert [r.verdict for r in last_runs(store_engine, "shop-api")] == [
        "aborted",
        "aborted",
        "passed",
    ]
