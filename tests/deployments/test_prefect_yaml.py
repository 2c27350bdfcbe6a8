"""Every deployment in deployments/prefect.yaml points at a real flow whose parameters fit."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml
from prefect import Flow
from prefect.utilities.callables import parameter_schema

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())["deployments"]


def _load_flow(entrypoint: str) -> Flow:
    path, name = entrypoint.split(":")
    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=[d["name"] for d in DEPLOYMENTS])
def test_deployment_entrypoint_is_a_flow_accepting_its_parameters(deployment):
    flow = _load_flow(deployment["entrypoint"])
    assert isinstance(flow, Flow)
    schema = parameter_schema(flow.fn)
    params = deployment.get("parameters") or {}
    assert set(params) <= set(schema.properties)
    assert set(schema.required or []) <= set(params)


def test_every_probe_region_has_its_own_work_pool():
    probes = [d for d in DEPLOYMENTS if d["entrypoint"].startswith("flows/synthetic.py")]
    regions = {d["parameters"]["region"] for d in probes}
    assert regions == {"us-east-1", "eu-west-1", "ap-northeast-1"}
    assert all(d["work_pool"]["name"] == f"probes-{d['parameters']['region']}" for d in probes)
