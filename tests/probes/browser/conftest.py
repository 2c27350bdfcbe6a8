"""Fixtures for browser-engine tests: one Chromium for the whole session, a local site, the shop.

Playwright's async objects belong to the event loop that created them, so the shared browser
lives on a private loop in a background thread and tests submit coroutines to it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser

from infra.sandbox.sample_service.server import SampleService
from tasks.probes.browser import open_browser, run_checks
from tasks.probes.browser_spec import BrowserCheck
from tasks.probes.evidence import LocalEvidenceStore
from tasks.probes.http import ProbeResult
from tests.probes.browser.pages import create_pages
from tests.probes.server import ServerThread
from tests.services import require_chromium

SLOT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
T = TypeVar("T")


def browser_check(steps: list[dict[str, Any]], **fields: Any) -> BrowserCheck:
    raw = {"id": fields.pop("id", "web-1"), "service": "svc", "type": "browser", "steps": steps}
    return BrowserCheck.model_validate({**raw, **fields})


class SharedBrowser:
    """A launched Chromium on its own event loop thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._opened: AbstractAsyncContextManager[Browser] = open_browser()
        self.browser: Browser

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __enter__(self) -> SharedBrowser:
        self._thread.start()
        self.browser = self.call(self._opened.__aenter__())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self._opened.__aexit__(None, None, None))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)

    def run(self, checks: list[BrowserCheck], **kwargs: Any) -> list[ProbeResult]:
        kwargs.setdefault("env", {})
        return self.call(run_checks(checks, "eu-west-1", SLOT, browser=self.browser, **kwargs))

    def open_contexts(self) -> int:
        async def count() -> int:
            return len(self.browser.contexts)

        return self.call(count())


@pytest.fixture(scope="session")
def chromium() -> Iterator[SharedBrowser]:
    require_chromium()
    with SharedBrowser() as shared:
        yield shared


@dataclass(frozen=True)
class Site:
    url: str
    app: FastAPI


@pytest.fixture(scope="session")
def pages() -> Iterator[Site]:
    """The local test site (tests.probes.browser.pages)."""
    app = create_pages()
    with ServerThread(app) as server:
        yield Site(server.url, app)


@pytest.fixture(scope="session")
def shop() -> Iterator[SampleService]:
    with SampleService() as service:
        yield service


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    return tmp_path / "evidence"


@pytest.fixture
def evidence(evidence_dir: Path) -> LocalEvidenceStore:
    return LocalEvidenceStore(evidence_dir)
