"""Probe throughput: our batch engine vs one Prefect task per check, against a local server.

The server is a minimal ASGI app under uvicorn in a subprocess (its own core, so the client's
CPU is what is measured), answering a small JSON document like a health endpoint. Every check
asserts on the status, a JSON property and the response time, as real checks do.

- ours: ``run_checks`` over N checks (2,000; 200 with ``--quick``), in one process;
- reference: the naive design, one Prefect task per check inside a flow, on a subset (100; 20),
  timed inside the flow so the ephemeral server's start-up is not counted.

Run the server alone with ``python -m deployments.bench.probe_throughput --serve PORT``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from deployments.bench import Measurement
from tasks.local_server import free_port

__all__ = ["run"]

TARGET_CHECKS_PER_S = 500.0
TARGET_RATIO = 10.0
_BODY = b'{"status":"UP","version":"1.4.2","checks":{"db":"UP"}}'


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_BODY))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _BODY})


def _serve(port: int) -> None:
    import uvicorn

    uvicorn.run(_app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextmanager
def _server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "deployments.bench.probe_throughput", "--serve", str(port)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("benchmark server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _checks(n: int) -> list[Any]:
    from tasks.probes.spec import HttpCheck

    assertions = [
        {"source": "status_code", "operator": "equals", "target": 200},
        {"source": "json_body", "property": "$.status", "operator": "equals", "target": "UP"},
        {"source": "response_time", "operator": "less_than", "target": 5000},
    ]
    return [
        HttpCheck.model_validate(
            {
                "id": f"bench-{i:05d}",
                "service": "bench",
                "request": {"url": "${BENCH_URL}/health", "timeout_seconds": 10},
                "assertions": assertions,
            }
        )
        for i in range(n)
    ]


def _ours(checks: list[Any], url: str) -> tuple[float, int]:
    from tasks.probes.http import run_checks_sync

    at = datetime.now(UTC)
    run_checks_sync(checks[:50], "us-east-1", at, env={"BENCH_URL": url})  # warm up imports
    start = time.perf_counter()
    results = run_checks_sync(checks, "us-east-1", at, env={"BENCH_URL": url})
    elapsed = time.perf_counter() - start
    return len(checks) / elapsed, sum(r.verdict == "pass" for r in results)


def _prefect_env() -> None:
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def _in_prefect(checks: list[Any], subset: list[Any], url: str) -> tuple[float, float]:
    """(reference checks/s with one task per check, ours via the batch task), in one flow."""
    _prefect_env()
    os.environ["BENCH_URL"] = url  # the tasks read ${BENCH_URL} from the environment
    from prefect import flow, task

    from tasks.probes.http import run_checks_sync
    from tasks.probes.tasks import run_check_batch

    @task(name="probe-one-check")
    def probe_one(check: Any, at: datetime) -> str:
        return run_checks_sync([check], "us-east-1", at)[0].verdict

    @flow(name="bench-probe-throughput")
    def bench_flow() -> tuple[float, float]:
        at = datetime.now(UTC)
        probe_one(subset[0], at)  # the first task run pays one-off costs
        start = time.perf_counter()
        for check in subset:
            probe_one(check, at)
        reference = len(subset) / (time.perf_counter() - start)
        start = time.perf_counter()
        run_check_batch(checks, "us-east-1", at)
        batched = len(checks) / (time.perf_counter() - start)
        return reference, batched

    return bench_flow()


def run(quick: bool) -> list[Measurement]:
    """Measure checks/s of our engine and of one-task-per-check (see the module docstring)."""
    n, subset_n = (200, 20) if quick else (2000, 100)
    checks = _checks(n)
    with _server() as url:
        ours, passed = _ours(checks, url)
        reference, batched = _in_prefect(checks, checks[:subset_n], url)
    ratio = ours / reference
    met = ratio >= TARGET_RATIO and (quick or ours >= TARGET_CHECKS_PER_S)
    note = (
        f"{n} checks ({passed} passed) in one process; reference = one Prefect task per check "
        f"on {subset_n} checks inside a flow; ours via the batch @task in a flow: "
        f"{batched:,.0f} checks/s"
    )
    return [
        Measurement(
            workload="probe_throughput",
            ours=ours,
            reference=reference,
            unit="checks/s",
            ratio=ratio,
            target=f"≥{TARGET_CHECKS_PER_S:.0f} checks/s and ≥{TARGET_RATIO:.0f}x "
            "one-task-per-check",
            met=met,
            note=note,
        )
    ]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        _serve(int(sys.argv[2]))
    else:  # pragma: no cover - manual use
        for m in run(quick="--quick" in sys.argv):
            print(m)
