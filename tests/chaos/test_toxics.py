"""Each toxic, measured through a real proxy against local servers."""

from __future__ import annotations

import math
import socket
import statistics
import time

import httpx
import pytest

from infra.sandbox.sample_service.server import SampleService
from tests.chaos.conftest import make_proxy


def _connect(listen: str) -> socket.socket:
    host, port = listen.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=5)


def _recv_all(sock: socket.socket, want: int, deadline_s: float = 5) -> bytes:
    got = b""
    end = time.monotonic() + deadline_s
    while len(got) < want and time.monotonic() < end:
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def _times_ms(client: httpx.Client, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        assert client.get("/health").status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    return times


# A toxic's delay is a floor every request must pay, whatever the machine is doing: assert that.
# What a loaded machine adds on top is unbounded, so the only ceiling is a baseline measured in
# the same test plus twice the delay, which still catches a delay applied twice.


def test_latency_adds_the_configured_delay(api: httpx.Client, shop: SampleService) -> None:
    name, listen = make_proxy(api, shop.url.removeprefix("http://"))
    with httpx.Client(base_url=f"http://{listen}", timeout=5) as client:
        base = statistics.median(_times_ms(client, 20))
        toxic = {"type": "latency", "attributes": {"latency": 100, "jitter": 5}}
        api.post(f"/proxies/{name}/toxics", json=toxic)
        delayed = _times_ms(client, 10)
    assert min(delayed) >= 95  # latency - jitter
    assert statistics.median(delayed) - base < 200


def test_upstream_latency_delays_requests(api: httpx.Client, shop: SampleService) -> None:
    name, listen = make_proxy(api, shop.url.removeprefix("http://"))
    toxic = {"type": "latency", "stream": "upstream", "attributes": {"latency": 60}}
    with httpx.Client(base_url=f"http://{listen}", timeout=5) as client:
        base = statistics.median(_times_ms(client, 10))
        api.post(f"/proxies/{name}/toxics", json=toxic)
        delayed = _times_ms(client, 5)
    assert min(delayed) >= 60
    assert statistics.median(delayed) - base < 120


def test_http_error_rate_is_within_binomial_bounds(api: httpx.Client, shop: SampleService) -> None:
    name, listen = make_proxy(api, shop.url.removeprefix("http://"))
    toxic = {"type": "http_error", "attributes": {"status": 503, "rate": 0.3}}
    api.post(f"/proxies/{name}/toxics", json=toxic)
    n, p = 400, 0.3
    with httpx.Client(base_url=f"http://{listen}", timeout=5) as client:
        statuses = [client.get("/health").status_code for _ in range(n)]
    errors = statuses.count(503)
    assert set(statuses) <= {200, 503}
    assert abs(errors - n * p) <= 4 * math.sqrt(n * p * (1 - p))


def test_toxicity_zero_never_applies(api: httpx.Client, shop: SampleService) -> None:
    name, listen = make_proxy(api, shop.url.removeprefix("http://"))
    toxic = {"type": "http_error", "toxicity": 0, "attributes": {"rate": 1}}
    api.post(f"/proxies/{name}/toxics", json=toxic)
    assert httpx.get(f"http://{listen}/health", timeout=5).status_code == 200


def test_bandwidth_paces_the_stream(api: httpx.Client, echo_address: str) -> None:
    payload = b"x" * 50_000  # 0.5 s at 100 KB/s, 0.125 s at 400 KB/s

    def transfer(rate_kb_s: int) -> float:
        name, listen = make_proxy(api, echo_address)
        toxic = {"type": "bandwidth", "attributes": {"rate": rate_kb_s}}
        api.post(f"/proxies/{name}/toxics", json=toxic)
        with _connect(listen) as sock:
            start = time.monotonic()
            sock.sendall(payload)
            assert _recv_all(sock, len(payload)) == payload
            return time.monotonic() - start

    slow, fast = transfer(100), transfer(400)
    assert slow >= 0.4  # the rate is a ceiling no machine can beat
    assert fast < slow  # and it is the rate that sets the pace


def test_limit_data_cuts_the_connection(api: httpx.Client, echo_address: str) -> None:
    name, listen = make_proxy(api, echo_address)
    api.post(f"/proxies/{name}/toxics", json={"type": "limit_data", "attributes": {"bytes": 1000}})
    with _connect(listen) as sock:
        sock.sendall(b"y" * 5000)
        got = _recv_all(sock, 5000)
    assert got == b"y" * 1000


def test_timeout_drops_data_then_closes(api: httpx.Client, echo_address: str) -> None:
    name, listen = make_proxy(api, echo_address)
    api.post(f"/proxies/{name}/toxics", json={"type": "timeout", "attributes": {"timeout": 300}})
    with _connect(listen) as sock:
        start = time.monotonic()
        sock.sendall(b"hello")
        assert sock.recv(16) == b""  # closed, nothing forwarded (within the socket's 5 s)
        elapsed = time.monotonic() - start
    assert elapsed >= 0.25


def test_timeout_zero_holds_until_removed(api: httpx.Client, echo_address: str) -> None:
    name, listen = make_proxy(api, echo_address)
    api.post(f"/proxies/{name}/toxics", json={"type": "timeout", "attributes": {"timeout": 0}})
    with _connect(listen) as sock:
        sock.sendall(b"held")
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(16)
        api.delete(f"/proxies/{name}/toxics/timeout_downstream")
        sock.settimeout(5)
        assert sock.recv(16) == b"held"


def test_reset_peer_resets_the_connection(api: httpx.Client, echo_address: str) -> None:
    name, listen = make_proxy(api, echo_address)
    api.post(f"/proxies/{name}/toxics", json={"type": "reset_peer", "attributes": {"timeout": 100}})
    with _connect(listen) as sock:
        start = time.monotonic()
        sock.sendall(b"ping")
        assert sock.recv(16) == b"ping"  # traffic flows until the timeout
        with pytest.raises(ConnectionResetError):
            sock.recv(16)
        elapsed = time.monotonic() - start
    assert elapsed >= 0.09


def test_slow_close_delays_the_close(api: httpx.Client, echo_address: str) -> None:
    name, listen = make_proxy(api, echo_address)
    toxic = {"type": "slow_close", "stream": "upstream", "attributes": {"delay": 300}}
    api.post(f"/proxies/{name}/toxics", json=toxic)
    with _connect(listen) as sock:
        sock.sendall(b"bye")
        assert sock.recv(16) == b"bye"
        start = time.monotonic()
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(16) == b""
        elapsed = time.monotonic() - start
    assert elapsed >= 0.25


def test_http_error_answers_with_a_canned_response(api: httpx.Client, shop: SampleService) -> None:
    name, listen = make_proxy(api, shop.url.removeprefix("http://"))
    toxic = {"type": "http_error", "stream": "upstream", "attributes": {"status": 429, "rate": 1}}
    api.post(f"/proxies/{name}/toxics", json=toxic)
    response = httpx.get(f"http://{listen}/health", timeout=5)
    assert response.status_code == 429
    assert response.headers["x-fault-proxy"] == "http_error"
    assert response.headers["connection"] == "close"
    assert response.json() == {"error": "injected by fault proxy", "status": 429}


def test_toxic_removed_mid_connection_stops_applying(
    api: httpx.Client, shop: SampleService
) -> None:
    name, listen = make_proxy(api, shop.url.removeprefix("http://"))
    api.post(f"/proxies/{name}/toxics", json={"type": "latency", "attributes": {"latency": 300}})
    with httpx.Client(base_url=f"http://{listen}", timeout=5) as client:
        assert min(_times_ms(client, 3)) >= 300
        api.delete(f"/proxies/{name}/toxics/latency_downstream")
        assert min(_times_ms(client, 5)) < 300  # a request under the floor: no longer applied


def test_clean_proxy_passes_a_large_payload_intact(api: httpx.Client, echo_address: str) -> None:
    _, listen = make_proxy(api, echo_address)
    payload = bytes(range(256)) * 4096  # 1 MiB
    with _connect(listen) as sock:
        sock.sendall(payload)
        assert _recv_all(sock, len(payload)) == payload


def test_unreachable_upstream_closes_the_client(api: httpx.Client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"  # bound, not listening: refused
        _, listen = make_proxy(api, dead)
        with _connect(listen) as sock:
            assert sock.recv(16) == b""
