"""The fulfilment flow on a real Prefect server: nothing personal reaches Prefect."""

from __future__ import annotations

import json

import pytest

from flows.privacy import fulfil_request
from tasks.errors import ServiceUnavailableError
from tasks.privacy.requests import load_request, set_status
from tasks.store import get_engine
from tests.privacy.conftest import ALICE, dsr_services, new_request, stores  # noqa: F401

pytestmark = pytest.mark.engine

NEEDLES = (ALICE["email"], ALICE["phone"], ALICE["phone"].lstrip("+"), "5550001111")


def _prefect_records(flow_run_id) -> str:
    """Everything Prefect holds about a flow run, as one searchable text."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    assert logs, "the flow logged nothing: the search would prove nothing"
    parts = [run.model_dump_json()]
    parts += [log.model_dump_json() for log in logs]
    parts += [a.model_dump_json() for a in artifacts]
    parts += [t.model_dump_json() for t in task_runs]
    return "\n".join(parts)


def test_no_personal_data_in_parameters_logs_artifacts_or_errors(
    prefect_server,
    stores,  # noqa: F811
    monkeypatch,
):
    from tasks.privacy import tasks

    for name in ("plan_request", "apply_to_datastore", "verify_outcome"):
        monkeypatch.setattr(getattr(tasks, name), "retry_delay_seconds", [0, 0, 0])
    engine = get_engine()
    request_id = new_request(
        engine, "erasure", identities={"email": ALICE["email"], "phone": ALICE["phone"]}
    )
    state = fulfil_request(request_id, return_state=True)
    assert state.is_completed(), state.message
    result = state.result()
    assert result["records"] > 0 and load_request(engine, request_id).status == "completed"
    text = _prefect_records(state.state_details.flow_run_id)
    assert request_id in text and "rows done on" in text
    for needle in NEEDLES:
        assert needle not in text
    assert json.dumps(result).find("alice") == -1

    # a failing run: the datastore is down; the request waits, the run fails, nothing leaks
    bob = {"email": "bob@example.com", "phone": "+15550002222"}
    failing = new_request(engine, "erasure", identities=bob)
    import os

    from tasks.local_server import free_port

    saved = os.environ["DSR_TEST_REDIS_URL"]
    os.environ["DSR_TEST_REDIS_URL"] = f"redis://127.0.0.1:{free_port('127.0.0.1')}/0"
    try:
        state = fulfil_request.with_options(retries=0)(failing, return_state=True)
    finally:
        os.environ["DSR_TEST_REDIS_URL"] = saved
    assert state.is_failed()
    with pytest.raises(ServiceUnavailableError) as info:
        state.result()
    assert load_request(engine, failing).status == "waiting"
    text = _prefect_records(state.state_details.flow_run_id) + str(info.value) + repr(info.value)
    assert "'cache' is unavailable" in text
    for needle in (*bob.values(), "5550002222"):
        assert needle not in text


def test_scheduled_flows_enforce_retention_and_watch_deadlines(
    prefect_server,
    stores,  # noqa: F811
    monkeypatch,
):
    from flows.privacy import enforce_retention, watch_deadlines
    from tasks.privacy.audit import entries_for

    monkeypatch.setenv("TRACEO_DSR_IDENTITY_KEY", "identity-key-0123456789")
    monkeypatch.setenv("TRACEO_DSR_IDENTITY_RETENTION_DAYS", "0")
    closed = new_request(get_engine(), "erasure")
    set_status(get_engine(), closed, "completed")
    assert enforce_retention() == {
        "pg": {"marketing_events": 2},
        "dsr_requests": {"identities_forgotten": 1, "bundles_removed": 0},
        "intake_deliveries": {"deliveries": 0},
    }
    assert load_request(get_engine(), closed).identities == {}
    steps = [e.step for e in entries_for(get_engine(), "retention")]
    assert steps == ["retention", "prune_deliveries"]
    new_request(get_engine(), "access")  # due in a month: nothing to alert
    counts = watch_deadlines(warn_days=7)
    assert counts == {"due-soon": 0, "overdue": 0, "sent": 0, "already_sent": 0}


def test_a_retried_retention_run_reuses_the_purges_that_completed(prefect_server, monkeypatch):
    from flows.privacy import enforce_retention
    from tasks.errors import ConfigurationError
    from tasks.privacy import config, datastores, retention
    from tests.retrying import retry_flow_run

    purged: list[str] = []

    def purge(engine, datamap, name, store, now, actor):  # type: ignore[no-untyped-def]
        purged.append(name)
        if name == "mysql" and purged.count("mysql") == 1:
            raise ConfigurationError("block mysql-credentials/shop is not saved")
        return {f"{name}_events": 1}

    monkeypatch.setenv("TRACEO_DSR_IDENTITY_KEY", "identity-key-0123456789")
    monkeypatch.setattr(config, "resolve_datamap", lambda: None)
    monkeypatch.setattr(retention, "retention_datastores", lambda datamap: ["pg", "mysql"])
    monkeypatch.setattr(datastores, "open_datastore", lambda datamap, name: name)
    monkeypatch.setattr(retention, "enforce_datastore", purge)
    failed = enforce_retention(return_state=True)
    assert failed.is_failed() and sorted(purged) == ["mysql", "pg"]

    retried = retry_flow_run(enforce_retention, failed.state_details.flow_run_id)
    assert retried.is_completed(), retried.message
    assert sorted(purged) == ["mysql", "mysql", "pg"]  # pg's purge was reused, not run again
    assert retried.result() == {
        "pg": {"pg_events": 1},
        "mysql": {"mysql_events": 1},
        "dsr_requests": {"identities_forgotten": 0, "bundles_removed": 0},
        "intake_deliveries": {"deliveries": 0},
    }
