"""The Prefect-facing pieces, without a server: hooks that roll back, the report artifacts."""

from __future__ import annotations

from types import SimpleNamespace

from tasks.chaos.drivers.proxy import ProxyDriver
from tasks.chaos.records import create_run, open_faults, record_fault, run_faults
from tasks.chaos.runner import RunOutcome
from tasks.chaos.tasks import rollback_after_crash, rollback_flow_run, summary_markdown
from tasks.store import get_engine, session_scope
from tasks.store.chaos_models import ChaosRun
from tests.chaos.experiments import (  # noqa: F401 - fixtures
    document,
    inject,
    proxied_fixture,
    specs_fixture,
    toxics,
    write,
)


def _inject_for_flow_run(proxied, flow_run_id: str) -> str:
    engine = get_engine()
    create_run(engine, f"run-{flow_run_id}", "t", "e.yaml", "shop-api", flow_run_id=flow_run_id)
    driver = ProxyDriver(proxied["CHAOS_PROXY_API"])
    fault = {"target": proxied["CHAOS_PROXY_NAME"], "type": "latency", "attributes": {"latency": 9}}
    record_fault(engine, f"run-{flow_run_id}", driver.inject(fault))
    assert toxics(proxied)
    return f"run-{flow_run_id}"


def test_hook_rolls_back_what_a_crashed_flow_run_left(specs, proxied, tmp_path):
    path = write(tmp_path / "e.yaml", document(specs, method=[inject(9)]))
    run_id = _inject_for_flow_run(proxied, "fr-crashed")
    flow_run = SimpleNamespace(id="fr-crashed", parameters={"experiment_path": str(path)})

    rollback_after_crash(None, flow_run, None)

    assert toxics(proxied) == [] and open_faults(get_engine()) == []
    assert run_faults(get_engine(), run_id)[0]["verified_clean"] is True
    with session_scope(get_engine()) as session:
        row = session.query(ChaosRun).filter_by(run_id=run_id).one()
        assert (row.status, row.verdict) == ("interrupted", "aborted")
    assert rollback_flow_run("fr-crashed", str(path)) == []  # a second pass finds nothing


def test_rollback_uses_the_handles_when_the_experiment_file_is_gone(proxied, tmp_path):
    _inject_for_flow_run(proxied, "fr-lost")

    done = rollback_flow_run("fr-lost", str(tmp_path / "deleted.yaml"))

    assert [d["clean"] for d in done] == [True]
    assert toxics(proxied) == [] and open_faults(get_engine()) == []


def test_summary_markdown_shows_verdict_states_and_verification():
    outcome = RunOutcome(
        "r", "100 ms", "shop-api", "completed", False, "passed", "held", 1.0,
        [{"driver": "proxy", "target": "shop", "verified_clean": True,
          "verification": "GET /health: 200 in 3 ms"}],
        {"steady_states": {"before": {"steady_state_met": True, "probes": [
            {"tolerance_met": True}]}, "during": [], "after": None}},
    )  # fmt: skip
    text = summary_markdown(outcome)
    assert text.startswith("# Chaos experiment: PASSED")
    assert "- before: met (1/1 probes within tolerance)" in text
    assert "- after: not run" in text
    assert "proxy:shop: verified clean (GET /health: 200 in 3 ms)" in text
