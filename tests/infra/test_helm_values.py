"""Helm values (prefect-server, a prefect-worker release per pool) and the Kubernetes job template.

No cluster here: each values file is checked against a schema of the chart keys it may use (a
misspelt key would be silently ignored by Helm), every work pool of deployments/prefect.yaml has
its worker release, and every job variable a deployment sets is one the job template declares.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from deployments.regions import PREFECT_FILE
from infra.worker_roles import role_of_pool

ROOT = Path(__file__).resolve().parents[2]
HELM = ROOT / "infra" / "prefect" / "helm"
TEMPLATE = json.loads((ROOT / "infra/prefect/kubernetes/base-job-template.json").read_text())
DEPLOYMENTS = yaml.safe_load(PREFECT_FILE.read_text())["deployments"]
POOLS = sorted({d["work_pool"]["name"] for d in DEPLOYMENTS})


def _closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required or [],
    }


_IMAGE = _closed({"repository": {"type": "string"}, "prefectTag": {"type": "string"}})
WORKER_SCHEMA = _closed(
    {
        "fullnameOverride": {"type": "string"},
        "worker": _closed(
            {
                "apiConfig": {"enum": ["cloud", "selfHostedServer", "server"]},
                "selfHostedServerApiConfig": _closed({"apiUrl": {"type": "string"}}, ["apiUrl"]),
                "config": _closed(
                    {
                        "workPool": {"type": "string"},
                        "type": {"enum": ["kubernetes", "process"]},
                        "queryInterval": {"type": "integer", "minimum": 1},
                        "prefetchSeconds": {"type": "integer", "minimum": 0},
                    },
                    ["workPool", "type"],
                ),
                "image": _IMAGE,
                "nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            ["apiConfig", "config", "image"],
        ),
    },
    ["fullnameOverride", "worker"],
)
SERVER_SCHEMA = _closed(
    {
        "global": _closed({"prefect": _closed({"image": _IMAGE})}),
        "server": _closed(
            {
                "image": _IMAGE,
                "replicaCount": {"type": "integer", "minimum": 1},
                "uiConfig": _closed({"prefectUiApiUrl": {"type": "string"}}),
            }
        ),
        "backgroundServices": _closed(
            {
                "runAsSeparateDeployment": {"type": "boolean"},
                "messaging": _closed({"broker": {"type": "string"}, "cache": {"type": "string"}}),
            }
        ),
        "redis": _closed({"enabled": {"type": "boolean"}, "architecture": {"const": "standalone"}}),
        "postgresql": _closed({"enabled": {"type": "boolean"}}),
        "secret": _closed({"create": {"type": "boolean"}, "name": {"type": "string"}}),
    }
)
WORKER_FILES = sorted(HELM.glob("worker-*.values.yaml"))


def _values(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("path", WORKER_FILES, ids=[p.name for p in WORKER_FILES])
def test_worker_values_use_only_chart_keys(path: Path) -> None:
    jsonschema.validate(_values(path), WORKER_SCHEMA)


def test_one_worker_release_per_pool_with_distinct_names() -> None:
    values = [_values(p) for p in WORKER_FILES]
    assert sorted(v["worker"]["config"]["workPool"] for v in values) == POOLS
    names = [v["fullnameOverride"] for v in values]
    assert len(set(names)) == len(names)
    assert all(v["worker"]["config"]["type"] == "kubernetes" for v in values)


def test_each_worker_release_names_the_image_its_flow_runs_use() -> None:
    for path in WORKER_FILES:
        role = role_of_pool(_values(path)["worker"]["config"]["workPool"])
        assert role.image in path.read_text(), f"{path.name}: say which image its runs use"


def test_the_server_runs_services_apart_with_redis_on_an_external_database() -> None:
    values = _values(HELM / "prefect-server.values.yaml")
    jsonschema.validate(values, SERVER_SCHEMA)
    assert values["backgroundServices"]["runAsSeparateDeployment"] is True
    assert values["backgroundServices"]["messaging"]["broker"] == "prefect_redis.messaging"
    assert values["redis"]["enabled"] is True
    assert values["postgresql"]["enabled"] is False and values["secret"]["create"] is False


def test_a_typo_in_a_values_file_is_caught() -> None:
    values = _values(HELM / "worker-traceo.values.yaml")
    values["worker"]["config"]["workpool"] = values["worker"]["config"].pop("workPool")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(values, WORKER_SCHEMA)


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=[d["name"] for d in DEPLOYMENTS])
def test_every_job_variable_a_deployment_sets_is_declared_by_the_job_template(
    deployment: dict[str, Any],
) -> None:
    from prefect.server.schemas.actions import validate_base_job_template

    validate_base_job_template(TEMPLATE)
    variables = TEMPLATE["variables"]["properties"]
    given = deployment["work_pool"].get("job_variables") or {}
    assert set(given) <= set(variables)
    jsonschema.validate(given, {**TEMPLATE["variables"], "required": []})


def test_chaos_runs_as_the_service_account_chaos_mesh_rbac_binds() -> None:
    chaos = next(d for d in DEPLOYMENTS if d["name"] == "chaos-game-day")
    account = chaos["work_pool"]["job_variables"]["service_account_name"]
    default = TEMPLATE["variables"]["properties"]["service_account_name"]["default"]
    assert account != default  # other flow runs cannot touch Chaos Mesh resources
    rbac = list(yaml.safe_load_all((ROOT / "infra/kubernetes/chaos-mesh-rbac.yaml").read_text()))
    accounts = {d["metadata"]["name"] for d in rbac if d and d.get("kind") == "ServiceAccount"}
    subjects = {
        s["name"]
        for d in rbac
        if d and d.get("kind") in {"RoleBinding", "ClusterRoleBinding"}
        for s in d.get("subjects", [])
        if s.get("kind") == "ServiceAccount"
    }
    assert account in accounts and account in subjects
