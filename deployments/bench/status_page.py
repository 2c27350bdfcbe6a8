"""Benchmark ``status_page``: render the public status page, and serve it on loopback.

The page has 200 services x 90 days (20 with a bad day, 10 with a maintenance day, a few
incidents and windows), generated deterministically.

- build: the page's data for those 200 services (two checks x three regions each) from their
  rollups on SQLite, ours = :func:`tasks.status.collect.collect_page` (the database sums per
  check and day), reference = the same buckets read as whole rows and summed in Python
  (:mod:`deployments.bench.status_store`), best of 3 each; the bars must be equal.
- render: ours = :func:`tasks.status.render.render_page` (the HTML document), best of 5;
  reference = the same page as JSON with the standard library (``json.dumps`` of
  ``to_json()``), best of 5, in the same run. Target: < 1 s.
- serve: ``GET /status`` per second, ours = the status app (:mod:`deployments.status.app`,
  prepared gzip bytes, ETag); reference = the exported files served by Starlette's
  ``StaticFiles`` behind its ``GZipMiddleware`` (a generic way to serve the same page). Each
  server runs alone under uvicorn in a subprocess; the client is one aiohttp session with 16
  concurrent keep-alive requests accepting gzip, not decompressing (3,000 requests; 500 for
  the slower reference). Target: >= 500 req/s.

Run a server alone with ``python -m deployments.bench.status_page --serve PORT ours|reference``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deployments.bench import Measurement
from tasks.local_server import free_port
from tasks.status.model import (
    DayBar,
    Incident,
    ScheduledMaintenance,
    ServiceStatus,
    State,
    StatusPage,
)

__all__ = ["build_page", "run"]

SERVICES = 200
DAYS = 90
RENDER_TARGET_S = 1.0
SERVE_TARGET = 500.0
CONCURRENCY = 16
_NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
_STATES: tuple[State, ...] = (
    "operational",
    "operational",
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
    "unknown",
)


def build_page(services: int = SERVICES, days: int = DAYS) -> StatusPage:
    """A deterministic page of ``services`` x ``days`` daily bars."""
    first = _NOW.date() - timedelta(days=days - 1)
    out = []
    for i in range(services):
        bars = tuple(
            DayBar(
                first + timedelta(days=k),
                good=1440 * 6 - (37 if (i + k) % 47 == 0 else 0),
                total=1440 * 6 if i % 50 or k > 30 else 0,
                maintenance=(i * 7 + k) % 97 == 0,
            )
            for k in range(days)
        )
        out.append(
            ServiceStatus(
                f"Group {i // 20 + 1}",
                f"Service {i + 1:03d}",
                "A public service of the benchmark page." if i % 3 == 0 else None,
                _STATES[i % len(_STATES)],
                0.999,
                bars,
            )
        )
    incidents = tuple(
        Incident(f"Service {i + 1:03d}", "availability", _NOW - timedelta(minutes=i))
        for i in range(0, services, 40)
    )
    windows = tuple(
        ScheduledMaintenance(
            "Scheduled maintenance",
            (f"Service {i + 1:03d}",),
            _NOW + timedelta(days=i % 9),
            _NOW + timedelta(days=i % 9, hours=2),
            active=False,
        )
        for i in range(0, services, 50)
    )
    return StatusPage("Benchmark status", _NOW, tuple(out), incidents, windows)


def _best_of(fn: Any, times: int = 5) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def _app(kind: str, directory: Path) -> Any:
    page = build_page()
    if kind == "ours":
        from deployments.status.app import PageCache, StatusApp

        cache = PageCache(lambda: page, refresh=3600)
        cache.rebuild()
        return StatusApp(cache)
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.gzip import GZipMiddleware
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from tasks.status.publish import export_page

    export_page(page, directory)
    (directory / "index.html").rename(directory / "status")
    return Starlette(
        routes=[Mount("/", StaticFiles(directory=directory))],
        middleware=[Middleware(GZipMiddleware)],
    )


def _serve(port: int, kind: str) -> None:
    import uvicorn

    with tempfile.TemporaryDirectory(prefix="traceo-status-bench-") as tmp:
        uvicorn.run(_app(kind, Path(tmp)), host="127.0.0.1", port=port, log_level="warning")


@contextmanager
def _server(kind: str) -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", "deployments.bench.status_page", "--serve", str(port), kind]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the {kind} status server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/status"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def _rate(url: str, requests: int) -> tuple[float, int]:
    """Requests per second, and the size of one (gzipped) answer in bytes."""
    import aiohttp

    headers = {"Accept-Encoding": "gzip"}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
        sizes: list[int] = []

        async def worker(n: int) -> None:
            for _ in range(n):
                async with session.get(url, headers=headers) as response:
                    body = await response.read()
                    if response.status != 200 or response.headers.get("content-encoding") != "gzip":
                        raise RuntimeError(f"{url} answered {response.status} without gzip")
                    sizes.append(len(body))

        await worker(CONCURRENCY)  # warm up: connections and the first compression
        share = [requests // CONCURRENCY] * CONCURRENCY
        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in share))
        elapsed = time.perf_counter() - started
    return sum(share) / elapsed, sizes[-1]


def _from_store(services: int) -> tuple[float, float, int]:
    """(ours, reference, rollup rows): the page's data from a SQLite store, best of 3 each."""
    from deployments.bench.status_store import NOW, fleet, plain_bars, write_rollups
    from tasks.slo.maintenance import MaintenanceCalendar
    from tasks.status.collect import collect_page
    from tasks.store import get_engine

    spec, checks = fleet(services)
    with tempfile.TemporaryDirectory(prefix="traceo-status-bench-") as tmp:
        engine = get_engine(f"sqlite:///{Path(tmp) / 'status.db'}")
        rows = write_rollups(engine, checks, DAYS)
        calendar = MaintenanceCalendar([], {})
        page = collect_page(engine, spec, checks, calendar, NOW)
        if [[(d.good, d.total) for d in s.days] for s in page.services] != plain_bars(
            engine, spec, DAYS
        ):
            raise RuntimeError("the page's daily bars differ from the plain reader's")
        ours = _best_of(lambda: collect_page(engine, spec, checks, calendar, NOW), 3)
        reference = _best_of(lambda: plain_bars(engine, spec, DAYS), 3)
        engine.dispose()
    return ours, reference, rows


def run(quick: bool) -> list[Measurement]:
    from tasks.status.render import render_page

    build, plain, rows = _from_store(SERVICES // 10 if quick else SERVICES)
    page = build_page()
    html = render_page(page)
    render = _best_of(lambda: render_page(page))
    as_json = _best_of(lambda: json.dumps(page.to_json()))
    requests = {"ours": 400 if quick else 3000, "reference": 100 if quick else 500}
    rates = {}
    for kind, n in requests.items():
        with _server(kind) as url:
            rates[kind] = asyncio.run(_rate(url, n))
    (ours, size), (reference, reference_size) = rates["ours"], rates["reference"]
    return [
        Measurement(
            workload="status_page_build",
            ours=build,
            reference=plain,
            unit="s",
            ratio=plain / build,
            target="faster than the plain reader",
            met=build < plain,
            note=(
                f"{SERVICES // 10 if quick else SERVICES} services' states and daily bars from "
                f"{rows:,} rollup rows on SQLite ({DAYS} days, two checks x three "
                "regions each); reference: the same buckets read as whole rows, summed in Python"
            ),
        ),
        Measurement(
            workload="status_page_render",
            ours=render,
            reference=as_json,
            unit="s",
            ratio=as_json / render,
            target=f"< {RENDER_TARGET_S:g} s",
            met=render < RENDER_TARGET_S,
            note=(
                f"{SERVICES} services x {DAYS} days: {len(html) / 1e3:,.0f} kB of HTML; "
                "reference: the same page as JSON (json.dumps)"
            ),
        ),
        Measurement(
            workload="status_page_serve",
            ours=ours,
            reference=reference,
            unit="req/s",
            ratio=ours / reference,
            target=f">= {SERVE_TARGET:.0f} req/s",
            met=ours >= SERVE_TARGET,
            note=(
                f"{requests['ours']} GET /status ({requests['reference']} for the reference), "
                f"{CONCURRENCY} concurrent keep-alive, gzip "
                f"({size / 1e3:,.0f} kB; reference {reference_size / 1e3:,.0f} kB); "
                "reference: Starlette StaticFiles + GZipMiddleware on the exported files"
            ),
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        _serve(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit("usage: python -m deployments.bench.status_page --serve PORT ours|reference")
