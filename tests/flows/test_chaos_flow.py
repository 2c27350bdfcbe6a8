"""The run_experiment flow on a real Prefect API: a run with artifacts, and a cancelled run.

The cancellation test serves the flow with a Prefect ``Runner`` (the flow run executes in a
child process, as in production), cancels it through the API while the fault is in place, and
checks the fault is gone: removed by the run's own ``finally`` on Prefect's SIGTERM, or by the
flow's on_cancellation hook when the process died first.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.chaos import run_experiment
from tasks.chaos.records import open_faults, runs_of_flow_run
from tasks.store import get_engine, session_scope
from tasks.store.chaos_models import ChaosRun
from tests.chaos.experiments import (  # noqa: F401 - fixtures
    document,
    hold,
    inject,
    probe,
    proxied_fixture,
    specs_fixture,
    toxics,
    write,
)

pytestmark = pytest.mark.engine


@pytest.fixture
def fault_proxy():
    from tasks.chaos import FaultProxyServer

    with FaultProxyServer() as server:
        yield server


@pytest.fixture
def shop():
    from infra.sandbox.sample_service.server import SampleService

    with SampleService() as service:
        yield service


def _experiment(specs: Path, tmp_path: Path, seconds: float) -> Path:
    probes = [probe("health", True, "check_passing", check="shop-health", within_seconds=10)]
    doc = document(
        specs, method=[inject(50), hold(seconds)], probes=probes, max_duration_seconds=300
    )
    return write(tmp_path / "experiment.yaml", doc)


def _run_row(flow_run_id: str) -> ChaosRun:
    with session_scope(get_engine()) as session:
        stmt = select(ChaosRun).where(ChaosRun.flow_run_id == flow_run_id)
        return session.scalars(stmt).one()


def test_flow_runs_the_experiment_and_publishes_artifacts(prefect_server, specs, proxied, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    state = run_experiment(str(_experiment(specs, tmp_path, 0.5)), return_state=True)

    summary = state.result()
    assert summary["verdict"] == "passed" and summary["clean"]
    flow_run_id = state.state_details.flow_run_id
    assert _run_row(str(flow_run_id)).verdict == "passed"
    with get_client(sync_client=True) as client:
        keys = {
            a.key
            for a in client.read_artifacts(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
        }
    assert {"chaos-summary", "chaos-activities"} <= keys
    assert toxics(proxied) == []


def test_an_experiment_that_does_not_pass_ends_the_run_failed(
    prefect_server, specs, proxied, tmp_path
):
    # The steady state "shop is unhealthy" is not met before the method: nothing is injected.
    probes = [probe("unhealthy", False, "check_passing", check="shop-health", within_seconds=10)]
    doc = document(specs, method=[hold(0.1)], probes=probes, max_duration_seconds=60)
    state = run_experiment(str(write(tmp_path / "experiment.yaml", doc)), return_state=True)
    assert state.is_failed()
    assert state.message.startswith("experiment FAILED: the steady state was not met before")
    assert state.result(raise_on_failure=False).summary["verdict"] == "failed"


def test_dry_run_publishes_the_plan_and_injects_nothing(prefect_server, specs, proxied, tmp_path):
    summary = run_experiment(str(_experiment(specs, tmp_path, 0.5)), dry_run=True)
    assert summary["dry_run"] and any("inject latency" in line for line in summary["plan"])
    assert open_faults(get_engine()) == []


async def _wait_for_fault(client, flow_run_id, timeout: float) -> None:
    engine = get_engine()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if runs_of_flow_run(engine, str(flow_run_id)) and open_faults(engine):
            return
        state = (await client.read_flow_run(flow_run_id)).state
        assert not state.is_final(), f"flow run ended before the fault was in place: {state}"
        await asyncio.sleep(0.25)
    raise AssertionError("timed out waiting for the fault to be injected")


async def _cancel_mid_run(path: Path) -> tuple[str, str]:
    from prefect.client.orchestration import get_client
    from prefect.runner import Runner
    from prefect.states import Cancelling

    runner = Runner(query_seconds=1, pause_on_shutdown=False)
    deployment_id = await runner.aadd_flow(run_experiment, name=f"chaos-{uuid.uuid4().hex[:8]}")
    async with get_client() as client:
        flow_run = await client.create_flow_run_from_deployment(
            deployment_id, parameters={"experiment_path": str(path)}
        )
        serving = asyncio.create_task(runner.start())
        try:
            await _wait_for_fault(client, flow_run.id, 120)
            await client.set_flow_run_state(flow_run.id, Cancelling(), force=True)

            async def final_state() -> str:
                return (await client.read_flow_run(flow_run.id)).state.type.value

            deadline = time.monotonic() + 90
            state = await final_state()
            while state not in ("CANCELLED", "COMPLETED", "FAILED", "CRASHED"):
                assert time.monotonic() < deadline, f"flow run still {state}"
                await asyncio.sleep(0.5)
                state = await final_state()
        finally:
            await runner.astop()
            serving.cancel()
    return str(flow_run.id), state


@pytest.mark.slow
def test_cancelling_the_flow_run_through_the_api_removes_the_fault(
    prefect_server, specs, proxied, tmp_path
):
    path = _experiment(specs, tmp_path, 120)

    flow_run_id, state = asyncio.run(_cancel_mid_run(path))

    assert state == "CANCELLED"
    assert toxics(proxied) == []
    assert open_faults(get_engine()) == []
    row = _run_row(flow_run_id)
    assert (row.status, row.verdict) == ("interrupted", "aborted")
