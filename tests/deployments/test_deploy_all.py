"""`prefect deploy --all` of deployments/prefect.yaml against a real server on PostgreSQL.

Every deployment is created in its work pool, with its schedules (the chaos game day's
inactive), its concurrency limit, and the trigger that runs anomaly scoring when a cost
ingestion completes. The same server runs `traceo serve` and `traceo run-once`, checks that the
failure automation refuses a block it cannot notify through, and that results persist to an S3
bucket block (on moto) as in production. One server for the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.prefect import PrefectServer, run_prefect, temporary_database
from tasks.errors import ConfigurationError
from tests.services import require_service

pytestmark = [pytest.mark.slow, pytest.mark.engine, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
PREFECT_FILE = ROOT / "deployments" / "prefect.yaml"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path_factory.mktemp("prefect")
    with (
        temporary_database("traceo_deploy") as db,
        PrefectServer(home / "server", db, scheduler=False) as running,
        temporary_settings({PREFECT_API_URL: running.api_url}),
    ):
        yield running
        _drain_events()


def _drain_events() -> None:
    """Send the events this process emitted (block saves) while the server is still up."""
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=10)


def deploy_all(prefect_file: Path, server: PrefectServer, home: Path) -> dict[str, Any]:
    """Create each pool (process), deploy everything; return deployments by name, as served.

    The pools are created through the client (a `prefect work-pool create` process per pool cost
    ~4 s of imports each); the deployments through `prefect deploy --all`, the command under test.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.workers.process import ProcessWorker

    declared = yaml.safe_load(prefect_file.read_text())["deployments"]
    template = ProcessWorker.get_default_base_job_template()
    with get_client(sync_client=True) as client:
        for pool in sorted({d["work_pool"]["name"] for d in declared}):
            client.create_work_pool(
                WorkPoolCreate(name=pool, type="process", base_job_template=template)
            )
    run_prefect(
        ["--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file)],
        server.api_url,
        home,
        cwd=ROOT,
        env={"TRACEO_REPO_DIR": str(ROOT)},
        timeout=300,
    )
    with get_client(sync_client=True) as client:
        return {d.name: d for d in client.read_deployments()}


def check_deployed(prefect_file: Path, found: dict[str, Any]) -> None:
    """Every declared deployment exists on the server as prefect.yaml describes it."""
    from prefect.client.orchestration import get_client

    declared = {d["name"]: d for d in yaml.safe_load(prefect_file.read_text())["deployments"]}
    assert set(found) == set(declared)
    for name, raw in declared.items():
        deployment = found[name]
        assert deployment.work_pool_name == raw["work_pool"]["name"], name
        assert deployment.entrypoint == raw["entrypoint"], name
        assert deployment.parameters == (raw.get("parameters") or {}), name
        crons = sorted((s.schedule.cron, s.active) for s in deployment.schedules)
        wanted = sorted((s["cron"], s.get("active", True)) for s in raw.get("schedules") or [])
        assert crons == wanted, name
        assert deployment.paused is bool(raw.get("paused")), name
        limit = raw["concurrency_limit"]
        expected = limit["limit"] if isinstance(limit, dict) else limit
        assert deployment.global_concurrency_limit.limit == expected, name
        if raw["work_pool"].get("job_variables"):
            assert deployment.job_variables == raw["work_pool"]["job_variables"], name
    with get_client(sync_client=True) as client:
        automations = client.read_automations()
    for name, raw in declared.items():
        triggers = raw.get("triggers") or []
        runs_it = [
            a
            for a in automations
            for action in a.actions
            if action.type == "run-deployment" and action.deployment_id == found[name].id
        ]
        assert len(runs_it) == len(triggers), name
        for automation, trigger in zip(runs_it, triggers, strict=True):
            assert automation.trigger.expect == set(trigger["expect"])
            assert automation.trigger.match_related.root == trigger["match_related"]


def test_deploy_all_creates_every_deployment_with_its_schedules_and_trigger(
    server: PrefectServer, tmp_path: Path
) -> None:
    found = deploy_all(PREFECT_FILE, server, tmp_path)
    check_deployed(PREFECT_FILE, found)
    assert len(found["cost-anomalies"].schedules) == 0
    assert [s.active for s in found["chaos-game-day"].schedules] == [False]


def test_run_once_refuses_deployments_that_are_not_on_the_server(
    server: PrefectServer, tmp_path: Path
) -> None:
    from deployments.run_once import run_each_once
    from tasks.errors import NotFoundError

    prefect_file = tmp_path / "prefect.yaml"
    declared = SERVED.format(markers=tmp_path).replace("served-probe", "never-deployed")
    prefect_file.write_text(declared)
    with pytest.raises(NotFoundError, match=r"not deployed on .*: never-deployed"):
        run_each_once(path=prefect_file)


def test_the_failure_automation_refuses_a_block_it_cannot_notify_through(
    server: PrefectServer,
) -> None:
    from prefect.blocks.system import Secret

    from deployments.automations import apply_failure_automation

    with pytest.raises(ConfigurationError, match="not saved on the Prefect server"):
        apply_failure_automation("slack-webhook/no-such-block")
    Secret(value="not-a-notifier").save("deploy-test", overwrite=True)
    with pytest.raises(ConfigurationError, match="is not a notification block"):
        apply_failure_automation("secret/deploy-test")


SERVED = """\
deployments:
  - name: served-probe
    entrypoint: tests/flows/rerun_flow.py:rerun_probe
    parameters: {{marker_dir: {markers}}}
    work_pool: {{name: traceo}}
    schedules: [{{interval: 3600, timezone: UTC}}]
    concurrency_limit: 1
"""


def test_traceo_serve_runs_what_it_serves_from_one_process(
    server: PrefectServer, tmp_path: Path
) -> None:
    import subprocess
    import sys
    import time

    from prefect.client.orchestration import get_client

    from deployments.run_once import run_each_once
    from infra.prefect import prefect_env

    markers = tmp_path / "markers"
    markers.mkdir()
    prefect_file = tmp_path / "prefect.yaml"
    prefect_file.write_text(SERVED.format(markers=markers))
    env = prefect_env(
        tmp_path / "serve",
        {
            "PREFECT_API_URL": server.api_url,
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "TRACEO_HOME": str(tmp_path / "home"),
        },
    )
    env.pop("TRACEO_RESULT_STORAGE", None)  # the default under TRACEO_HOME is what is tested
    command = "from deployments.cli_ops import serve; serve()"
    with (tmp_path / "serve.log").open("w") as log:
        serving = subprocess.Popen(
            [sys.executable, "-c", command, "--prefect-file", str(prefect_file)],
            env=env,
            cwd=tmp_path,  # serve moves to the repository itself: entrypoints are relative to it
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        with get_client(sync_client=True) as client:
            deadline = time.monotonic() + 120
            deployment = None
            while deployment is None and time.monotonic() < deadline:
                assert serving.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
                deployment = next(
                    (d for d in client.read_deployments() if d.name == "served-probe"), None
                )
                time.sleep(0.5)
            assert deployment is not None, "traceo serve registered nothing"
            assert [s.schedule.interval.total_seconds() for s in deployment.schedules] == [3600]
            run = client.create_flow_run_from_deployment(deployment.id)
            while time.monotonic() < deadline:
                state = client.read_flow_run(run.id).state
                if state.is_final():
                    break
                time.sleep(0.5)
        assert state.is_completed(), (state, (tmp_path / "serve.log").read_text()[-2000:])
        assert (markers / "load.runs").read_text() == "ran\n"
        assert any((tmp_path / "home" / "results").iterdir())  # results persisted by default

        # `traceo run-once` starts each declared deployment through the API and waits.
        (outcome,) = run_each_once(path=prefect_file, timeout=120)
        assert (outcome.deployment, outcome.state) == ("served-probe", "COMPLETED")
        assert outcome.url and outcome.flow_run_id in outcome.url
        assert (markers / "load.runs").read_text() == "ran\nran\n"
    finally:
        serving.send_signal(2)  # SIGINT: the runner pauses its schedules and exits
        try:
            serving.wait(60)
        except subprocess.TimeoutExpired:  # a loaded machine: ask again, then stop it hard
            serving.send_signal(2)
            try:
                serving.wait(30)
            except subprocess.TimeoutExpired:
                serving.kill()
                serving.wait(10)
    log_text = (tmp_path / "serve.log").read_text()
    assert f"results persist to directory {tmp_path / 'home' / 'results'}" in log_text


def test_results_persist_to_an_s3_bucket_block_in_production(
    server: PrefectServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from prefect import flow, task
    from prefect_aws import AwsCredentials

    from infra.sandbox.moto_server import MotoServer
    from tasks.results import check_result_storage, rerunnable, save_s3_result_storage

    with MotoServer() as moto:
        s3 = boto3.client(
            "s3",
            endpoint_url=moto.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        s3.create_bucket(Bucket="traceo-results-test")
        AwsCredentials(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
            aws_client_parameters={"endpoint_url": moto.url},
        ).save("results-test-aws", overwrite=True)
        slug = save_s3_result_storage(
            "results-test", "traceo-results-test", credentials_block="results-test-aws"
        )
        assert slug == "s3-bucket/results-test"
        assert check_result_storage(slug) == "block s3-bucket/results-test"
        with pytest.raises(ConfigurationError, match="no such saved Prefect block"):
            check_result_storage("s3-bucket/not-saved")

        @task
        def double(x: int) -> int:
            return 2 * x

        monkeypatch.setenv("TRACEO_RESULT_STORAGE", slug)

        @flow(**rerunnable())
        def persisted(x: int) -> int:
            return double(x)

        assert persisted(21) == 42
        listed = s3.list_objects_v2(Bucket="traceo-results-test", Prefix="prefect-results/")
        assert listed["KeyCount"] >= 2  # the task's result and the flow's
