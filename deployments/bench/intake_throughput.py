"""Intake throughput: signed DSR webhooks accepted per second on loopback, next to a bare app.

Two servers run side by side, each in a child process on the same stack
(:mod:`deployments.bench.intake_server`: uvicorn with uvloop and httptools, one process, no
access log, as ``traceo intake serve`` runs):

- ours: the intake on a fresh SQLite store (flow starts stubbed); every request a distinct
  ticket signed with the generic scheme (HMAC over timestamp + body), each verified, validated,
  de-duplicated and durably stored before its 202;
- reference: a bare FastAPI app that reads the same bodies and answers 200.

They are measured in :data:`_ROUNDS` interleaved rounds (reference, ours, reference, ...); the
figures are the medians of each side.

The client is the same for both: :data:`_CONNECTIONS` keep-alive connections from one asyncio
loop in this process, each sending its next request once the previous answer is read, the
requests rendered and signed before the timer starts. It is cheap next to either server, so the
figures are the servers'. The machine's load average is printed with the result: other work on
the same cores lowers both figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from deployments.bench import Measurement
from deployments.bench.intake_server import DSR_PATH, SECRET, served

__all__ = ["run"]

TARGET_PER_S = 1000.0
TARGET_RATIO = 0.8  # of the reference, on the same stack and clients
_CONNECTIONS = 32
_ROUNDS = 3


def _requests(n: int, port: int, prefix: str) -> list[bytes]:
    """``n`` signed requests for distinct tickets ``<prefix>-<i>``, as raw HTTP/1.1 bytes."""
    from deployments.intake.signing import sign_request

    out = []
    for i in range(n):
        body = json.dumps(
            {
                "ticket_id": f"{prefix}-{i}",
                "request_type": "erasure",
                "jurisdiction": "GDPR",
                "identities": {"email": f"subject{i}@example.com"},
            }
        ).encode()
        headers = {
            "Host": f"127.0.0.1:{port}",
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            **sign_request("generic", body, SECRET),
        }
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        out.append(f"POST {DSR_PATH} HTTP/1.1\r\n{head}\r\n".encode() + body)
    return out


async def _connection(port: int, requests: list[bytes], statuses: Counter[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            writer.write(request)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            statuses[status] += 1
    finally:
        writer.close()


async def _drive(port: int, requests: list[bytes]) -> tuple[float, Counter[int]]:
    statuses: Counter[int] = Counter()
    chunks = [requests[i::_CONNECTIONS] for i in range(_CONNECTIONS)]
    started = time.perf_counter()
    await asyncio.gather(*(_connection(port, chunk, statuses) for chunk in chunks))
    return time.perf_counter() - started, statuses


def _rate(port: int, requests: list[bytes], expect: int) -> float:
    elapsed, statuses = asyncio.run(_drive(port, requests))
    if statuses != {expect: len(requests)}:
        raise RuntimeError(f"expected {len(requests)} answers {expect}, got {dict(statuses)}")
    return len(requests) / elapsed


def run(quick: bool) -> list[Measurement]:
    n = 300 if quick else 3000
    ours, reference = [], []
    with (
        tempfile.TemporaryDirectory(prefix="traceo-intake-bench-") as tmp,
        served("bare", Path(tmp)) as (bare, _),
        served("ours", Path(tmp)) as (intake, _),
    ):
        for port, expect in ((bare, 200), (intake, 202)):  # warm up (other tickets)
            _rate(port, _requests(min(200, n), port, "WARM"), expect)
        # Interleaved rounds: a burst of other work on the machine slows one round of each, not
        # the whole of one side.
        for round_ in range(_ROUNDS):
            reference.append(_rate(bare, _requests(n, bare, f"REF{round_}"), 200))
            ours.append(_rate(intake, _requests(n, intake, f"BENCH{round_}"), 202))
    load = os.getloadavg()[0]
    ours_rate, reference_rate = statistics.median(ours), statistics.median(reference)
    ratio = ours_rate / reference_rate
    return [
        Measurement(
            workload="intake_throughput",
            ours=ours_rate,
            reference=reference_rate,
            unit="req/s",
            ratio=ratio,
            target=f">= {TARGET_PER_S:.0f} signed webhooks/s and >= {TARGET_RATIO}x",
            met=ours_rate >= TARGET_PER_S and ratio >= TARGET_RATIO,
            note=(
                f"medians of {_ROUNDS} interleaved rounds of {n} signed generic webhooks, each "
                f"stored on SQLite, {_CONNECTIONS} keep-alive connections; reference: a bare app "
                f"on the same stack reading the same bodies; load average {load:.1f}"
            ),
        )
    ]
