"""The proxy driver against the real fault proxy: inject, remove (twice), verify."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tasks.chaos.drivers.base import FaultDriver, FaultHandle
from tasks.chaos.drivers.proxy import ProxyDriver
from tasks.chaos.drivers.registry import build_driver, driver_class
from tasks.errors import ConfigurationError, ServiceUnavailableError
from tasks.local_server import free_port
from tests.chaos.conftest import make_proxy


@pytest.fixture
def driver(fault_proxy) -> ProxyDriver:
    return ProxyDriver.from_configuration({"proxy_api_url": fault_proxy.url})


def test_latency_toxic_is_added_then_removed_and_traffic_verified_clean(api, shop, driver):
    name, listen = make_proxy(api, f"{shop.host}:{shop.port}")
    fault = {"target": name, "type": "latency", "attributes": {"latency": 300}}
    handle = driver.inject({**fault, "verify_path": "/health", "verify_max_ms": 250})

    assert isinstance(driver, FaultDriver) and handle.driver == "proxy"
    assert [t["type"] for t in api.get(f"/proxies/{name}/toxics").json()] == ["latency"]
    slow = driver.verify_removed(handle)
    assert not slow.clean and "still on" in slow.detail

    driver.remove(handle)
    driver.remove(handle)  # idempotent

    assert api.get(f"/proxies/{name}/toxics").json() == []
    verification = driver.verify_removed(FaultHandle.from_json(handle.to_json()))
    assert verification.clean and verification.detail.startswith(f"GET /health through {listen}")


def test_verification_notices_slow_traffic_even_without_the_toxic_listed(api, shop, driver):
    name, _ = make_proxy(api, f"{shop.host}:{shop.port}")
    handle = driver.inject({"target": name, "type": "latency", "attributes": {"latency": 1}})
    driver.remove(handle)
    # Someone else's toxic keeps the proxy slow: the fault is not observably gone.
    api.post(f"/proxies/{name}/toxics", json={"type": "latency", "attributes": {"latency": 400}})
    slow = FaultHandle(
        "proxy", name, {**handle.details, "verify_path": "/health", "verify_max_ms": 200}
    )
    verification = driver.verify_removed(slow)
    assert not verification.clean and "took" in verification.detail
    assert verification.detail.count(",") == 2  # every one of the three requests was slow


def test_missing_proxy_is_created_when_listen_and_upstream_are_given(api, shop, driver):
    name = f"p{uuid.uuid4().hex[:8]}"
    listen = f"127.0.0.1:{free_port()}"
    fault = {
        "target": name,
        "type": "reset_peer",
        "listen": listen,
        "upstream": f"{shop.host}:{shop.port}",
    }
    handle = driver.inject(fault)
    assert handle.details["created_proxy"] and api.get(f"/proxies/{name}").status_code == 200

    driver.remove(handle)

    assert api.get(f"/proxies/{name}").status_code == 404
    assert driver.verify_removed(handle).clean


def test_unknown_proxy_and_bad_toxic_are_configuration_errors(api, shop, driver):
    with pytest.raises(ConfigurationError, match="find proxy 'nope'"):
        driver.inject({"target": "nope", "type": "latency"})
    name, _ = make_proxy(api, f"{shop.host}:{shop.port}")
    with pytest.raises(ConfigurationError, match="add a warp toxic"):
        driver.inject({"target": name, "type": "warp"})
    with pytest.raises(ConfigurationError, match=r"fault\.target"):
        driver.inject({"type": "latency"})


def test_unreachable_api_is_transient():
    driver = ProxyDriver(f"http://127.0.0.1:{free_port()}", timeout=1)
    with pytest.raises(ServiceUnavailableError, match="unreachable"):
        driver.inject({"target": "shop", "type": "latency"})


def test_api_failures_reach_the_caller_through_a_mock_transport():
    transport = httpx.MockTransport(lambda r: httpx.Response(500, json={"error": "boom"}))
    driver = ProxyDriver("http://proxy", transport=transport)
    handle = FaultHandle("proxy", "shop", {"toxic": "t"})
    with pytest.raises(ConfigurationError, match="remove toxic 't': boom"):
        driver.remove(handle)
    assert not driver.verify_removed(handle).clean


def test_registry_builds_drivers_by_name_and_rejects_unknown_ones(fault_proxy):
    from tasks.chaos.drivers.registry import DRIVERS

    assert driver_class("proxy") is ProxyDriver
    assert {name: driver_class(name).name for name in DRIVERS} == {n: n for n in DRIVERS}
    built = build_driver("proxy", {"proxy_api_url": fault_proxy.url})
    assert isinstance(built, ProxyDriver)
    with pytest.raises(ConfigurationError, match="unknown fault driver 'warp'"):
        driver_class("warp")
    with pytest.raises(ConfigurationError, match="proxy_api_url"):
        build_driver("proxy", {}).inject({"target": "shop", "type": "latency"})
