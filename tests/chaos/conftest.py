"""Fixtures: one fault-proxy API, a sample HTTP shop and a TCP echo server per module."""

from __future__ import annotations

import contextlib
import socketserver
import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest

from infra.sandbox.sample_service.server import SampleService
from tasks.chaos import FaultProxyServer


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        with contextlib.suppress(ConnectionError):
            while data := self.request.recv(65536):
                self.request.sendall(data)


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture(scope="module")
def fault_proxy() -> Iterator[FaultProxyServer]:
    with FaultProxyServer() as server:
        yield server


@pytest.fixture(scope="module")
def shop() -> Iterator[SampleService]:
    with SampleService() as svc:
        yield svc


@pytest.fixture(scope="module")
def echo_address() -> Iterator[str]:
    server = _EchoServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(fault_proxy: FaultProxyServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fault_proxy.url, timeout=10) as client:
        yield client
        client.post("/reset")
        for name in list(client.get("/proxies").json()):
            client.delete(f"/proxies/{name}")


def make_proxy(api: httpx.Client, upstream: str) -> tuple[str, str]:
    """Create a proxy to ``upstream`` on a free port; return (name, listen address)."""
    name = f"p{uuid.uuid4().hex[:8]}"
    body = {"name": name, "listen": "127.0.0.1:0", "upstream": upstream}
    response = api.post("/proxies", json=body)
    assert response.status_code == 201, response.text
    return name, response.json()["listen"]
