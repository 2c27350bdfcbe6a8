"""Every entrypoint in deployments/prefect.yaml imports as a Flow set up like every Traceo flow.

Reads the file, so a deployment added there is covered without touching this test. Each flow
must: be a ``prefect.Flow`` with a parameter schema its deployment's parameters fit, persist its
results (``**rerunnable()``, tasks/results.py: a retry re-runs only what failed) unless it must
rerun whole, and report its failures (``on_failure=[report_failure]``, tasks/failure.py). No
entrypoint is skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())["deployments"]
ENTRYPOINTS = sorted({d["entrypoint"] for d in DEPLOYMENTS})

# Every job of the suite has a deployment: a flow missing from prefect.yaml is a failure here.
# One style for every name a user types or reads in the UI: lowercase words joined by dashes.
KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")

EXPECTED = {
    "flows/synthetic.py:synthetic_probes",
    "flows/slo.py:evaluate_slos",
    "flows/cost.py:ingest_costs",
    "flows/cost.py:detect_cost_anomalies",
    "flows/chargeback.py:run_chargeback",
    "flows/privacy.py:fulfil_request",
    "flows/privacy.py:watch_deadlines",
    "flows/privacy.py:enforce_retention",
    "flows/store.py:enforce_store_retention",
    "flows/drift.py:materialize_features",
    "flows/drift.py:monitor_drift",
    "flows/drift.py:retrain_model",
    "flows/chaos.py:run_experiment",
}


# Required parameters a deployment leaves to each run: whoever starts it supplies them (the
# intake passes the request id; a run without one is refused by the schema, not run).
PER_RUN = {"fulfil-data-subject-request": {"request_id"}}

# Flows whose retry must run every task again, and why.
WHOLE_RERUN = {
    # Reusing a completed "inject the fault" step would verify the SLO with no fault injected.
    "flows/chaos.py:run_experiment": "an experiment injects, verifies and rolls back as one",
}


def _load(entrypoint: str):  # type: ignore[no-untyped-def]
    from prefect.flows import load_flow_from_entrypoint

    path, func = entrypoint.split(":")
    return load_flow_from_entrypoint(f"{ROOT / path}:{func}")


def test_every_job_of_the_suite_is_deployed() -> None:
    assert set(ENTRYPOINTS) == EXPECTED


@pytest.mark.parametrize("entrypoint", ENTRYPOINTS)
def test_entrypoint_is_a_flow_with_a_parameter_schema(entrypoint: str) -> None:
    from prefect import Flow

    flow = _load(entrypoint)
    assert isinstance(flow, Flow), f"{entrypoint} is {type(flow).__name__}, not a Flow"
    schema = flow.parameters
    assert schema.type == "object"
    for deployment in (d for d in DEPLOYMENTS if d["entrypoint"] == entrypoint):
        given = set(deployment.get("parameters") or {})
        assert given <= set(schema.properties), (deployment["name"], given, schema.properties)
        supplied = given | PER_RUN.get(deployment["name"], set())
        assert set(schema.required or []) <= supplied, (deployment["name"], schema.required)


@pytest.mark.parametrize("entrypoint", ENTRYPOINTS)
def test_entrypoint_persists_results_and_reports_failures(entrypoint: str) -> None:
    from tasks.failure import report_failure

    flow = _load(entrypoint)
    if entrypoint in WHOLE_RERUN:
        assert not flow.persist_result, f"{entrypoint}: {WHOLE_RERUN[entrypoint]}"
    else:
        assert flow.persist_result is True, f"{entrypoint}: add **rerunnable() to its @flow"
        assert flow.result_storage is not None, f"{entrypoint}: add **rerunnable() to its @flow"
    assert report_failure in flow.on_failure_hooks, (
        f"{entrypoint}: add on_failure=[report_failure] to its @flow"
    )


def test_flow_and_deployment_names_are_lowercase_words_joined_by_dashes() -> None:
    flows = {entrypoint: _load(entrypoint).name for entrypoint in ENTRYPOINTS}
    deployments = [d["name"] for d in DEPLOYMENTS]
    misnamed = [n for n in [*flows.values(), *deployments] if not KEBAB.fullmatch(n)]
    assert not misnamed, f"rename to lowercase-with-dashes: {misnamed}"
    assert len(set(flows.values())) == len(flows), flows
    assert len(set(deployments)) == len(deployments)
