"""The public status page as a small read-only ASGI app (``traceo status serve``).

Kept apart from the intake app on purpose: the intake holds secrets and personal data and is
reached by ticketing systems; the status page is public, read-only, and may be scaled or
exposed on its own. Requests never touch the store: a background thread rebuilds the page at
most every ``refresh`` seconds and swaps in the new files; each request sends prepared bytes
(gzipped when the client accepts it) with an ``ETag`` that answers ``If-None-Match`` with 304.
A rebuild that fails keeps the last page (logged); before the first page exists the app
answers 503.

Routes: ``GET /status`` (HTML), ``/status.json``, ``/status.css``, ``/status.js``, ``/healthz``;
``/`` redirects to ``/status``.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from tasks.status.model import StatusPage
from tasks.status.publish import page_files

__all__ = ["PageCache", "StatusApp"]

logger = logging.getLogger("traceo.status")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_ROUTES = {
    "/status": "index.html",
    "/status.json": "status.json",
    "/status.css": "status.css",
    "/status.js": "status.js",
}
_SECURITY = [
    (b"content-security-policy", b"default-src 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


@dataclass(frozen=True)
class _File:
    body: bytes
    gzipped: bytes
    media_type: bytes
    etag: bytes


def _prepare(page: StatusPage) -> dict[str, _File]:
    out = {}
    for name, (body, media_type) in page_files(page).items():
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'.encode()
        out[name] = _File(body, gzip.compress(body, 6, mtime=0), media_type.encode(), etag)
    return out


class PageCache:
    """The page's prepared files, rebuilt by ``build`` every ``refresh`` seconds in a thread."""

    def __init__(self, build: Callable[[], StatusPage], refresh: float) -> None:
        self._build = build
        self.refresh = refresh
        self.files: dict[str, _File] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="status-page", daemon=True)

    def rebuild(self) -> None:
        """Build the page now; on failure keep the last one and log the error's class."""
        try:
            self.files = _prepare(self._build())
        except Exception as exc:  # a store hiccup must not take the page down
            logger.warning("status page not rebuilt (%s); serving the last one", type(exc).__name__)

    def _loop(self) -> None:
        while not self._stop.wait(self.refresh):
            self.rebuild()

    def start(self) -> PageCache:
        self.rebuild()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class StatusApp:
    """An ASGI app serving a :class:`PageCache`."""

    def __init__(self, cache: PageCache) -> None:
        self.cache = cache
        self._max_age = f"public, max-age={int(cache.refresh)}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, [(b"allow", b"GET, HEAD")], b"")
        elif path == "/":
            await _respond(send, 307, [(b"location", b"/status")], b"")
        elif path == "/healthz":
            await _respond(send, 200, [(b"content-type", b"text/plain")], b"ok")
        elif path not in _ROUTES:
            await _respond(send, 404, [(b"content-type", b"text/plain")], b"not found")
        elif self.cache.files is None:
            headers = [(b"content-type", b"text/plain"), (b"retry-after", b"5")]
            await _respond(send, 503, headers, b"status page not built yet")
        else:
            await self._file(scope, send, self.cache.files[_ROUTES[path]], method == "HEAD")

    async def _file(self, scope: Scope, send: Send, file: _File, head: bool) -> None:
        request = dict(scope["headers"])
        headers = [
            (b"etag", file.etag),
            (b"cache-control", self._max_age),
            (b"vary", b"accept-encoding"),
            *_SECURITY,
        ]
        if request.get(b"if-none-match") == file.etag:
            await _respond(send, 304, headers, b"")
            return
        body = file.body
        if b"gzip" in request.get(b"accept-encoding", b""):
            body = file.gzipped
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-type", file.media_type))
        await _respond(send, 200, headers, b"" if head else body, len(body))


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, length: int = -1
) -> None:
    size = str(len(body) if length < 0 else length).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", size)],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
