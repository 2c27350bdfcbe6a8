"""A local target for probe tests: a small FastAPI app under uvicorn, optionally over TLS."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import secrets
import socket
import threading
import time
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse

DOC = {
    "status": "UP",
    "count": 2,
    "ok": True,
    "items": [{"id": 1, "name": "alpha"}, {"id": 2, "name": "beta"}],
    "meta": {"empty": [], "none": None, "tags": ["a", "b"]},
}
PASSWORD = "s3cret-pass"


def create_app() -> FastAPI:
    app = FastAPI()
    tokens: set[str] = set()
    items: dict[int, dict[str, Any]] = {}
    hits: Counter[str] = Counter()

    @app.get("/json")
    def json_doc(response: Response) -> dict[str, Any]:
        response.headers["X-Trace"] = "abc123"
        return DOC

    @app.get("/status/{code}")
    def status(code: int) -> Response:
        return JSONResponse({"code": code}, status_code=code)

    @app.get("/slow")
    async def slow(ms: int = 100) -> dict[str, Any]:
        await asyncio.sleep(ms / 1000)
        return {"slept_ms": ms}

    releases: dict[str, asyncio.Event] = {}
    held: Counter[str] = Counter()

    @app.get("/hold/{tag}")
    async def hold(tag: str) -> dict[str, Any]:
        """Answer only once ``POST /hold/{tag}/release`` came (or after a minute)."""
        held[tag] += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(releases.setdefault(tag, asyncio.Event()).wait(), 60)
        finally:
            held[tag] -= 1
        return {"held": tag}

    @app.post("/hold/{tag}/release")
    async def release(tag: str) -> dict[str, Any]:
        """Let the held requests answer; says how many were still waiting."""
        waiting = held[tag]
        releases.setdefault(tag, asyncio.Event()).set()
        return {"waiting": waiting}

    @app.get("/text")
    def text() -> PlainTextResponse:
        return PlainTextResponse("hello world, version 1.4.2")

    @app.get("/redirect")
    def redirect() -> RedirectResponse:
        return RedirectResponse("/json", status_code=302)

    @app.api_route("/echo", methods=["GET", "POST", "PUT"])
    async def echo(request: Request) -> dict[str, Any]:
        return {
            "method": request.method,
            "headers": dict(request.headers),
            "query": dict(request.query_params),
            "body": (await request.body()).decode(),
        }

    @app.get("/flaky/{key}")
    def flaky(key: str, fail: int = 1) -> Response:
        """503 for the first ``fail`` calls per key, then 200."""
        hits[key] += 1
        if hits[key] <= fail:
            return JSONResponse({"status": "DOWN"}, status_code=503)
        return JSONResponse({"status": "UP"})

    @app.post("/login")
    async def login(request: Request) -> dict[str, Any]:
        body = await request.json()
        if body.get("password") != PASSWORD:
            raise HTTPException(401, "bad credentials")
        token = "tok_" + secrets.token_hex(16)
        tokens.add(token)
        return {"token": token, "user": {"name": body.get("username")}}

    def _auth(authorization: str | None) -> None:
        if (authorization or "").removeprefix("Bearer ") not in tokens:
            raise HTTPException(401, "no token")

    @app.post("/items", status_code=201)
    async def create_item(
        request: Request, response: Response, authorization: str | None = Header(None)
    ) -> dict[str, Any]:
        _auth(authorization)
        body = await request.json()
        item = {"id": len(items) + 100, "name": body["name"], "qty": body.get("qty")}
        items[item["id"]] = item
        response.headers["Location"] = f"/items/{item['id']}"
        return item

    @app.get("/items/{item_id}")
    def get_item(item_id: int, authorization: str | None = Header(None)) -> dict[str, Any]:
        _auth(authorization)
        if item_id not in items:
            raise HTTPException(404, "not found")
        return items[item_id]

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """Serve an ASGI app on 127.0.0.1 in a daemon thread for the duration of a ``with`` block."""

    def __init__(self, app: Any, certfile: Path | None = None, keyfile: Path | None = None):
        self.port = free_port()
        self.scheme = "https" if certfile else "http"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def make_certificate(directory: Path, days: float, name: str = "cert") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 valid for ``days`` from now (negative: expired)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "traceo-test")])
    not_after = now + dt.timedelta(days=days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, not_after) - dt.timedelta(days=1))
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
