"""Serving an ASGI app on a loopback port from a background thread (sandbox services, tests)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn

from tasks.errors import ServiceUnavailableError

__all__ = ["ThreadedApp", "free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS reports free on ``host`` right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ThreadedApp:
    """Runs ``app`` with uvicorn in a daemon thread; a context manager that waits until it serves.

    Subclasses build their app, then call ``super().__init__(app, name, host, port)``.
    """

    def __init__(self, app: Any, name: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.name = name
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(
            app, host=self.host, port=self.port, log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=name, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15) -> Self:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._thread.is_alive():
            if self._server.started:
                return self
            time.sleep(0.02)
        raise ServiceUnavailableError(f"{self.name} did not start on {self.url} in {timeout:g} s")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
