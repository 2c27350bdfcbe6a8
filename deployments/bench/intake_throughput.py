"""Intake throughput: signed DSR webhooks accepted per second on loopback.

The intake app runs under uvicorn in a thread of this process, on a fresh SQLite store, with a
stub starter (flow runs are not awaited: the 202 never waits for them). Clients are
``httpx.Client`` instances in 16 threads, each request a distinct ticket signed with the generic
scheme (HMAC over timestamp + body); every answer must be 202. Signing happens before the timer.

- ours: signed webhooks verified, validated, de-duplicated and stored, per second;
- reference: the same app's unsigned ``/healthz`` (no signature, no store), same clients, same run.
"""

from __future__ import annotations

import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from deployments.bench import Measurement

__all__ = ["run"]

TARGET_PER_S = 1000.0
TARGET_RATIO = 0.8  # of the reference, on the same stack and clients
_THREADS = 16
_SECRET = "bench-secret"
_Job = tuple[str, bytes | None, dict[str, str]]  # path, body (None: GET), headers


class _StubStarter:
    def start(
        self, deployment: str, parameters: dict[str, Any], idempotency_key: str | None = None
    ) -> str:
        return "00000000-0000-4000-8000-000000000000"


def _bodies(n: int) -> list[tuple[bytes, dict[str, str]]]:
    from deployments.intake.signing import sign_request

    out = []
    for i in range(n):
        body = json.dumps(
            {
                "ticket_id": f"BENCH-{i}",
                "request_type": "erasure",
                "jurisdiction": "GDPR",
                "identities": {"email": f"subject{i}@example.com"},
            }
        ).encode()
        headers = sign_request("generic", body, _SECRET)
        out.append((body, {"Content-Type": "application/json", **headers}))
    return out


def _rate(url: str, jobs: list[_Job], expect: int) -> float:
    import httpx

    chunks = [jobs[i::_THREADS] for i in range(_THREADS)]

    def worker(chunk: list[_Job]) -> int:
        bad = 0
        with httpx.Client(base_url=url, timeout=30) as client:
            for path, body, headers in chunk:
                if body is None:
                    response = client.get(path)
                else:
                    response = client.post(path, content=body, headers=headers)
                bad += response.status_code != expect
        return bad

    started = time.perf_counter()
    with ThreadPoolExecutor(_THREADS) as pool:
        bad = sum(pool.map(worker, chunks))
    elapsed = time.perf_counter() - started
    if bad:
        raise RuntimeError(f"{bad} of {len(jobs)} requests did not answer {expect}")
    return len(jobs) / elapsed


def run(quick: bool) -> list[Measurement]:
    from deployments.intake.app import create_app
    from tasks.local_server import ThreadedApp
    from tasks.store import get_engine

    n = 300 if quick else 2000
    with tempfile.TemporaryDirectory(prefix="traceo-intake-bench-") as tmp:
        engine = get_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        app = create_app(engine, _StubStarter(), {"generic": _SECRET})
        signed: list[_Job] = [("/v1/dsr/generic", body, headers) for body, headers in _bodies(n)]
        health: list[_Job] = [("/healthz", None, {})] * n
        with ThreadedApp(app, "intake-bench") as server:
            _rate(server.url, health[: min(100, n)], 200)  # warm up connections and the app
            reference = _rate(server.url, health, 200)
            ours = _rate(server.url, signed, 202)
        engine.dispose()
    return [
        Measurement(
            workload="intake_throughput",
            ours=ours,
            reference=reference,
            unit="req/s",
            ratio=ours / reference,
            target=f">= {TARGET_PER_S:.0f} signed webhooks/s and >= {TARGET_RATIO}x",
            met=ours >= TARGET_PER_S and ours / reference >= TARGET_RATIO,
            note=(
                f"{n} signed generic webhooks, each stored on SQLite, {_THREADS} client threads; "
                "reference: the same app's unsigned /healthz"
            ),
        )
    ]
