"""A local webhook receiver that records what it is sent (demo and tests stand-in for Slack)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["WebhookSink"]


class WebhookSink:
    """Serve on a free 127.0.0.1 port; ``received`` lists bodies; ``fail_with`` forces errors."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_with: int | None = None
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if sink.fail_with:
                    self.send_response(sink.fail_with)
                    self.end_headers()
                    return
                try:
                    sink.received.append(json.loads(raw or b"{}"))
                except json.JSONDecodeError:
                    sink.received.append({"raw": raw.decode("utf-8", "replace")})
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}/hook"

    def __enter__(self) -> WebhookSink:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
