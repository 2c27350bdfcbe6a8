"""Run the sample shop on a free 127.0.0.1 port in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import httpx
import uvicorn

from infra.sandbox.sample_service.app import Faults, create_app

__all__ = ["SampleService"]


class SampleService:
    """Context manager: ``with SampleService() as svc: svc.url`` serves until the block ends."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None
    ) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self.app = create_app(faults)
        config = uvicorn.Config(
            self.app, host=self.host, port=self.port, log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="sample-service", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def set_faults(self, latency_ms: int = 0, error_rate: float = 0.0) -> None:
        """Change the fault switches (same as ``POST /_control``)."""
        self.app.state.shop.faults = Faults(latency_ms=latency_ms, error_rate=error_rate)

    def start(self) -> SampleService:
        self._thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            time.sleep(0.02)
        raise RuntimeError(f"sample service did not start on {self.url}")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> SampleService:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=5)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
