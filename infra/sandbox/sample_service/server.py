"""Run the sample shop on a free 127.0.0.1 port in a background thread."""

from __future__ import annotations

import httpx

from infra.sandbox.sample_service.app import Faults, create_app
from tasks.local_server import ThreadedApp

__all__ = ["SampleService"]


class SampleService(ThreadedApp):
    """Context manager: ``with SampleService() as svc: svc.url`` serves until the block ends."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None
    ) -> None:
        super().__init__(create_app(faults), "sample-service", host, port)

    def set_faults(self, latency_ms: int = 0, error_rate: float = 0.0) -> None:
        """Change the fault switches (same as ``POST /_control``)."""
        self.app.state.shop.faults = Faults(latency_ms=latency_ms, error_rate=error_rate)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=5)
