"""Oversized bodies are refused while they stream in: the app never holds more than the limit.

The app is driven through plain ASGI with a receive function that hands out the body in chunks
and counts what the app pulled, so the test measures the bytes the app buffered, not RSS.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from deployments.intake.allowlist import load_allowlist
from deployments.intake.app import create_app
from deployments.intake.body import MAX_BODY_BYTES
from deployments.intake.signing import sign_request
from tasks.store import get_engine, session_scope
from tasks.store.privacy_models import DsrRequest
from tests.deployments.intake.conftest import NOW, SECRETS, FakeStarter, dsr_payload

CHUNK = 64 * 1024
STREAMED = 8 * 1024 * 1024  # 32x the limit


@dataclass
class Upload:
    """One POST driven through the ASGI interface; ``pulled`` counts the body bytes handed over."""

    body_size: int
    prefix: bytes = b""
    pulled: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)

    async def receive(self) -> dict[str, Any]:
        if self.pulled >= self.body_size:
            return {"type": "http.disconnect"}
        size = min(CHUNK, self.body_size - self.pulled)
        chunk = (self.prefix + b" " * size)[:size] if self.pulled == 0 else b" " * size
        self.pulled += size
        return {"type": "http.request", "body": chunk, "more_body": self.pulled < self.body_size}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.messages if m["type"] == "http.response.start")


def _post(app: Any, upload: Upload, path: str, headers: dict[str, str]) -> Upload:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8787),
    }
    asyncio.run(app(scope, upload.receive, upload.send))
    return upload


@pytest.fixture
def engine(tmp_path):
    return get_engine(f"sqlite:///{tmp_path / 'intake.db'}")


@pytest.fixture
def app(engine):
    return create_app(engine, FakeStarter(), SECRETS, allowlist=load_allowlist(), clock=lambda: NOW)


def _stored(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(DsrRequest))


@pytest.mark.parametrize(
    "headers",
    [
        {},  # chunked: no Content-Length at all
        {"Content-Length": "100"},  # a Content-Length that understates the body
    ],
    ids=["chunked", "understated-length"],
)
@pytest.mark.parametrize("path", ["/v1/dsr/generic", "/v1/runs/generic"])
def test_a_streamed_body_over_the_limit_is_413_without_reading_past_it(app, engine, headers, path):
    upload = _post(app, Upload(STREAMED), path, {"Content-Type": "application/json", **headers})
    assert upload.status == 413
    assert upload.pulled <= MAX_BODY_BYTES + CHUNK
    assert _stored(engine) == 0


def test_a_signed_body_over_the_limit_is_413_too(app, engine):
    body = json.dumps(dsr_payload("generic", customer_id="x" * STREAMED)).encode()
    headers = sign_request("generic", body, SECRETS["generic"], NOW)
    upload = _post(app, Upload(len(body), prefix=body), "/v1/dsr/generic", headers)
    assert upload.status == 413
    assert upload.pulled <= MAX_BODY_BYTES + CHUNK
    assert _stored(engine) == 0


@pytest.mark.parametrize("declared", [str(MAX_BODY_BYTES + 1), "9" * 5000])
def test_a_declared_length_over_the_limit_is_413_before_reading(app, declared):
    upload = _post(app, Upload(STREAMED), "/v1/dsr/jira", {"Content-Length": declared})
    assert upload.status == 413 and upload.pulled == 0


def test_a_body_at_the_limit_is_read_and_judged_on_its_signature(app):
    upload = _post(app, Upload(MAX_BODY_BYTES), "/v1/dsr/generic", {})
    assert upload.status == 401 and upload.pulled == MAX_BODY_BYTES


def test_a_client_gone_mid_body_is_a_400_not_a_500(app, engine):
    class Vanishing(Upload):
        async def receive(self) -> dict[str, Any]:
            if self.pulled:
                return {"type": "http.disconnect"}
            self.pulled = CHUNK
            return {"type": "http.request", "body": b" " * CHUNK, "more_body": True}

    upload = _post(app, Vanishing(STREAMED), "/v1/dsr/generic", {})
    assert upload.status == 400 and _stored(engine) == 0
