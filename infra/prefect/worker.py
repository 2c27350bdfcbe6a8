"""A Prefect process worker as a subprocess: one per regional work pool in tests and local runs.

The worker runs each flow run in a child process that inherits the worker's environment, with
the deployment's job variables (``env``) on top; region-specific settings (the region's view of
the network, its credentials) therefore belong on the worker, shared ones on the deployment.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from infra.prefect._process import ManagedProcess, prefect_command, prefect_env

__all__ = ["ProcessWorker"]


class ProcessWorker:
    """``prefect worker start --type process --pool POOL`` against ``api_url``.

    Args:
        pool: the work pool to poll (created as a process pool if missing and ``create_pool``).
        api_url: the server's ``PREFECT_API_URL``.
        home: the worker's ``PREFECT_HOME``; the log goes to ``home/<name>.log`` by default.
        name: the worker name the server records (and labels each flow run with).
        env: extra environment for the worker, hence for every flow run it starts.
        cwd: working directory of the worker (flow runs start there before their pull steps).
        query_seconds: poll interval for scheduled runs (Prefect's default is 10 s).
        prefetch_seconds: how far ahead the worker claims scheduled runs.
        heartbeat_seconds: how often the worker reports itself online.
        create_pool: let the worker create the pool if it does not exist.
        ready_timeout: seconds :meth:`wait_ready` waits for the worker to register.
    """

    def __init__(
        self,
        pool: str,
        api_url: str,
        home: Path,
        *,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        query_seconds: float = 2.0,
        prefetch_seconds: float = 5.0,
        heartbeat_seconds: float = 5.0,
        create_pool: bool = True,
        log_path: Path | None = None,
        ready_timeout: float = 90.0,
    ) -> None:
        self.pool = pool
        self.api_url = api_url.rstrip("/")
        self.home = Path(home)
        self.name = name or f"{pool}-worker"
        self.ready_timeout = ready_timeout
        extra = {
            "PREFECT_API_URL": self.api_url,
            "PREFECT_WORKER_QUERY_SECONDS": f"{query_seconds:g}",
            "PREFECT_WORKER_PREFETCH_SECONDS": f"{prefetch_seconds:g}",
            "PREFECT_WORKER_HEARTBEAT_SECONDS": f"{heartbeat_seconds:g}",
            **(env or {}),
        }
        args = [
            "worker",
            "start",
            "--pool",
            pool,
            "--name",
            self.name,
            "--type",
            "process",
            "--install-policy",
            "never",
            "--create-pool-if-not-found" if create_pool else "--no-create-pool-if-not-found",
        ]
        self.process = ManagedProcess(
            prefect_command(*args),
            prefect_env(self.home, extra),
            log_path or self.home / f"{self.name}.log",
            cwd,
        )

    def registered(self) -> dict[str, Any] | None:
        """This worker as the server lists it under its pool (after its first heartbeat)."""
        try:
            response = httpx.post(
                f"{self.api_url}/work_pools/{self.pool}/workers/filter", json={}, timeout=5
            )
        except httpx.HTTPError:
            return None
        if response.status_code != 200:  # 404 until the pool exists; 503 on a busy SQLite
            return None
        return next((w for w in response.json() if w.get("name") == self.name), None)

    def launch(self) -> None:
        """Start the process without waiting (start several workers, then wait for each)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.process.launch()

    def wait_ready(self) -> ProcessWorker:
        """Wait until the server lists this worker as ONLINE in its pool.

        Raises:
            PrefectProcessError: the worker exited or did not register in time.
        """
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            worker = self.registered()
            if worker and worker.get("status") == "ONLINE":
                return self
            if not self.process.running:
                raise self.process.error(
                    f"worker {self.name!r} for pool {self.pool!r} exited with "
                    f"{self.process.returncode}"
                )
            time.sleep(0.5)
        error = self.process.error(
            f"worker {self.name!r} did not come online in pool {self.pool!r} "
            f"after {self.ready_timeout:g}s"
        )
        self.process.stop()
        raise error

    def start(self) -> ProcessWorker:
        self.launch()
        return self.wait_ready()

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGINT and wait (a process worker ignores SIGTERM for over a minute)."""
        return self.process.stop(timeout)

    def log_text(self) -> str:
        return self.process.log_text()

    def __enter__(self) -> ProcessWorker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
