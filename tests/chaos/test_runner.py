"""Running experiments end to end: hypotheses, the safeguard, and rollback whatever happens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tasks.chaos.experiment import load_experiment
from tasks.chaos.records import open_faults
from tasks.chaos.runner import ChaosRefusedError, execute
from tasks.store import get_engine, session_scope
from tasks.store.chaos_models import ChaosRun
from tests.chaos.experiments import (
    SLO,
    document,
    hold,
    inject,
    probe,
    proxied_fixture,  # noqa: F401 - fixture
    python,
    specs_fixture,  # noqa: F401 - fixture
    toxics,
    write,
)
from tests.chaos.helpers import Stop

HEALTHY = [
    probe("health-passes", True, "check_passing", check="shop-health", within_seconds=10),
    probe(
        "fast",
        {"type": "range", "range": [0, 200]},
        "check_latency_percentile",
        check="shop-products-list",
        percentile=95,
        last_seconds=1,
    ),
]


def _run(specs, tmp_path, **kwargs):
    return execute(load_experiment(write(tmp_path / "exp.yaml", document(specs, **kwargs))))


def _stored(run_id: str) -> ChaosRun:
    with session_scope(get_engine()) as session:
        return session.scalars(select(ChaosRun).where(ChaosRun.run_id == run_id)).one()


def test_small_fault_passes_with_hypotheses_before_and_after(specs, proxied, tmp_path):
    outcome = _run(specs, tmp_path, method=[inject(20), hold(0.6)], probes=HEALTHY)

    assert outcome.verdict == "passed" and outcome.status == "completed"
    states = outcome.journal["steady_states"]
    assert states["before"]["steady_state_met"] and states["after"]["steady_state_met"]
    assert [a["name"] for a in outcome.journal["run"]] == ["add-latency", "hold"]
    assert [a["name"] for a in outcome.journal["rollbacks"]] == ["remove"]
    assert outcome.faults and outcome.clean and toxics(proxied) == []
    row = _stored(outcome.run_id)
    assert (row.status, row.verdict, row.probe_success) == ("completed", "passed", 1.0)
    assert row.ended_at is not None and row.activities["run"][1]["duration"] >= 0.6


def test_deviation_after_the_method_fails_the_run_and_still_rolls_back(specs, proxied, tmp_path):
    outcome = _run(specs, tmp_path, method=[inject(300), hold(1.0)], probes=HEALTHY)

    assert outcome.verdict == "failed" and outcome.deviated
    assert not outcome.journal["steady_states"]["after"]["steady_state_met"]
    assert outcome.clean and toxics(proxied) == []


def test_steady_state_not_met_before_means_failed_and_nothing_injected(
    specs, proxied, shop, tmp_path
):
    shop.set_faults(error_rate=1.0)
    outcome = _run(specs, tmp_path, method=[inject(20), hold(0.2)], probes=HEALTHY)

    assert outcome.verdict == "failed"
    assert "before the method" in outcome.reason
    assert outcome.faults == [] and outcome.journal["run"] == []


def test_safeguard_aborts_on_consecutive_failed_checks(specs, proxied, tmp_path):
    outcome = _run(
        specs,
        tmp_path,
        method=[inject(300), hold(20)],
        probes=HEALTHY,
        safeguard={"max_consecutive_failures": 2},
    )

    assert outcome.verdict == "aborted" and outcome.status == "aborted"
    assert outcome.reason == "check shop-health failed 2 times in a row"
    held = outcome.journal["run"][1]
    assert held["output"]["aborted"] and held["output"]["held_seconds"] < 20  # cut short
    assert outcome.journal["steady_states"]["after"] is None  # Chaos Toolkit skips it
    assert outcome.clean and toxics(proxied) == []
    assert _stored(outcome.run_id).verdict == "aborted"


def test_safeguard_aborts_when_the_slo_burns_over_the_limit(specs, proxied, tmp_path):
    outcome = _run(
        specs,
        tmp_path,
        method=[inject(300), hold(20)],
        probes=HEALTHY,
        safeguard={"slo": SLO, "window_seconds": 2, "max_burn_rate": 5},
    )

    assert outcome.verdict == "aborted"
    assert outcome.reason.startswith(f"SLO {SLO} burns at")
    assert outcome.clean and toxics(proxied) == []


def test_continuous_hypothesis_aborts_mid_method(specs, proxied, tmp_path):
    outcome = _run(
        specs,
        tmp_path,
        method=[inject(300), hold(20)],
        probes=HEALTHY,
        hypothesis={"strategy": "continuous", "frequency_seconds": 0.3, "fail_fast": True},
    )

    assert outcome.verdict == "aborted"
    assert outcome.reason == "the steady state deviated during the method"
    assert outcome.journal["steady_states"]["during"]
    assert outcome.journal["run"][1]["output"]["held_seconds"] < 20  # cut short
    assert outcome.clean and toxics(proxied) == []


def test_interrupted_method_is_rolled_back_even_when_rollbacks_are_skipped(
    specs, proxied, tmp_path
):
    # Chaos Toolkit's "default" strategy plays no rollback for an interrupted run.
    interrupt = {
        "type": "action",
        "name": "boom",
        "provider": python("tests.chaos.helpers", "interrupt"),
    }
    outcome = _run(specs, tmp_path, method=[inject(50), interrupt], rollback_strategy="default")

    assert outcome.status == "interrupted" and outcome.verdict == "aborted"
    assert outcome.journal["rollbacks"] == []
    assert [r["clean"] for r in outcome.journal["safety_net"]] == [True]
    assert outcome.clean and toxics(proxied) == []


def test_exception_in_an_action_still_rolls_back(specs, proxied, tmp_path):
    crash = {"type": "action", "name": "crash", "provider": python("tests.chaos.helpers", "crash")}
    outcome = _run(specs, tmp_path, method=[inject(50), crash], probes=HEALTHY)

    assert outcome.journal["run"][1]["status"] == "failed"
    assert outcome.clean and toxics(proxied) == []


def test_a_signal_escaping_chaostoolkit_rolls_back_records_and_reraises(specs, proxied, tmp_path):
    stop = {"type": "action", "name": "stop", "provider": python("tests.chaos.helpers", "stop")}
    loaded = load_experiment(write(tmp_path / "e.yaml", document(specs, method=[inject(50), stop])))

    with pytest.raises(Stop):
        execute(loaded, run_id="run-stopped")

    assert toxics(proxied) == []
    assert open_faults(get_engine(), "run-stopped") == []
    row = _stored("run-stopped")
    assert (row.status, row.verdict) == ("interrupted", "aborted")


def test_preflight_refuses_when_the_slo_already_burns(specs, proxied, tmp_path):
    from tasks.store.check_results import upsert_check_results

    now = datetime.now(UTC)
    slow = [
        {
            "check_id": "shop-products-list",
            "region": "eu-west-1",
            "verdict": "pass",
            "scheduled_at": now - timedelta(seconds=s),
            "started_at": now - timedelta(seconds=s),
            "duration_ms": 900.0,
        }
        for s in range(5, 60, 5)
    ]
    upsert_check_results(get_engine(), slow)
    path = write(
        tmp_path / "e.yaml",
        document(
            specs,
            method=[inject(50)],
            preflight={"slo": SLO, "window_seconds": 120, "max_burn_rate": 2},
        ),
    )

    with pytest.raises(ChaosRefusedError, match=r"already burns at 20\.0x"):
        execute(load_experiment(path))

    assert toxics(proxied) == []
    with session_scope(get_engine()) as session:
        assert session.scalars(select(ChaosRun)).all() == []


def test_continuous_results_stay_out_of_check_results_unless_counted(specs, proxied, tmp_path):
    from tasks.store import CheckResult
    from tasks.store.chaos_models import ChaosCheckResult

    kept_apart = _run(specs, tmp_path, method=[inject(5), hold(0.3)])
    with session_scope(get_engine()) as session:
        assert session.scalars(select(CheckResult)).all() == []
        tagged = session.scalars(select(ChaosCheckResult)).all()
        assert tagged and {r.run_id for r in tagged} == {kept_apart.run_id}

    counted = _run(specs, tmp_path, method=[inject(5), hold(0.3)], count_in_slo=True)
    with session_scope(get_engine()) as session:
        rows = session.scalars(select(CheckResult)).all()
        assert rows and {r.detail["chaos_run_id"] for r in rows} == {counted.run_id}
        assert {r.region for r in rows} == {"chaos"}
