"""The control API, shaped like Toxiproxy's, and a context manager that serves it.

Routes (JSON in and out; errors are ``{"error": message, "status": code}``, the message naming
the offending field):

==========================================  ===============================================
GET    /version                             ``{"version": ...}``
GET    /proxies                             ``{name: proxy}``
POST   /proxies                             create ``{name, listen, upstream, enabled}``: 201
GET    /proxies/{name}                      the proxy, with its ``toxics``
POST   /proxies/{name}                      update ``listen`` / ``upstream`` / ``enabled``
DELETE /proxies/{name}                      204
GET    /proxies/{name}/toxics               ``[toxic]``
POST   /proxies/{name}/toxics               create ``{name, type, stream, toxicity, attributes}``
GET    /proxies/{name}/toxics/{toxic}       the toxic
POST   /proxies/{name}/toxics/{toxic}       update ``toxicity`` / ``attributes`` / ``stream``
DELETE /proxies/{name}/toxics/{toxic}       204
POST   /reset                               enable every proxy, remove every toxic: 204
==========================================  ===============================================

Proxies run on the API's own event loop, so every handler touches them without locking.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tasks.chaos.proxy import Proxy, ProxyRegistry
from tasks.chaos.toxics import ProxyConflictError, ToxicSpecError, parse_toxic
from tasks.local_server import ThreadedApp

__all__ = ["VERSION", "FaultProxyServer", "create_app"]

VERSION = "2.12.0-traceo"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise ToxicSpecError("body", f"not valid JSON ({exc.msg})") from exc


def create_app(registry: ProxyRegistry | None = None) -> FastAPI:
    """Build the control app over ``registry`` (a new, empty one by default)."""
    reg = registry or ProxyRegistry()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await reg.close()

    app = FastAPI(title="Traceo fault proxy", version=VERSION, lifespan=lifespan)
    app.state.registry = reg

    @app.exception_handler(ToxicSpecError)
    async def _bad(_: Request, exc: ToxicSpecError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(ProxyConflictError)
    async def _conflict(_: Request, exc: ProxyConflictError) -> JSONResponse:
        return _error(409, str(exc))

    def _proxy(name: str) -> Proxy | JSONResponse:
        proxy = reg.proxies.get(name)
        return proxy if proxy is not None else _error(404, f"proxy {name!r} not found")

    @app.get("/version")
    async def version() -> dict[str, str]:
        return {"version": VERSION}

    @app.get("/proxies")
    async def list_proxies() -> dict[str, Any]:
        return {name: p.to_json() for name, p in reg.proxies.items()}

    @app.post("/proxies")
    async def create_proxy(request: Request) -> JSONResponse:
        proxy = await reg.create(await _body(request))
        return JSONResponse(proxy.to_json(), status_code=201)

    @app.get("/proxies/{name}")
    async def get_proxy(name: str) -> Any:
        proxy = _proxy(name)
        return proxy.to_json() if isinstance(proxy, Proxy) else proxy

    @app.post("/proxies/{name}")
    async def update_proxy(name: str, request: Request) -> Any:
        proxy = _proxy(name)
        if not isinstance(proxy, Proxy):
            return proxy
        return (await reg.update(proxy, await _body(request))).to_json()

    @app.delete("/proxies/{name}")
    async def delete_proxy(name: str) -> Response:
        if name not in reg.proxies:
            return _error(404, f"proxy {name!r} not found")
        await reg.delete(name)
        return Response(status_code=204)

    @app.get("/proxies/{name}/toxics")
    async def list_toxics(name: str) -> Any:
        proxy = _proxy(name)
        if not isinstance(proxy, Proxy):
            return proxy
        return [t.to_json() for t in proxy.toxics.values()]

    @app.post("/proxies/{name}/toxics")
    async def create_toxic(name: str, request: Request) -> Any:
        proxy = _proxy(name)
        if not isinstance(proxy, Proxy):
            return proxy
        toxic = parse_toxic(await _body(request))
        if toxic.name in proxy.toxics:
            return _error(409, f"name: toxic {toxic.name!r} already exists")
        proxy.toxics[toxic.name] = toxic
        return toxic.to_json()

    @app.get("/proxies/{name}/toxics/{toxic}")
    async def get_toxic(name: str, toxic: str) -> Any:
        proxy = _proxy(name)
        if not isinstance(proxy, Proxy):
            return proxy
        found = proxy.toxics.get(toxic)
        return found.to_json() if found else _error(404, f"toxic {toxic!r} not found")

    @app.post("/proxies/{name}/toxics/{toxic}")
    async def update_toxic(name: str, toxic: str, request: Request) -> Any:
        proxy = _proxy(name)
        if not isinstance(proxy, Proxy):
            return proxy
        found = proxy.toxics.get(toxic)
        if found is None:
            return _error(404, f"toxic {toxic!r} not found")
        body = await _body(request)
        if isinstance(body, dict):
            body = {**body, "name": toxic}
        updated = parse_toxic(body, existing=found)
        proxy.toxics[toxic] = updated
        return updated.to_json()

    @app.delete("/proxies/{name}/toxics/{toxic}")
    async def delete_toxic(name: str, toxic: str) -> Response:
        proxy = _proxy(name)
        if not isinstance(proxy, Proxy):
            return proxy
        if proxy.toxics.pop(toxic, None) is None:
            return _error(404, f"toxic {toxic!r} not found")
        return Response(status_code=204)

    @app.post("/reset")
    async def reset() -> Response:
        await reg.reset()
        return Response(status_code=204)

    return app


class FaultProxyServer(ThreadedApp):
    """Context manager: the control API (and its proxies) on 127.0.0.1 in a background thread.

    ``with FaultProxyServer() as fp: fp.url`` is the API base URL (Toxiproxy's is port 8474;
    the default here is a free port so tests never collide).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.registry = ProxyRegistry()
        super().__init__(create_app(self.registry), "fault-proxy", host, port)
