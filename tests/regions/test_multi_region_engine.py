"""Two regions for real: a Prefect server on PostgreSQL, a work pool and process worker per region.

The deployments come from ``deployments/prefect.yaml`` through ``prefect deploy``; each region's
worker has its own view of the network (``SAMPLE_URL``), and eu-west-1's points at a closed port,
as if that region had lost its path to the shop. The shared store is a fresh PostgreSQL database.
One module-scoped stack serves every test here: 30-70 s, mostly server start-up and the live
runs, which start each check at its offset within the minute as scheduled runs do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from deployments.regions import (
    DeploymentEntry,
    describe_schedule,
    fetch_live_status,
    load_deployments,
    probe_deployments,
)
from infra.prefect import PrefectServer, ProcessWorker, free_port, run_prefect, temporary_database
from infra.sandbox.sample_service.server import SampleService
from tasks.probes.loader import load_checks
from tasks.probes.schedule import due_checks, slot_start
from tasks.store import CheckResult, get_engine, session_scope
from tests.services import require_service

pytestmark = [pytest.mark.slow, pytest.mark.engine, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
PREFECT_FILE = ROOT / "deployments" / "prefect.yaml"
HEALTHY, BROKEN = "us-east-1", "eu-west-1"
RUN_DEADLINE_SECONDS = 120

# The test's own checks (the repository's examples grow browser checks and more): two HTTP checks
# due every minute in both regions, which the SLOs below select.
CHECKS = """\
defaults: {service: shop-api, frequency: 1m, regions: [us-east-1, eu-west-1]}
checks:
  - id: shop-health
    name: Shop health endpoint
    request: {url: "${SAMPLE_URL}/health"}
    assertions: [{source: status_code, operator: equals, target: 200}]
  - id: shop-products-list
    name: Product catalogue lists products
    request: {url: "${SAMPLE_URL}/api/products"}
    assertions: [{source: json_body, property: "$[0].id", operator: not_null}]
"""

# Two SLOs over the same checks, differing only in the region quorum. One slot covers the whole
# test so both regions' runs, seconds apart, are judged together (production uses 1m slots with
# a probe per region every minute).
SLOS = """\
apiVersion: openslo/v1
kind: SLI
metadata: {name: shop-checks-pass}
spec:
  ratioMetric:
    good: {metricSource: {type: traceo, spec: {verdicts: [pass, degraded]}}}
    total: {metricSource: {type: traceo, spec: {checks: [shop-health, shop-products-list]}}}
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: shop-quorum-2
  annotations:
    traceo.dev/global-min-failing-regions: "2"
    traceo.dev/slot: 1d
    traceo.dev/min-events: "1"
    traceo.dev/no-data-after: "off"
spec:
  service: shop-api
  indicatorRef: shop-checks-pass
  timeWindow: [{duration: 7d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: shop-pooled
  annotations:
    traceo.dev/slot: 1d
    traceo.dev/min-events: "1"
    traceo.dev/no-data-after: "off"
spec:
  service: shop-api
  indicatorRef: shop-checks-pass
  timeWindow: [{duration: 7d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
"""


@dataclass(frozen=True)
class RegionRun:
    region: str
    declared: DeploymentEntry  # what `traceo regions` reads from prefect.yaml
    deployment: Any  # prefect.client.schemas.responses.DeploymentResponse
    worker: ProcessWorker
    flow_run: Any  # prefect.client.schemas.objects.FlowRun, in its final state

    @property
    def pool(self) -> str:
        return self.declared.work_pool


@dataclass(frozen=True)
class Stack:
    server: PrefectServer
    store_url: str
    checks: Path
    runs: dict[str, RegionRun]


def _wait_final(client: Any, flow_run_ids: list[Any], workers: list[ProcessWorker]) -> list[Any]:
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    while True:
        runs = [client.read_flow_run(i) for i in flow_run_ids]
        if all(r.state and r.state.is_final() for r in runs):
            return runs
        if time.monotonic() > deadline:
            states = ", ".join(f"{r.name}: {r.state and r.state.name}" for r in runs)
            tails = "\n".join(f"--- {w.name}\n{w.process.log_tail(20)}" for w in workers)
            pytest.fail(f"runs not final after {RUN_DEADLINE_SECONDS}s ({states})\n{tails}")
        time.sleep(1)


def _clear_of_midnight() -> None:
    """The SLOs judge the region quorum per UTC day: do not start runs seconds before midnight."""
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if (midnight - now).total_seconds() < 120:
        time.sleep((midnight - now).total_seconds() + 1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.workers.process import ProcessWorker as PrefectProcessWorker

    tmp = tmp_path_factory.mktemp("regions")
    checks = tmp / "checks.yaml"
    checks.write_text(CHECKS)
    declared = {e.region: e for e in probe_deployments(load_deployments(PREFECT_FILE))}
    with ExitStack() as cleanup:
        prefect_db = cleanup.enter_context(temporary_database("traceo_regions_prefect"))
        store_url = cleanup.enter_context(temporary_database("traceo_regions_store"))
        get_engine(store_url)  # migrate once, before two flow runs race to do it
        shop = cleanup.enter_context(SampleService())
        server = cleanup.enter_context(PrefectServer(tmp / "server", prefect_db, services=False))
        client = cleanup.enter_context(SyncPrefectClient(server.api_url))

        template = PrefectProcessWorker.get_default_base_job_template()
        sample_url = {HEALTHY: shop.url, BROKEN: f"http://127.0.0.1:{free_port()}"}
        workers: dict[str, ProcessWorker] = {}
        for region in (HEALTHY, BROKEN):
            pool = declared[region].work_pool
            client.create_work_pool(
                WorkPoolCreate(name=pool, type="process", base_job_template=template)
            )
            worker = ProcessWorker(
                pool,
                server.api_url,
                tmp / f"worker-{region}",
                name=f"{region}-worker",
                # Region-specific settings live on the worker: the flow run inherits them.
                env={
                    "TRACEO_REPO_DIR": str(ROOT),
                    "SAMPLE_URL": sample_url[region],
                    # Overridden by the deployment; never the developer's ~/.traceo.
                    "TRACEO_HOME": str(tmp / f"worker-home-{region}"),
                },
                cwd=tmp,  # not the checkout: the deployment's pull step must get the run there
                create_pool=False,
            )
            cleanup.callback(worker.stop)
            worker.launch()
            workers[region] = worker

        # Shared settings live on the deployments (job variables). Prefect ignores --job-variable
        # when one command deploys several deployments, and splits a value containing `=`.
        shared = {
            "TRACEO_DATABASE_URL": store_url,
            "TRACEO_CHECKS_PATH": str(checks),
            "TRACEO_HOME": str(tmp / "traceo-home"),
        }
        deploy = ["--no-prompt", "deploy", "--prefect-file", str(PREFECT_FILE)]
        for region in (HEALTHY, BROKEN):
            run_prefect(
                [
                    *deploy,
                    "--name",
                    declared[region].name,
                    "--job-variable",
                    json.dumps({"env": shared}),
                ],
                server.api_url,
                tmp / "cli",
                cwd=ROOT,
            )
        for worker in workers.values():
            worker.wait_ready()

        _clear_of_midnight()
        deployments, triggered = {}, {}
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            for region in (HEALTHY, BROKEN):
                name = f"synthetic-probes/{declared[region].name}"
                deployments[region] = client.read_deployment_by_name(name)
                triggered[region] = run_deployment(name, timeout=0).id
        final = _wait_final(client, list(triggered.values()), list(workers.values()))
        runs = {
            region: RegionRun(region, declared[region], deployments[region], workers[region], run)
            for region, run in zip(triggered, final, strict=True)
        }
        yield Stack(server, store_url, checks, runs)


def _rows(store_url: str) -> list[CheckResult]:
    with session_scope(get_engine(store_url)) as session:
        return list(session.scalars(select(CheckResult).order_by(CheckResult.check_id)))


def test_prefect_deploy_creates_what_traceo_regions_lists(stack: Stack) -> None:
    for run in stack.runs.values():
        dep, declared = run.deployment, run.declared
        assert (dep.name, dep.work_pool_name, dep.entrypoint) == (
            declared.name,
            declared.work_pool,
            declared.entrypoint,
        )
        assert dep.parameters == {"region": run.region}
        assert dep.pull_steps == [
            {
                "prefect.deployments.steps.set_working_directory": {
                    "directory": "{{ $TRACEO_REPO_DIR }}"
                }
            }
        ]
        created = tuple(
            describe_schedule({"cron": s.schedule.cron, "timezone": s.schedule.timezone})
            for s in dep.schedules
        )
        assert created == declared.schedules
        limit = str(dep.global_concurrency_limit.limit)
        if dep.concurrency_options:
            limit += f" ({dep.concurrency_options.collision_strategy.value})"
        assert limit == declared.concurrency
        env = dep.job_variables["env"]
        assert (env["TRACEO_DATABASE_URL"], env["TRACEO_CHECKS_PATH"]) == (
            stack.store_url,
            str(stack.checks),
        )


def test_each_region_runs_on_its_own_pool_and_worker(stack: Stack) -> None:
    for run in stack.runs.values():
        flow_run = run.flow_run
        assert flow_run.state.name == "Completed", flow_run.state.message
        assert flow_run.work_pool_name == run.pool
        assert flow_run.labels["prefect.work-pool.name"] == run.pool
        assert flow_run.labels["prefect.worker.name"] == run.worker.name
        assert flow_run.infrastructure_pid  # "host:pid" of the child the worker started
        # The worker streams its flow runs' output: the run, and the flow's own region line.
        mine = run.worker.log_text()
        assert str(flow_run.id) in mine
        assert f"checks in {run.region} for" in mine
        others = [r.worker.log_text() for r in stack.runs.values() if r is not run]
        assert all(str(flow_run.id) not in log for log in others)


def test_each_run_records_its_region_and_flow_run_id(stack: Stack) -> None:
    rows = _rows(stack.store_url)
    checks = load_checks([stack.checks])
    for run in stack.runs.values():
        mine = [r for r in rows if r.flow_run_id == str(run.flow_run.id)]
        slot = slot_start(run.flow_run.expected_start_time, 60)
        assert {r.region for r in mine} == {run.region}
        assert {r.scheduled_at for r in mine} == {slot}
        assert sorted(r.check_id for r in mine) == sorted(
            c.id for c in due_checks(checks, run.region, slot)
        )
    assert {r.flow_run_id for r in rows} == {str(x.flow_run.id) for x in stack.runs.values()}
    healthy = {r.verdict for r in rows if r.region == HEALTHY}
    broken = [r for r in rows if r.region == BROKEN]
    assert healthy <= {"pass", "degraded"}
    assert {r.verdict for r in broken} == {"fail"}
    assert all("ConnectError" in (r.error or "") for r in broken)


def test_global_sli_needs_two_failing_regions_while_the_broken_region_shows_its_own(
    stack: Stack, tmp_path: Path
) -> None:
    from tasks.slo.source import evaluate_specs

    slo_file = tmp_path / "slos.yaml"
    slo_file.write_text(SLOS)
    reports = {
        r.slo_id: r
        for r in evaluate_specs(
            get_engine(stack.store_url),
            slo_file,
            stack.checks,
            datetime.now(UTC).replace(microsecond=0),
        )
    }
    quorum, pooled = reports["shop-quorum-2"], reports["shop-pooled"]
    by_region = {r.region: r for r in quorum.regions}
    assert by_region[HEALTHY].sli == 1.0
    assert by_region[BROKEN].sli == 0.0
    assert (quorum.events, quorum.sli, quorum.met) == (4, 1.0, True)
    # The same results pooled without a quorum: one region's outage halves the global SLI.
    assert (pooled.events, pooled.sli, pooled.met) == (4, 0.5, False)


def test_live_listing_shows_each_regional_pool_online(stack: Stack) -> None:
    entries = load_deployments(PREFECT_FILE)
    live = fetch_live_status(entries, stack.server.api_url)
    for run in stack.runs.values():
        pool = live.pools[run.pool]
        assert (pool.found, pool.type, pool.status) == (True, "process", "READY")
        assert [(w.name, w.status) for w in pool.workers] == [(run.worker.name, "ONLINE")]
        assert live.deployments[run.deployment.name] == "active"
    assert not live.pools["probes-ap-northeast-1"].found

    shown = subprocess.run(
        [sys.executable, "-m", "deployments.cli", "regions", "--live"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
            "PREFECT_API_URL": stack.server.api_url,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    line = next(ln for ln in shown.splitlines() if ln.startswith(BROKEN))
    assert line.split()[-4:] == ["READY", "1/1", "online", "active"]
    assert "missing" in next(ln for ln in shown.splitlines() if ln.startswith("ap-northeast-1"))
