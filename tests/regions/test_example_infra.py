"""The example infra (compose, Helm values, job template) matches deployments/prefect.yaml.

These files are documented, not run, on machines without Docker or Kubernetes; these tests keep
them from drifting: every work pool has a worker, every version is the one the project pins.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import prefect
import pytest
import yaml

from deployments.regions import PREFECT_FILE, load_deployments

INFRA = Path(__file__).resolve().parents[2] / "infra" / "prefect"
POOLS = sorted({e.work_pool for e in load_deployments(PREFECT_FILE)})
PREFECT_VERSION = yaml.safe_load(PREFECT_FILE.read_text())["prefect-version"]


def _yaml(name: str) -> Any:
    return yaml.safe_load((INFRA / name).read_text())


def test_the_examples_pin_the_prefect_version_the_project_runs() -> None:
    assert prefect.__version__ == PREFECT_VERSION
    server = _yaml("docker-compose.yml")["services"]["prefect-server"]
    assert server["image"].startswith(f"prefecthq/prefect:{PREFECT_VERSION}-")
    helm = _yaml("helm/prefect-server.values.yaml")
    assert helm["server"]["image"]["prefectTag"].startswith(f"{PREFECT_VERSION}-")


def test_compose_runs_one_process_worker_per_pool_stopped_with_sigint() -> None:
    services = _yaml("docker-compose.yml")["services"]
    workers = {
        s["command"][s["command"].index("--pool") + 1]: s
        for s in services.values()
        if s.get("command", [])[:3] == ["prefect", "worker", "start"]
    }
    assert sorted(workers) == POOLS
    for worker in workers.values():
        assert worker["command"][worker["command"].index("--type") + 1] == "process"
        assert worker["stop_signal"] == "SIGINT"
        assert worker["environment"]["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    db_url = services["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert db_url.startswith("postgresql+asyncpg://")


@pytest.mark.parametrize("pool", POOLS)
def test_every_pool_has_helm_values_for_its_worker(pool: str) -> None:
    path = INFRA / "helm" / f"worker-{pool}.values.yaml"
    values = yaml.safe_load(path.read_text())
    assert values["worker"]["config"]["workPool"] == pool
    assert values["worker"]["apiConfig"] == "selfHostedServer"
    assert values["worker"]["image"]["prefectTag"].startswith(f"{PREFECT_VERSION}-")
    assert values["fullnameOverride"] == f"{pool}-worker"


def test_the_kubernetes_job_template_declares_every_placeholder_it_uses() -> None:
    from prefect.server.schemas.actions import validate_base_job_template

    template = json.loads((INFRA / "kubernetes" / "base-job-template.json").read_text())
    validate_base_job_template(template)  # raises on a placeholder without a variable
    props = template["variables"]["properties"]
    assert {"image", "namespace", "service_account_name"} <= {
        name for name, spec in props.items() if "default" in spec
    }
    container = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert {"secretRef": {"name": "traceo-store"}} in container["envFrom"]
