"""``traceo regions``: the regions, pools and deployments a prefect.yaml declares, read fast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from deployments.cli import main
from deployments.regions import (
    PREFECT_FILE,
    describe_schedule,
    fetch_live_status,
    load_deployments,
    probe_deployments,
)
from infra.prefect import free_port
from tasks.errors import ConfigurationError, ServiceUnavailableError, SpecError

PROJECT = """\
name: demo
definitions:
  every_minute: &every_minute {cron: "* * * * *", timezone: UTC}
deployments:
  - name: central-job
    entrypoint: flows/slo.py:evaluate_slos
    work_pool: {name: central}
    schedules: [{interval: 300}]
  - name: probes-b
    entrypoint: flows/synthetic.py:synthetic_probes
    parameters: {region: region-b}
    work_pool: {name: probes-b, work_queue_name: fast}
    schedules: [*every_minute, {cron: "0 * * * *", active: false}]
    concurrency_limit: {limit: 1, collision_strategy: CANCEL_NEW}
  - name: probes-a
    entrypoint: flows/synthetic.py:synthetic_probes
    parameters: {region: region-a}
    work_pool: {name: probes-a}
    concurrency_limit: 2
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "prefect.yaml"
    path.write_text(PROJECT)
    return path


def test_the_repository_declares_one_probe_pool_per_region() -> None:
    probes = probe_deployments(load_deployments(PREFECT_FILE))
    assert {"us-east-1", "eu-west-1", "ap-northeast-1"} <= {p.region for p in probes}
    assert all(p.work_pool == f"probes-{p.region}" for p in probes)
    assert all(p.schedules and p.concurrency for p in probes)


def test_entries_carry_region_pool_queue_schedules_and_concurrency(project: Path) -> None:
    entries = {e.name: e for e in load_deployments(project)}
    b = entries["probes-b"]
    assert (b.region, b.work_pool, b.work_queue) == ("region-b", "probes-b", "fast")
    assert b.schedules == ("cron * * * * * UTC", "cron 0 * * * * (inactive)")
    assert b.concurrency == "1 (CANCEL_NEW)"
    assert entries["probes-a"].concurrency == "2"
    assert entries["central-job"].region is None
    assert [e.name for e in probe_deployments(entries.values())] == ["probes-b", "probes-a"]


def test_cli_lists_regions_first_then_central_jobs_with_a_summary(project: Path) -> None:
    result = CliRunner().invoke(main, ["regions", "--prefect-file", str(project)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["REGION", "WORK", "POOL", "DEPLOYMENT", "SCHEDULE", "CONCURRENCY"]
    assert lines[1].split() == ["region-a", "probes-a", "probes-a", "manual", "2"]
    assert lines[2].startswith("region-b  probes-b")
    assert "cron * * * * * UTC, cron 0 * * * * (inactive)" in lines[2]
    assert lines[3].split() == ["-", "central", "central-job", "every", "300s", "-"]
    assert lines[4] == "2 region(s), 3 work pool(s), 3 deployment(s)"


def test_listing_never_imports_prefect() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from deployments.cli import main; "
        "r = CliRunner().invoke(main, ['regions']); assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_every_problem_names_the_file_the_deployment_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "prefect.yaml"
    path.write_text(
        "deployments:\n"
        "  - name: a\n    entrypoint: flows/x.py:f\n    work_pool: {}\n"
        "  - name: b\n    work_pool: {name: p}\n    concurrency_limit: many\n"
        "  - name: c\n    entrypoint: flows/x.py:f\n    work_pool: {name: p}\n"
        "  - name: c\n    entrypoint: flows/x.py:f\n    work_pool: {name: p}\n"
        "    schedules: [{timezone: UTC}]\n"
    )
    with pytest.raises(SpecError) as caught:
        load_deployments(path)
    messages = [str(i) for i in caught.value.issues]
    assert f"{path}: a: work_pool.name: is required" in messages
    assert f"{path}: b: entrypoint: is required" in messages
    assert f"{path}: b: concurrency_limit: expected an integer or {{limit: N}}, got 'many'" in (
        messages
    )
    assert f"{path}: c: schedules: a schedule needs one of cron, interval or rrule" in messages

    result = CliRunner().invoke(main, ["regions", "--prefect-file", str(path)])
    assert result.exit_code == 2
    assert "work_pool.name: is required" in result.output


def test_duplicate_names_and_unreadable_files_are_spec_errors(tmp_path: Path) -> None:
    path = tmp_path / "prefect.yaml"
    entry = "  - name: x\n    entrypoint: flows/x.py:f\n    work_pool: {name: p}\n"
    path.write_text("deployments:\n" + entry + entry)
    with pytest.raises(SpecError, match="x: name: is declared twice"):
        load_deployments(path)
    path.write_text("deployments: {not: a list}\n")
    with pytest.raises(SpecError, match="deployments: must be a list"):
        load_deployments(path)
    with pytest.raises(SpecError, match="cannot read"):
        load_deployments(tmp_path / "missing.yaml")


def test_describe_schedule_reads_interval_and_rrule() -> None:
    assert describe_schedule({"interval": 60}) == "every 60s"
    assert describe_schedule({"rrule": "FREQ=DAILY", "timezone": "UTC"}) == "rrule FREQ=DAILY UTC"


def test_live_without_an_api_url_refuses_instead_of_starting_a_server(project: Path) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(restore_defaults={PREFECT_API_URL}),
        pytest.raises(ConfigurationError, match="PREFECT_API_URL"),
    ):
        fetch_live_status(load_deployments(project))


def test_live_against_an_unreachable_server_is_a_transient_error(project: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    with pytest.raises(ServiceUnavailableError, match="ConnectError"):
        fetch_live_status(load_deployments(project), url)
