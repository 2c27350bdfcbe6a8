"""A failed deployment run, retried, re-runs only what failed; on-call hears about the failure.

One real stack: a Prefect server on PostgreSQL (with its automation services), a process worker,
the failure automation sending through a custom-webhook block to a local sink. The flow
(tests/flows/rerun_flow.py) is configured as every Traceo flow is: ``**rerunnable()`` (results
persisted to ``$TRACEO_HOME/results``) and ``on_failure=[report_failure]``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from infra.prefect import PrefectServer, ProcessWorker, run_prefect, temporary_database
from infra.sandbox.webhook_sink import WebhookSink
from tests.services import require_service

pytestmark = [pytest.mark.slow, pytest.mark.engine, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
POOL = "traceo-rerun-test"
DEPLOYMENT = "traceo-rerun-probe/rerun-probe"

PREFECT_YAML = """\
name: rerun-test
prefect-version: 3.9.1
pull:
  - prefect.deployments.steps.set_working_directory:
      directory: {root}
deployments:
  - name: rerun-probe
    entrypoint: tests/flows/rerun_flow.py:rerun_probe
    parameters: {{marker_dir: {markers}}}
    work_pool: {{name: {pool}}}
"""


def _wait_final(client, flow_run_id, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.read_flow_run(flow_run_id)
        if run.state and run.state.is_final():
            return run
        time.sleep(0.5)
    raise AssertionError(f"flow run {flow_run_id} not final after {timeout:g}s: {run.state}")


def _runs(markers: Path, step: str) -> int:
    path = markers / f"{step}.runs"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_a_retried_run_reuses_completed_tasks_and_the_failure_is_reported(
    tmp_path: Path,
) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from deployments.automations import apply_failure_automation

    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "fail").touch()
    home = tmp_path / "traceo-home"
    prefect_file = tmp_path / "prefect.yaml"
    prefect_file.write_text(PREFECT_YAML.format(root=ROOT, markers=markers, pool=POOL))

    with (
        temporary_database("traceo_rerun") as db,
        PrefectServer(tmp_path / "server", db, scheduler=False) as server,
        WebhookSink() as sink,
        temporary_settings({PREFECT_API_URL: server.api_url}),
    ):
        worker = ProcessWorker(
            POOL,
            server.api_url,
            tmp_path / "worker",
            env={"TRACEO_HOME": str(home), "TRACEO_RESULT_STORAGE": str(home / "results")},
            cwd=ROOT,
        )
        worker.launch()
        CustomWebhookNotificationBlock(
            name="on-call", url=sink.url, json_data={"text": "{{subject}}\n{{body}}"}
        ).save("rerun-test-oncall", overwrite=True)
        first = apply_failure_automation("custom-webhook/rerun-test-oncall")
        again = apply_failure_automation("custom-webhook/rerun-test-oncall")
        assert (first.created, again.created, again.id) == (True, False, first.id)
        try:
            worker.wait_ready()  # it creates the pool, which `prefect deploy` requires
            run_prefect(
                ["--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file)],
                server.api_url,
                tmp_path / "cli",
                cwd=ROOT,
            )
            failed = run_deployment(DEPLOYMENT, timeout=180)
            assert failed.state.is_failed(), failed.state
            assert (_runs(markers, "extract"), _runs(markers, "load")) == (1, 1)
            # The results of the completed task went to the configured storage.
            assert any((home / "results").iterdir())

            with get_client(sync_client=True) as client:
                # The failure hook runs once the run is Failed, and the worker's process ships
                # its logs in batches: wait (bounded) for the report to arrive.
                deadline = time.monotonic() + 60
                reports: list[str] = []
                while not reports and time.monotonic() < deadline:
                    logs = client.read_logs(
                        log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[failed.id]))
                    )
                    reports = [log.message for log in logs if "flow-run retry" in log.message]
                    if not reports:
                        time.sleep(0.5)
                assert reports, "no failure report in the run's logs"
                report = reports[0]
                assert f"prefect flow-run retry {failed.id}" in report
                assert "`load-" in report and "the warehouse is unavailable" in report
                artifacts = client.read_artifacts(
                    artifact_filter=ArtifactFilter(
                        flow_run_id=ArtifactFilterFlowRunId(any_=[failed.id])
                    )
                )
                assert [a.data for a in artifacts if a.type == "markdown"] == [report]

                deadline = time.monotonic() + 60
                while not sink.received and time.monotonic() < deadline:
                    time.sleep(0.5)
                assert len(sink.received) == 1, "the failure automation sent no notification"
                notice = sink.received[0]["text"]
                assert "traceo-rerun-probe" in notice and "Failed" in notice
                assert f"prefect flow-run retry {failed.id}" in notice

                (markers / "fail").unlink()
                run_prefect(["flow-run", "retry", str(failed.id)], server.api_url, tmp_path / "cli")
                retried = _wait_final(client, failed.id)
            assert retried.state.is_completed(), retried.state
            assert retried.id == failed.id
            # extract's stored result was reused; only load ran again.
            assert (_runs(markers, "extract"), _runs(markers, "load")) == (1, 2)
            assert len(sink.received) == 1  # a completed retry notifies no one
        finally:
            worker.stop()
            # Send the events this process emitted (the block save) while the server is up.
            from prefect.events.worker import EventsWorker

            EventsWorker.drain_all(timeout=10)
