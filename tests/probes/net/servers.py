"""Local TCP and TLS servers for network probe tests (127.0.0.1 only, one thread per client)."""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

Reply = Callable[[bytes], bytes]


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        owner = self.server.owner
        with owner.lock:
            owner.connections += 1
        sock: socket.socket = self.request
        sock.settimeout(5)
        try:
            if owner.tls is not None:
                sock = owner.tls.wrap_socket(sock, server_side=True)
            if owner.hang:
                owner.stopping.wait(30)
                return
            if owner.delay:
                time.sleep(owner.delay)
            if owner.banner:
                sock.sendall(owner.banner)
            if owner.reply is not None:
                sock.sendall(owner.reply(sock.recv(4096)))
            if owner.hang_after_banner:
                owner.stopping.wait(30)
                return
            while sock.recv(4096):  # keep the connection open until the client closes it
                pass
        except (OSError, ssl.SSLError):
            pass  # clients abort connections, and some fail handshakes on purpose


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: TcpServer


class TcpServer:
    """Serve on 127.0.0.1 for the duration of a ``with`` block.

    Args:
        banner: bytes sent as soon as a client connects (after the TLS handshake, if any).
        reply: answer to the first chunk the client sends.
        delay: seconds to wait before the banner.
        hang: accept (and handshake, with TLS) but never send anything.
        hang_after_banner: send the banner, then neither read nor close.
        certificate: (chain PEM, key PEM) to speak TLS; the chain file is served as is.
    """

    def __init__(
        self,
        banner: bytes = b"",
        *,
        reply: Reply | None = None,
        delay: float = 0.0,
        hang: bool = False,
        hang_after_banner: bool = False,
        certificate: tuple[Path, Path] | None = None,
    ) -> None:
        self.banner, self.reply, self.delay = banner, reply, delay
        self.hang, self.hang_after_banner = hang, hang_after_banner
        self.tls: ssl.SSLContext | None = None
        if certificate is not None:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(*certificate)
        self.connections = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> TcpServer:
        self._thread.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
