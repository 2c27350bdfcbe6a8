"""One Prefect test server for every xdist worker of a pytest run.

Each worker starting its own server cost ~15 s of CPU (imports, SQLite migrations, services) on
a suite that is CPU-bound, three times over. Instead the first worker that needs a server starts
one, under a file lock in the run's shared temporary directory, and records its URL there; the
others read it. The server is its own process (``python -m tests.prefect_server``) that outlives
the worker that started it and exits with the pytest run: the controller stops it when the session
finishes, and it also stops by itself when the controller's process is gone (a killed run).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tasks.local_server import free_port

__all__ = ["shared_server_url", "stop_shared_server"]

_STATE = "prefect-server.json"
_LOCK = "prefect-server.lock"


def shared_server_url(shared: Path, controller_pid: int, timeout: float = 120) -> str:
    """The URL of the run's shared server in ``shared``, starting it if no worker has yet."""
    state = shared / _STATE
    with open(shared / _LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if state.exists():
            return str(json.loads(state.read_text())["url"])
        port = free_port()
        home = shared / "prefect-server"
        home.mkdir(exist_ok=True)
        env = {
            **os.environ,
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        env.pop("PREFECT_API_URL", None)
        log = open(home / "server.log", "w")  # noqa: SIM115 - the server process owns it
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.prefect_server", str(port), str(controller_pid)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).parents[1],
            start_new_session=True,  # not stopped by a signal meant for the worker
        )
        url = f"http://127.0.0.1:{port}/api"
        _wait_healthy(url, process, timeout, home / "server.log")
        state.write_text(json.dumps({"url": url, "pid": process.pid}))
        return url


def stop_shared_server(shared: Path) -> None:
    """Stop the server a worker started in ``shared`` (the controller calls this at the end)."""
    state = shared / _STATE
    if not state.exists():
        return
    pid = int(json.loads(state.read_text())["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text()[-2000:]
            raise RuntimeError(f"the shared Prefect test server exited: {tail}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the shared Prefect test server did not answer in {timeout:g} s")


def _exit_when_gone(pid: int) -> None:
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        time.sleep(1)


def _serve(port: int, controller_pid: int) -> None:
    import uvicorn

    threading.Thread(target=_exit_when_gone, args=(controller_pid,), daemon=True).start()
    uvicorn.run(
        "prefect.server.api.server:create_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        log_level="error",
        lifespan="on",
    )


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
