"""The intake and its bare reference, each served in a child process for the intake benchmarks.

Both run under :func:`deployments.intake.server.serve_app` (uvicorn with uvloop and httptools,
one process, no access log: what ``traceo intake serve`` runs), so the stack is the same and
only the app differs:

- ``ours``: the intake on a fresh SQLite store, with a stub starter (flow runs are not created);
- ``bare``: a FastAPI app whose ``POST /v1/dsr/generic`` reads the body chunk by chunk, keeps
  nothing and answers 200: the least any app on this stack does to receive the same requests.

The clients run in the parent process, so they never share the server's interpreter lock.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

__all__ = ["DSR_PATH", "SECRET", "StubStarter", "bare_app", "serve", "served"]

DSR_PATH = "/v1/dsr/generic"
SECRET = "bench-secret"  # the generic source's secret in the ``ours`` server


class StubStarter:
    """Creates no flow run: the benchmarks measure the request path, not the Prefect API."""

    def start(
        self, deployment: str, parameters: dict[str, Any], idempotency_key: str | None = None
    ) -> str:
        return "00000000-0000-4000-8000-000000000000"


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(DSR_PATH)
    async def discard(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"received": size}

    return app


def serve(kind: str, port: int, store: str) -> None:
    """The child process: serve the intake (``ours``) or the bare app until terminated."""
    from deployments.intake.server import serve_app

    if kind == "ours":
        from deployments.intake.app import create_app
        from tasks.store import get_engine

        app = create_app(get_engine(f"sqlite:///{store}"), StubStarter(), {"generic": SECRET})
    else:
        app = bare_app()
    serve_app(app, "127.0.0.1", port, log_level="warning")


def _wait_until_serving(port: int, child: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"the bench server exited with code {child.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"the bench server did not answer within {timeout:.0f} s")


@contextmanager
def served(kind: str, tmp: Path) -> Iterator[tuple[int, int]]:
    """``(port, pid)`` of a child serving ``kind`` (its store under ``tmp``), until the end."""
    from tasks.local_server import free_port

    port = free_port("127.0.0.1")
    code = "import sys; from deployments.bench.intake_server import serve; serve(*sys.argv[1:4])"
    child = subprocess.Popen([sys.executable, "-c", code, kind, str(port), str(tmp / f"{kind}.db")])
    try:
        _wait_until_serving(port, child)
        yield port, child.pid
    finally:
        child.terminate()
        child.wait(timeout=30)
