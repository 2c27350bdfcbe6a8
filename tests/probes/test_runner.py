"""The mixed-batch runner hands each engine only the options it takes."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tasks.extras import EXTRA_MODULES, MissingExtraError
from tasks.probes.catalog import parse_check
from tasks.probes.runner import run_any_checks
from tests.probes.helpers import SLOT


def test_an_option_for_another_engine_does_not_break_the_http_engine():
    check = parse_check({"id": "ok", "service": "s", "request": {"url": "http://shop.test/"}})
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    # `browser` is the browser engine's option (a shared Chromium); the HTTP engine has none.
    (result,) = asyncio.run(
        run_any_checks([check], "eu-west-1", SLOT, transport=transport, browser=object(), env={})
    )
    assert result.verdict == "pass"
    assert result.check_id == "ok"


def test_a_browser_check_without_the_browser_extra_names_it(monkeypatch):
    monkeypatch.setitem(EXTRA_MODULES, "browser", ("playwright_not_installed_here",))
    check = parse_check(
        {"id": "web", "service": "s", "type": "browser", "steps": [{"goto": "http://shop.test/"}]}
    )
    with pytest.raises(MissingExtraError, match=r"pip install 'traceo-jobs\[browser\]'"):
        asyncio.run(run_any_checks([check], "eu-west-1", SLOT, env={}))
