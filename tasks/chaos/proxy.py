"""An asyncio TCP proxy that applies toxics per direction, like Toxiproxy.

Each accepted connection opens one to ``upstream`` and pumps bytes both ways. Whether a toxic
applies to a connection is drawn once per (connection, toxic) with probability ``toxicity``;
the toxic list is re-read for every chunk, so toxics added or removed (``POST /reset``) take
effect on open connections too.

The ``http_error`` toxic looks at the request stream (client -> server, whatever its
``stream``). A chunk that starts with an HTTP/1.x request line is a request start; for each
one, with probability ``rate``, the proxy answers with a canned ``HTTP/1.1 <status>`` response
carrying ``Connection: close`` instead of forwarding, then closes the connection. Closing keeps
the byte streams in step (the rest of the request body, or pipelined requests, are never
forwarded) and makes keep-alive clients reconnect; so ``rate`` is the share of *requests*
answered with an error, and every injected error costs the client one new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import socket
import struct
import time
from http import HTTPStatus
from typing import Any

from tasks.chaos.toxics import ProxyConflictError, Toxic, ToxicSpecError

__all__ = ["Proxy", "ProxyRegistry", "parse_address"]

_CHUNK = 32 * 1024
_READ_AHEAD = 64  # chunks buffered per direction while toxics hold data back
_REQUEST_LINE = re.compile(rb"^[A-Z]{3,10} \S+ HTTP/1\.[01]\r?\n")


def parse_address(value: Any, field_name: str) -> tuple[str, int]:
    """``"host:port"`` -> ``(host, port)``; raises :class:`ToxicSpecError` naming the field."""
    if not isinstance(value, str) or ":" not in value:
        raise ToxicSpecError(field_name, f"must be 'host:port', got {value!r}")
    host, _, port = value.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise ToxicSpecError(field_name, f"bad port in {value!r}")
    return host or "127.0.0.1", int(port)


def _error_response(status: int) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    body = b'{"error":"injected by fault proxy","status":%d}' % status
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nX-Fault-Proxy: http_error\r\n\r\n"
    )
    return head.encode() + body


async def _feed(reader: asyncio.StreamReader, queue: asyncio.Queue[tuple[float, bytes]]) -> None:
    """Read chunks as they come, stamped with their arrival time; ``b""`` marks the end."""
    try:
        while data := await reader.read(_CHUNK):
            await queue.put((time.monotonic(), data))
    except (ConnectionError, OSError):
        pass
    await queue.put((time.monotonic(), b""))


class _Connection:
    """One proxied client connection: its two sockets and its toxic draws."""

    def __init__(self, proxy: Proxy, client: asyncio.StreamWriter, server: asyncio.StreamWriter):
        self.proxy = proxy
        self.writers = {"upstream": server, "downstream": client}
        self.draws: dict[str, bool] = {}
        self.armed: set[str] = set()
        self.sent = {"upstream": 0, "downstream": 0}
        self.closed = asyncio.Event()

    def active(self, stream: str | None) -> list[Toxic]:
        found = []
        for toxic in self.proxy.toxics.values():
            if stream is not None and toxic.stream != stream and toxic.type != "http_error":
                continue
            if toxic.name not in self.draws:
                self.draws[toxic.name] = random.random() < toxic.toxicity
            if self.draws[toxic.name]:
                found.append(toxic)
        return found

    def arm(self) -> None:
        """Start the timers of ``timeout`` and ``reset_peer`` toxics not yet seen here."""
        loop = asyncio.get_running_loop()
        for toxic in self.active(None):
            key = f"{toxic.name}:{toxic.type}"
            if toxic.type not in ("timeout", "reset_peer") or key in self.armed:
                continue
            self.armed.add(key)
            delay = toxic.attr("timeout") / 1000
            if toxic.type == "reset_peer":
                loop.call_later(delay, self.close, True)
            elif delay > 0:
                loop.call_later(delay, self._timeout_close, toxic.name)

    def _timeout_close(self, name: str) -> None:
        if name in self.proxy.toxics:  # removed meanwhile: the connection carries on
            self.close()

    def close(self, reset: bool = False) -> None:
        for writer in self.writers.values():
            if reset:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        linger = struct.pack("ii", 1, 0)
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            writer.transport.abort() if reset else writer.close()
        self.closed.set()

    async def pump(self, stream: str, reader: asyncio.StreamReader) -> None:
        # Reading runs ahead of forwarding so each chunk's latency counts from its arrival,
        # as in Toxiproxy: back-to-back chunks (headers, then body) are delayed once, not twice.
        out = self.writers[stream]
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(maxsize=_READ_AHEAD)
        feeder = asyncio.create_task(_feed(reader, queue))
        try:
            while not self.closed.is_set():
                arrived, data = await queue.get()
                if not data:
                    break
                self.arm()
                if not await self._forward(stream, data, out, arrived):
                    return
            # A clean end of stream is passed on as a half-close; the connection closes when
            # both directions have ended.
            for toxic in self.active(stream):
                if toxic.type == "slow_close":
                    await asyncio.sleep(toxic.attr("delay") / 1000)
            if not self.closed.is_set() and out.can_write_eof():
                out.write_eof()
                return
        except (ConnectionError, OSError):
            pass
        finally:
            feeder.cancel()
        if not self.closed.is_set():
            self.close()

    async def _forward(
        self, stream: str, data: bytes, out: asyncio.StreamWriter, arrived: float
    ) -> bool:
        toxics = self.active(stream)
        # timeout swallows data until the toxic goes away (or its timer closes us).
        while any(t.type == "timeout" for t in toxics) and not self.closed.is_set():
            await asyncio.sleep(0.01)
            toxics = self.active(stream)
        if self.closed.is_set():
            return False
        for toxic in toxics:
            if (
                toxic.type == "http_error"
                and stream == "upstream"
                and _REQUEST_LINE.match(data)
                and random.random() < toxic.attr("rate")
            ):
                client = self.writers["downstream"]
                client.write(_error_response(int(toxic.attr("status"))))
                await client.drain()
                self.close()
                return False
        for toxic in toxics:
            if toxic.type == "latency":
                jitter = toxic.attr("jitter")
                delay = toxic.attr("latency") + random.uniform(-jitter, jitter)
                wait = arrived + max(delay, 0) / 1000 - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
        limit = next((t for t in toxics if t.type == "limit_data"), None)
        cut = False
        if limit is not None:
            room = int(limit.attr("bytes")) - self.sent[stream]
            cut = len(data) >= room
            data = data[: max(room, 0)]
        rate = next((t.attr("rate") * 1000 for t in toxics if t.type == "bandwidth"), 0)
        step = max(int(rate / 20), 1) if rate else len(data) or 1
        for start in range(0, len(data), step):
            piece = data[start : start + step]
            out.write(piece)
            await out.drain()
            self.sent[stream] += len(piece)
            if rate:
                await asyncio.sleep(len(piece) / rate)
        if cut:
            self.close()
            return False
        return True


class Proxy:
    """One named listener forwarding to ``upstream``; holds its toxics by name."""

    def __init__(self, name: str, listen: str, upstream: str, enabled: bool = True) -> None:
        self.name = name
        self.listen_host, self.listen_port = parse_address(listen, "listen")
        parse_address(upstream, "upstream")
        self.upstream = upstream
        self.enabled = enabled
        self.toxics: dict[str, Toxic] = {}
        self._server: asyncio.Server | None = None
        self._conns: set[_Connection] = set()

    @property
    def listen(self) -> str:
        return f"{self.listen_host}:{self.listen_port}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [t.to_json() for t in self.toxics.values()],
        }

    async def start(self) -> None:
        if self._server is not None:
            return
        try:
            self._server = await asyncio.start_server(
                self._handle, self.listen_host, self.listen_port, reuse_address=True
            )
        except OSError as exc:
            raise ProxyConflictError("listen", f"cannot listen on {self.listen}: {exc}") from exc
        self.listen_port = self._server.sockets[0].getsockname()[1]
        self.enabled = True

    async def stop(self) -> None:
        """Stop listening and drop open connections (Toxiproxy's ``enabled: false``)."""
        self.enabled = False
        if self._server is not None:
            self._server.close()
            for conn in list(self._conns):
                conn.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = parse_address(self.upstream, "upstream")
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return
        for w in (writer, up_writer):
            sock = w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Connection(self, writer, up_writer)
        self._conns.add(conn)
        conn.arm()
        try:
            await asyncio.gather(conn.pump("upstream", reader), conn.pump("downstream", up_reader))
        finally:
            self._conns.discard(conn)
            if not conn.closed.is_set():
                conn.close()


class ProxyRegistry:
    """All proxies of one server, by name; every method runs on the proxies' event loop."""

    def __init__(self) -> None:
        self.proxies: dict[str, Proxy] = {}

    async def create(self, body: Any) -> Proxy:
        if not isinstance(body, dict):
            raise ToxicSpecError("body", "must be a JSON object")
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise ToxicSpecError("name", "a proxy needs a non-empty string name")
        if name in self.proxies:
            raise ProxyConflictError("name", f"proxy {name!r} already exists")
        upstream = body.get("upstream")
        parse_address(upstream, "upstream")
        proxy = Proxy(name, body.get("listen", "127.0.0.1:0"), str(upstream))
        if body.get("enabled", True):
            await proxy.start()
        else:
            proxy.enabled = False
        self.proxies[name] = proxy
        return proxy

    async def update(self, proxy: Proxy, body: Any) -> Proxy:
        if not isinstance(body, dict):
            raise ToxicSpecError("body", "must be a JSON object")
        if "upstream" in body:
            parse_address(body["upstream"], "upstream")
            proxy.upstream = body["upstream"]
        enabled = body.get("enabled", proxy.enabled)
        if not isinstance(enabled, bool):
            raise ToxicSpecError("enabled", "must be true or false")
        if "listen" in body and body["listen"] != proxy.listen:
            old = (proxy.listen_host, proxy.listen_port)
            proxy.listen_host, proxy.listen_port = parse_address(body["listen"], "listen")
            await proxy.stop()
            try:
                await proxy.start()
            except ProxyConflictError:
                proxy.listen_host, proxy.listen_port = old  # keep serving where it was
                await proxy.start()
                raise
        await (proxy.start() if enabled else proxy.stop())
        return proxy

    async def delete(self, name: str) -> None:
        proxy = self.proxies.pop(name)
        await proxy.stop()

    async def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        for proxy in self.proxies.values():
            proxy.toxics.clear()
            await proxy.start()

    async def close(self) -> None:
        for proxy in self.proxies.values():
            await proxy.stop()
