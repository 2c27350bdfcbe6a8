"""A small shop API for demos and tests: JSON endpoints, a login page and fault switches.

Fault switches (``POST /_control`` with ``{"latency_ms": 250, "error_rate": 0.2}``) add latency
and a share of HTTP 503 answers to every non-control endpoint, so checks and SLOs have something
to see.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

__all__ = ["DEMO_PASSWORD", "DEMO_USER", "Faults", "create_app"]

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"
VERSION = "1.4.2"

PRODUCTS = [
    {"id": 1, "name": "Trail running shoes", "price": 129.0, "in_stock": True},
    {"id": 2, "name": "Rain jacket", "price": 89.5, "in_stock": True},
    {"id": 3, "name": "Head torch", "price": 34.99, "in_stock": False},
    {"id": 4, "name": "Hydration vest", "price": 74.0, "in_stock": True},
]

LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop - Sign in</title></head>
<body>
<h1>Sign in</h1>
<form id="login" onsubmit="return signIn(event)">
  <label>User <input id="username" name="username" autocomplete="username"></label>
  <label>Password <input id="password" name="password" type="password"></label>
  <button id="submit" type="submit">Sign in</button>
</form>
<p id="message" role="status"></p>
<script>
async function signIn(event) {
  event.preventDefault();
  const body = {username: document.getElementById('username').value,
                password: document.getElementById('password').value};
  const r = await fetch('/api/login', {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  document.getElementById('message').textContent =
      r.ok ? 'Welcome, ' + body.username : 'Sign-in failed';
  return false;
}
</script>
</body></html>
"""


class Faults(BaseModel):
    """Fault switches applied to every non-control request."""

    latency_ms: int = Field(default=0, ge=0, le=120_000)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)


class LoginRequest(BaseModel):
    username: str
    password: str


class OrderRequest(BaseModel):
    product_id: int
    quantity: int = Field(default=1, ge=1, le=100)


@dataclass
class _State:
    faults: Faults = field(default_factory=Faults)
    tokens: set[str] = field(default_factory=set)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    rng: random.Random = field(default_factory=lambda: random.Random(7))


def create_app(faults: Faults | None = None) -> FastAPI:
    """Build the app; each app has its own state (tokens, orders, fault switches)."""
    app = FastAPI(title="Traceo sample shop", version=VERSION, docs_url=None, redoc_url=None)
    state = _State(faults=faults or Faults())
    app.state.shop = state

    @app.middleware("http")
    async def inject_faults(request: Request, call_next):  # type: ignore[no-untyped-def]
        if request.url.path.startswith("/_control"):
            return await call_next(request)
        current = state.faults
        if current.latency_ms:
            await asyncio.sleep(current.latency_ms / 1000)
        with state.lock:
            failing = state.rng.random() < current.error_rate
        if failing:
            return JSONResponse({"detail": "injected failure"}, status_code=503)
        return await call_next(request)

    def _require_token(authorization: str | None) -> None:
        token = (authorization or "").removeprefix("Bearer ").strip()
        if token not in state.tokens:
            raise HTTPException(status_code=401, detail="missing or invalid token")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "UP", "version": VERSION, "checks": {"db": "UP"}}

    @app.get("/api/products")
    def products(response: Response) -> list[dict[str, Any]]:
        response.headers["X-Request-Id"] = uuid.uuid4().hex
        return PRODUCTS

    @app.get("/api/products/{product_id}")
    def product(product_id: int) -> dict[str, Any]:
        for item in PRODUCTS:
            if item["id"] == product_id:
                return item
        raise HTTPException(status_code=404, detail="not found")

    @app.post("/api/login")
    def login(body: LoginRequest) -> dict[str, Any]:
        if body.username != DEMO_USER or not secrets.compare_digest(body.password, DEMO_PASSWORD):
            raise HTTPException(status_code=401, detail="invalid credentials")
        token = secrets.token_urlsafe(24)
        with state.lock:
            state.tokens.add(token)
        return {"token": token, "expires_in": 3600}

    @app.get("/api/orders")
    def list_orders(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        _require_token(authorization)
        orders = list(state.orders.values())
        return {"orders": orders, "count": len(orders)}

    @app.post("/api/orders", status_code=201)
    def create_order(
        body: OrderRequest, response: Response, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        _require_token(authorization)
        if not any(p["id"] == body.product_id for p in PRODUCTS):
            raise HTTPException(status_code=422, detail="unknown product")
        order_id = f"ord_{uuid.uuid4().hex[:12]}"
        order = {
            "id": order_id,
            "status": "created",
            "product_id": body.product_id,
            "quantity": body.quantity,
        }
        with state.lock:
            state.orders[order_id] = order
        response.headers["Location"] = f"/api/orders/{order_id}"
        return order

    @app.get("/api/orders/{order_id}")
    def get_order(
        order_id: str, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        _require_token(authorization)
        order = state.orders.get(order_id)
        if order is None:
            raise HTTPException(status_code=404, detail="not found")
        return order

    @app.get("/login", response_class=HTMLResponse)
    def login_page() -> str:
        return LOGIN_PAGE

    @app.get("/_control")
    def get_faults() -> Faults:
        return state.faults

    @app.post("/_control")
    def set_faults(faults: Faults) -> Faults:
        state.faults = faults
        return state.faults

    return app
