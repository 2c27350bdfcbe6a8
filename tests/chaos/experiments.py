"""Build experiment files for tests: a proxy in front of the sample shop, fast checks, small SLO."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tasks.local_server import free_port

SLO = "test-latency"
FAULTS = "tasks.chaos.activities.faults"
PROBES = "tasks.chaos.activities.slo"

CHECKS = """
defaults: {service: shop-api, frequency: 1m, retry: {strategy: none}}
checks:
  - id: shop-health
    request: {url: "${SAMPLE_URL}/health", timeout_seconds: 3}
    degraded_ms: 150
    failed_ms: 250
    assertions: [{source: status_code, operator: equals, target: 200}]
  - id: shop-products-list
    request: {url: "${SAMPLE_URL}/api/products", timeout_seconds: 3}
    assertions: [{source: status_code, operator: equals, target: 200}]
"""

SLOS = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: test-latency}
spec:
  service: shop-api
  indicator:
    metadata: {name: test-products-latency}
    spec:
      thresholdMetric:
        metricSource:
          type: traceo
          spec:
            checks: [shop-products-list]
            metric: duration_ms
            verdicts: [pass, degraded, fail]
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{displayName: fast, op: lte, value: 200, target: 0.95}]
"""


def python(module: str, func: str, **arguments: Any) -> dict[str, Any]:
    provider: dict[str, Any] = {"type": "python", "module": module, "func": func}
    if arguments:
        provider["arguments"] = arguments
    return provider


def probe(name: str, tolerance: Any, func: str, **arguments: Any) -> dict[str, Any]:
    return {
        "type": "probe",
        "name": name,
        "tolerance": tolerance,
        "provider": python(PROBES, func, **arguments),
    }


def inject(latency_ms: int, name: str = "add-latency") -> dict[str, Any]:
    fault = {"target": "${proxy_name}", "type": "latency", "attributes": {"latency": latency_ms}}
    fault["verify_path"] = "/health"
    return {
        "type": "action",
        "name": name,
        "provider": python(FAULTS, "inject_fault", driver="proxy", fault=fault),
    }


def hold(seconds: float) -> dict[str, Any]:
    return {"type": "action", "name": "hold", "provider": python(FAULTS, "hold", seconds=seconds)}


def document(
    specs: Path,
    *,
    method: list[dict[str, Any]],
    probes: list[dict[str, Any]] | None = None,
    **traceo: Any,
) -> dict[str, Any]:
    """An experiment against the proxy named by CHAOS_PROXY_NAME, reading the test specs."""
    extension = {
        "name": "traceo",
        "service": "shop-api",
        "checks": ["shop-health", "shop-products-list"],
        "check_env": {"SAMPLE_URL": "http://${proxy_listen}"},
        "check_interval_seconds": 0.2,
        "max_duration_seconds": 30,
        **traceo,
    }
    doc: dict[str, Any] = {
        "title": "test experiment",
        "description": "a test",
        "configuration": {
            "proxy_api_url": {"type": "env", "key": "CHAOS_PROXY_API"},
            "proxy_name": {"type": "env", "key": "CHAOS_PROXY_NAME"},
            "proxy_listen": {"type": "env", "key": "CHAOS_PROXY_LISTEN"},
            "checks_path": str(specs / "checks.yaml"),
            "slos_path": str(specs / "slos.yaml"),
        },
        "extensions": [extension],
        "method": method,
        "rollbacks": [
            {"type": "action", "name": "remove", "provider": python(FAULTS, "remove_fault")}
        ],
    }
    if probes is not None:
        doc["steady-state-hypothesis"] = {"title": "shop is fine", "probes": probes}
    return doc


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(name="specs")
def specs_fixture(tmp_path: Path) -> Path:
    """Fast checks and a 200 ms latency SLO in tmp files."""
    (tmp_path / "checks.yaml").write_text(CHECKS, encoding="utf-8")
    (tmp_path / "slos.yaml").write_text(SLOS, encoding="utf-8")
    return tmp_path


@pytest.fixture(name="proxied")
def proxied_fixture(fault_proxy, shop, monkeypatch) -> Iterator[dict[str, str]]:
    """A proxy in front of the shop, and the env an experiment reads to reach it."""
    name = f"shop-{uuid.uuid4().hex[:8]}"
    listen = f"127.0.0.1:{free_port()}"
    body = {"name": name, "listen": listen, "upstream": f"{shop.host}:{shop.port}"}
    with httpx.Client(base_url=fault_proxy.url, timeout=10) as api:
        assert api.post("/proxies", json=body).status_code == 201
        env = {
            "CHAOS_PROXY_API": fault_proxy.url,
            "CHAOS_PROXY_NAME": name,
            "CHAOS_PROXY_LISTEN": listen,
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield env
        api.delete(f"/proxies/{name}")
    shop.set_faults()


def toxics(env: dict[str, str]) -> list[dict[str, Any]]:
    response = httpx.get(f"{env['CHAOS_PROXY_API']}/proxies/{env['CHAOS_PROXY_NAME']}")
    return list(response.json()["toxics"])
