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
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from deployments.bench import Measurement
from deployments.bench.intake_server import DSR_PATH, served

__all__ = ["run"]

TARGET_MB = 300.0
_CLIENTS = 8
_CHUNK = 64 * 1024


def _upload(port: int, size: int) -> int | None:
    """Stream ``size`` bytes chunked; the answer's status, or None if there was none."""
    head = (
        f"POST {DSR_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
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
    with served(kind, tmp) as (port, pid):
        with ThreadPoolExecutor(_CLIENTS) as pool:
            statuses = list(pool.map(lambda _: _upload(port, size), range(_CLIENTS)))
        status = Path(f"/proc/{pid}/status").read_text()
    hwm_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    return hwm_kb / 1024, statuses


def run(quick: bool) -> list[Measurement]:
    size = (64 if quick else 1024) * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="traceo-intake-memory-") as tmp:
        ours, answers = _peak_rss_mb("ours", size, Path(tmp))
        reference, _ = _peak_rss_mb("bare", size, Path(tmp))
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
