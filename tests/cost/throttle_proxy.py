"""A tiny HTTP proxy in front of moto that answers the first Cost Explorer calls with errors.

moto's static Cost Explorer results never throttle, so this proxy injects real
``ThrottlingException`` / ``LimitExceededException`` responses at the HTTP boundary (a 400 with
the JSON error body AWS sends); every other request is forwarded to moto unchanged. botocore parses
them exactly as it would parse AWS's, so the source's retry logic is tested end to end.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import httpx

__all__ = ["ThrottlingProxy"]


class ThrottlingProxy:
    """``with ThrottlingProxy(moto.url, ["ThrottlingException"] * 2) as proxy: proxy.url``."""

    def __init__(self, upstream: str, errors: list[str], status: int = 400) -> None:
        self.upstream = upstream
        self.errors = list(errors)
        self.status = status
        self.injected: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                with proxy._lock:
                    error = (
                        proxy.errors.pop(0)
                        if target.endswith("GetCostAndUsage") and proxy.errors
                        else None
                    )
                if error:
                    proxy.injected.append(error)
                    payload = json.dumps({"__type": error, "message": "Rate exceeded"}).encode()
                    self.send_response(proxy.status)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = httpx.post(proxy.upstream + self.path, content=body, headers=headers)
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in {"content-length", "transfer-encoding", "connection"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ThrottlingProxy:
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
