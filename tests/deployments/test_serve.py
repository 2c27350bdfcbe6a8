"""deployments/serve.py: `traceo serve` builds its deployments from prefect.yaml, nothing else."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from deployments.serve import PREFECT_FILE, build_deployments, deployment_definitions, serve_all
from tasks.errors import ConfigurationError, SpecError

ROOT = Path(__file__).resolve().parents[2]

TEST_FILE = """\
deployments:
  - name: every-ten-minutes
    entrypoint: tests/flows/rerun_flow.py:rerun_probe
    parameters: {marker_dir: /tmp/markers}
    work_pool: {name: traceo}
    schedules: [{interval: 600, timezone: UTC}, {cron: "0 1 * * *", timezone: UTC, active: false}]
    concurrency_limit: {limit: 1, collision_strategy: CANCEL_NEW}
    paused: true
    tags: [test]
  - name: on-ingestion
    entrypoint: tests/flows/rerun_flow.py:rerun_probe
    parameters: {marker_dir: /tmp/markers}
    work_pool: {name: traceo}
    triggers:
      - type: event
        match: {prefect.resource.id: "prefect.flow-run.*"}
        match_related: {prefect.resource.role: flow, prefect.resource.name: cost-ingestion}
        expect: [prefect.flow-run.Completed]
    concurrency_limit: 2
"""


@pytest.fixture
def prefect_file(tmp_path: Path) -> Path:
    path = tmp_path / "prefect.yaml"
    path.write_text(TEST_FILE)
    return path


def test_schedules_concurrency_pause_and_tags_come_from_the_file(prefect_file: Path) -> None:
    (served,) = build_deployments(prefect_file, ["every-ten-minutes"])
    assert served.name == "every-ten-minutes"
    assert served.entrypoint == "tests/flows/rerun_flow.py:rerun_probe"
    assert served.parameters == {"marker_dir": "/tmp/markers"}
    assert [s.schedule.interval for s in served.schedules[:1]] == [timedelta(minutes=10)]
    assert served.schedules[1].schedule.cron == "0 1 * * *"
    assert [s.active for s in served.schedules] == [True, False]
    assert served.concurrency_limit == 1
    assert served.concurrency_options.collision_strategy == "CANCEL_NEW"
    assert served.paused is True and served.tags == ["test"]


def test_triggers_come_from_the_file(prefect_file: Path) -> None:
    (served,) = build_deployments(prefect_file, ["on-ingestion"])
    (trigger,) = served.triggers
    assert trigger.expect == {"prefect.flow-run.Completed"}
    assert trigger.match_related.root["prefect.resource.name"] == "cost-ingestion"
    assert served.concurrency_limit == 2 and not served.schedules and not served.paused


def test_an_unknown_name_is_a_spec_error_naming_it(prefect_file: Path) -> None:
    with pytest.raises(SpecError, match="no-such-job: name: no such deployment"):
        deployment_definitions(prefect_file, ["every-ten-minutes", "no-such-job"])


def test_a_broken_entrypoint_is_a_spec_error_naming_the_deployment(tmp_path: Path) -> None:
    path = tmp_path / "prefect.yaml"
    doc = yaml.safe_load(TEST_FILE)
    doc["deployments"][0]["entrypoint"] = "flows/nothing.py:nope"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError, match=r"every-ten-minutes: entrypoint: flows/nothing\.py:nope"):
        build_deployments(path, ["every-ten-minutes"])


def test_a_file_without_deployments_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "prefect.yaml"
    path.write_text("deployments: {a: 1}\n")
    with pytest.raises(SpecError, match="deployments: must be a list"):
        deployment_definitions(path)


def test_serving_without_a_server_says_how_to_start_one(monkeypatch, prefect_file) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: None}), pytest.raises(ConfigurationError) as err:
        serve_all(prefect_file)
    assert "PREFECT_API_URL" in str(err.value) and "prefect server start" in str(err.value)


def test_every_deployment_of_prefect_yaml_can_be_served() -> None:
    declared = deployment_definitions(PREFECT_FILE)
    served = build_deployments(PREFECT_FILE)
    assert [d.name for d in served] == [d["name"] for d in declared]
    for deployment, raw in zip(served, declared, strict=True):
        assert deployment.entrypoint == raw["entrypoint"]
        assert len(deployment.schedules) == len(raw.get("schedules") or [])
        assert len(deployment.triggers) == len(raw.get("triggers") or [])
        assert bool(deployment.paused) == bool(raw.get("paused"))
