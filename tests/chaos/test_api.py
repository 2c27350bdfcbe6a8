"""The control API: Toxiproxy's JSON shapes, validation, reset and enable/disable."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.chaos.conftest import make_proxy


def test_version_and_proxy_json_shapes(api: httpx.Client, echo_address: str) -> None:
    assert "version" in api.get("/version").json()
    name, listen = make_proxy(api, echo_address)
    proxy = api.get(f"/proxies/{name}").json()
    assert proxy == {
        "name": name,
        "listen": listen,
        "upstream": echo_address,
        "enabled": True,
        "toxics": [],
    }
    assert api.get("/proxies").json()[name] == proxy
    toxic = {"type": "latency", "attributes": {"latency": 10}}
    created = api.post(f"/proxies/{name}/toxics", json=toxic).json()
    assert created == {
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1.0,
        "attributes": {"latency": 10, "jitter": 0},
    }
    assert api.get(f"/proxies/{name}/toxics").json() == [created]
    assert api.get(f"/proxies/{name}/toxics/latency_downstream").json() == created
    updated = api.post(
        f"/proxies/{name}/toxics/latency_downstream", json={"attributes": {"jitter": 2}}
    ).json()
    assert updated["attributes"] == {"latency": 10, "jitter": 2}
    assert api.delete(f"/proxies/{name}/toxics/latency_downstream").status_code == 204
    assert api.get(f"/proxies/{name}/toxics").json() == []
    assert api.delete(f"/proxies/{name}").status_code == 204
    assert api.get(f"/proxies/{name}").status_code == 404


@pytest.mark.parametrize(
    ("toxic", "field"),
    [
        ({"type": "latenzy"}, "type"),
        ({"type": "latency", "attributes": {"latency": -5}}, "attributes.latency"),
        ({"type": "latency", "attributes": {"delay": 5}}, "attributes.delay"),
        ({"type": "latency", "stream": "sideways"}, "stream"),
        ({"type": "latency", "toxicity": 1.5}, "toxicity"),
        ({"type": "http_error", "attributes": {"status": 200}}, "attributes.status"),
        ({"type": "http_error", "attributes": {"rate": 2}}, "attributes.rate"),
        ({"type": "bandwidth", "attributes": {"rate": "fast"}}, "attributes.rate"),
    ],
)
def test_bad_toxic_is_rejected_naming_the_field(
    api: httpx.Client, echo_address: str, toxic: dict[str, object], field: str
) -> None:
    name, _ = make_proxy(api, echo_address)
    response = api.post(f"/proxies/{name}/toxics", json=toxic)
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{field}:")
    assert api.get(f"/proxies/{name}/toxics").json() == []


def test_duplicate_names_and_busy_port_conflict(api: httpx.Client, echo_address: str) -> None:
    name, listen = make_proxy(api, echo_address)
    again = api.post("/proxies", json={"name": name, "upstream": echo_address})
    assert again.status_code == 409
    assert again.json()["error"].startswith("name:")
    busy = api.post("/proxies", json={"name": "other", "listen": listen, "upstream": echo_address})
    assert busy.status_code == 409
    assert busy.json()["error"].startswith("listen:")
    bad = api.post("/proxies", json={"name": "x", "upstream": "nowhere"})
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("upstream:")


def test_disabled_proxy_refuses_connections(api: httpx.Client, echo_address: str) -> None:
    name, listen = make_proxy(api, echo_address)
    host, port = listen.rsplit(":", 1)
    assert api.post(f"/proxies/{name}", json={"enabled": False}).json()["enabled"] is False
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=2)
    assert api.post(f"/proxies/{name}", json={"enabled": True}).json()["enabled"] is True
    with socket.create_connection((host, int(port)), timeout=2) as sock:
        sock.sendall(b"ping")
        assert sock.recv(16) == b"ping"


def test_reset_clears_toxics_and_enables_proxies(api: httpx.Client, shop: object) -> None:
    upstream = shop.url.removeprefix("http://")  # type: ignore[attr-defined]
    name, listen = make_proxy(api, upstream)
    toxic = {"type": "http_error", "attributes": {"status": 503, "rate": 1}}
    api.post(f"/proxies/{name}/toxics", json=toxic)
    assert httpx.get(f"http://{listen}/health", timeout=5).status_code == 503
    api.post(f"/proxies/{name}", json={"enabled": False})
    assert api.post("/reset").status_code == 204
    proxy = api.get(f"/proxies/{name}").json()
    assert proxy["toxics"] == [] and proxy["enabled"] is True
    with httpx.Client(base_url=f"http://{listen}", timeout=5) as client:
        assert all(client.get("/health").status_code == 200 for _ in range(20))


def test_unknown_names_and_bad_json_are_reported(api: httpx.Client, echo_address: str) -> None:
    assert api.get("/proxies/missing").status_code == 404
    assert api.delete("/proxies/missing").status_code == 404
    name, _ = make_proxy(api, echo_address)
    assert api.get(f"/proxies/{name}/toxics/missing").status_code == 404
    assert api.post(f"/proxies/{name}/toxics/missing", json={}).status_code == 404
    assert api.delete(f"/proxies/{name}/toxics/missing").status_code == 404
    bad = api.post(f"/proxies/{name}/toxics", content=b"{not json")
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("body:")
    toxic = {"type": "latency", "name": "slow"}
    assert api.post(f"/proxies/{name}/toxics", json=toxic).status_code == 200
    dup = api.post(f"/proxies/{name}/toxics", json=toxic)
    assert dup.status_code == 409
    change = api.post(f"/proxies/{name}/toxics/slow", json={"type": "timeout"})
    assert change.status_code == 400
    assert change.json()["error"].startswith("type:")


def test_moving_to_a_busy_port_keeps_the_old_listener(api: httpx.Client, echo_address: str) -> None:
    name, listen = make_proxy(api, echo_address)
    _, other = make_proxy(api, echo_address)
    moved = api.post(f"/proxies/{name}", json={"listen": other})
    assert moved.status_code == 409
    assert api.get(f"/proxies/{name}").json()["listen"] == listen
    host, port = listen.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=2) as sock:
        sock.sendall(b"still")
        assert sock.recv(16) == b"still"
