"""Benchmark ``fault_proxy``: HTTP through the local fault proxy vs direct to the same server.

The upstream is a minimal ASGI health endpoint under uvicorn in a subprocess; the fault proxy
(API and proxies, :class:`tasks.chaos.FaultProxyServer`) runs in another, as it would in use,
so the client's process measures only itself. Clients are ``httpx.AsyncClient`` with keep-alive.

- throughput: N requests (2,000; 400 with ``--quick``) over 4 concurrent keep-alive clients,
  ours = through the proxy with no toxic, reference = direct, both in req/s;
- added latency: median of sequential requests through the proxy minus direct;
- injected latency: with a 100 ms downstream ``latency`` toxic, median added over the clean proxy.

Run the processes alone with ``python -m deployments.bench.fault_proxy --serve PORT`` or
``--proxy-api PORT``.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from deployments.bench import Measurement
from tasks.local_server import free_port

__all__ = ["run"]

CONCURRENCY = 4
INJECTED_MS = 100.0
TARGET_RATIO = 0.5
TARGET_ADDED_MS = 1.0
TARGET_ACCURACY = 0.1
_BODY = b'{"status":"UP"}'


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_BODY))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _BODY})


@contextmanager
def _process(flag: str) -> Iterator[int]:
    port = free_port()
    cmd = [sys.executable, "-m", "deployments.bench.fault_proxy", flag, str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"benchmark process {flag} did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _throughput(url: str, n: int) -> float:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:

        async def worker(count: int) -> None:
            for _ in range(count):
                response = await client.get("/health")
                response.raise_for_status()

        await asyncio.gather(*(worker(20) for _ in range(CONCURRENCY)))  # warm connections
        start = time.perf_counter()
        await asyncio.gather(*(worker(n // CONCURRENCY) for _ in range(CONCURRENCY)))
        return (n // CONCURRENCY * CONCURRENCY) / (time.perf_counter() - start)


def _median_ms(url: str, n: int) -> float:
    times = []
    with httpx.Client(base_url=url, timeout=10) as client:
        client.get("/health")
        for _ in range(n):
            start = time.perf_counter()
            client.get("/health").raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(quick: bool) -> list[Measurement]:
    n, n_lat, n_inj = (400, 100, 10) if quick else (2000, 400, 30)
    with _process("--serve") as upstream_port, _process("--proxy-api") as api_port:
        direct = f"http://127.0.0.1:{upstream_port}"
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=10) as api:
            body = {"name": "bench", "listen": "127.0.0.1:0", "upstream": direct[7:]}
            created = api.post("/proxies", json=body)
            created.raise_for_status()
            proxied = f"http://{created.json()['listen']}"
            reference = asyncio.run(_throughput(direct, n))
            ours = asyncio.run(_throughput(proxied, n))
            direct_ms, proxy_ms = _median_ms(direct, n_lat), _median_ms(proxied, n_lat)
            toxic = {"type": "latency", "attributes": {"latency": INJECTED_MS}}
            api.post("/proxies/bench/toxics", json=toxic).raise_for_status()
            injected = _median_ms(proxied, n_inj) - proxy_ms
    added = proxy_ms - direct_ms
    error = abs(injected - INJECTED_MS) / INJECTED_MS
    ratio = ours / reference
    met = ratio >= TARGET_RATIO and added < TARGET_ADDED_MS and error <= TARGET_ACCURACY
    note = (
        f"{n} requests, {CONCURRENCY} keep-alive clients; median latency direct "
        f"{direct_ms:.3f} ms, proxy {proxy_ms:.3f} ms (added {added:.3f} ms); "
        f"100 ms latency toxic measured {injected:.1f} ms added ({error:.1%} off)"
    )
    return [
        Measurement(
            workload="fault_proxy",
            ours=ours,
            reference=reference,
            unit="req/s",
            ratio=ratio,
            target=">= 50% of direct, < 1 ms added median latency, injected latency within 10%",
            met=met,
            note=note,
        )
    ]


def _serve_proxy_api(port: int) -> None:
    from tasks.chaos import FaultProxyServer

    with FaultProxyServer(port=port):
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        import uvicorn

        uvicorn.run(_app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
    elif len(sys.argv) == 3 and sys.argv[1] == "--proxy-api":
        _serve_proxy_api(int(sys.argv[2]))
    else:
        raise SystemExit("usage: python -m deployments.bench.fault_proxy --serve|--proxy-api PORT")
