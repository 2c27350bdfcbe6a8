"""Intake memory: peak RSS of the intake while 8 clients each stream a large unsigned body.

The server runs in a child process under uvicorn (as ``traceo intake serve`` runs it) on a fresh
SQLite store; its peak RSS is the kernel's high-water mark (``VmHWM`` in ``/proc/<pid>/status``),
read once the clients are done. Each client sends a chunked body with no ``Content-Length`` (the
form that was once read whole before any check) until it is sent or the server closes.

- ours: the intake's peak RSS (every upload must be answered 413);
- reference: the same stack (uvicorn, FastAPI) serving an app that discards every chunk as it
  arrives and reads each upload to its end: the least a server holds to receive the same uploads.
  Same clients, same run; the ratio is reference / ours (1.0: as lean as keeping nothing).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from deployments.bench import Measurement

__all__ = ["run"]

TARGET_MB = 300.0
_CLIENTS = 8
_CHUNK = 64 * 1024
_PATH = "/v1/dsr/generic"


class _StubStarter:
    def start(
        self, deployment: str, parameters: dict[str, Any], idempotency_key: str | None = None
    ) -> str:
        return "00000000-0000-4000-8000-000000000000"


def _discarding_app() -> Any:
    from fastapi import FastAPI, Request

    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(_PATH)
    async def discard(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"received": size}

    return app


def _serve(kind: str, port: int, store: str) -> None:
    """The child process: serve the intake (``ours``) or the discarding app until killed."""
    import uvicorn

    if kind == "ours":
        from deployments.intake.app import create_app
        from tasks.store import get_engine

        app = create_app(get_engine(f"sqlite:///{store}"), _StubStarter(), {"generic": "bench"})
    else:
        app = _discarding_app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


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


def _upload(port: int, size: int) -> int | None:
    """Stream ``size`` bytes chunked; the answer's status, or None if there was none."""
    head = (
        f"POST {_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"%x\r\n" % _CHUNK + b" " * _CHUNK + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(head)
        try:
            for _ in range(size // _CHUNK):
                sock.sendall(chunk)
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: the rest is never sent
        try:
            status = sock.recv(64)
        except OSError:
            return None
    return int(status.split()[1]) if status.startswith(b"HTTP/1.1 ") else None


def _peak_rss_mb(kind: str, size: int, tmp: Path) -> tuple[float, list[int | None]]:
    from tasks.local_server import free_port

    port = free_port("127.0.0.1")
    code = "import sys; from deployments.bench.intake_memory import _serve; _serve(*sys.argv[1:4])"
    args = [sys.executable, "-c", code, kind, str(port), str(tmp / f"{kind}.db")]
    child = subprocess.Popen(args)
    try:
        _wait_until_serving(port, child)
        with ThreadPoolExecutor(_CLIENTS) as pool:
            statuses = list(pool.map(lambda _: _upload(port, size), range(_CLIENTS)))
        status = Path(f"/proc/{child.pid}/status").read_text()
    finally:
        child.terminate()
        child.wait(timeout=30)
    hwm_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    return hwm_kb / 1024, statuses


def run(quick: bool) -> list[Measurement]:
    size = (64 if quick else 1024) * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="traceo-intake-memory-") as tmp:
        ours, answers = _peak_rss_mb("ours", size, Path(tmp))
        reference, _ = _peak_rss_mb("reference", size, Path(tmp))
    if any(status != 413 for status in answers):
        raise RuntimeError(f"expected every upload to be answered 413, got {answers}")
    return [
        Measurement(
            workload="intake_memory",
            ours=ours,
            reference=reference,
            unit="MB peak RSS",
            ratio=reference / ours,
            target=f"< {TARGET_MB:.0f} MB while {_CLIENTS} clients stream 1 GB each",
            met=ours < TARGET_MB,
            note=(
                f"{_CLIENTS} clients each stream {size // 2**20} MiB chunked, unsigned, to the "
                "intake under uvicorn; reference: the same stack discarding every chunk"
            ),
        )
    ]
