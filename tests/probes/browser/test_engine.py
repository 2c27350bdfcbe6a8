"""The browser engine end to end: the shop example, duration verdicts, the browser lifecycle."""

from __future__ import annotations

import asyncio
import json
import stat
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from infra.sandbox.sample_service.server import SampleService
from tasks.probes.browser import INSTALL_HINT, run_checks
from tasks.probes.browser_spec import BrowserCheck
from tasks.probes.evidence import LocalEvidenceStore
from tasks.probes.loader import load_checks
from tasks.probes.runner import run_any_checks_sync
from tasks.probes.tasks import record_results
from tasks.settings import get_settings
from tasks.store import CheckResult, get_engine, session_scope
from tests.probes.browser.conftest import SLOT, SharedBrowser, Site, browser_check
from tests.services import require_chromium

OK = ("pass", "degraded")

EXAMPLES = Path(__file__).resolve().parents[3] / "deployments" / "checks"


def _shop_web() -> BrowserCheck:
    (check,) = load_checks([EXAMPLES / "shop-web.yaml"])
    assert isinstance(check, BrowserCheck)
    return check


def test_the_shop_web_example_passes_against_the_sample_shop_through_the_runner(
    shop: SampleService, tmp_path: Path
) -> None:
    require_chromium()  # the runner launches its own browser here, not the shared one
    # with the HTTP examples it was written next to: one batch, two engines
    checks = load_checks([EXAMPLES / "shop-web.yaml", EXAMPLES / "shop-api.yaml"])
    assert {c.type for c in checks} == {"browser", "http"}
    results = run_any_checks_sync(
        checks, "eu-west-1", SLOT, env={"SAMPLE_URL": shop.url}, concurrency=8
    )
    # a loaded machine can make a check slow enough to be degraded; none may fail
    bad = {r.check_id: (r.verdict, r.error) for r in results if r.verdict not in OK}
    assert bad == {}
    web = next(r for r in results if r.check_id == "shop-web-login")
    assert web.status_code == 200 and web.detail["navigation"][0]["load_ms"] > 0
    assert "evidence" not in web.detail
    # the store takes browser results like any other (detail is plain JSON)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert record_results.fn(results, database_url=url) == len(results)
    with session_scope(get_engine(url)) as session:
        row = session.scalars(select(CheckResult).where(CheckResult.check_id == web.check_id)).one()
        assert (
            row.verdict == web.verdict
            and row.detail["timings"]["load"] == web.detail["timings"]["load"]
        )


def test_a_slow_shop_makes_the_journey_degraded_or_failed_by_its_thresholds(
    chromium: SharedBrowser, shop: SampleService, evidence: LocalEvidenceStore
) -> None:
    base = _shop_web()
    degraded = base.model_copy(update={"id": "web-slow", "degraded_ms": 2000, "failed_ms": 60000})
    failed = base.model_copy(update={"id": "web-too-slow", "degraded_ms": 1000, "failed_ms": 2000})
    shop.set_faults(latency_ms=1200)  # the page and the sign-in call: >= 2.4 s per journey
    try:
        slow, too_slow = chromium.run(
            [degraded, failed], env={"SAMPLE_URL": shop.url}, evidence=evidence
        )
    finally:
        shop.set_faults()
    assert slow.verdict == "degraded" and slow.error is None, slow.error
    assert slow.duration_ms is not None and slow.duration_ms >= 2400
    assert "degraded_ms 2000" in slow.detail["reason"]
    # cut off when the journey reaches failed_ms, in whichever step was running then
    assert too_slow.verdict == "fail" and too_slow.failing_step in base.step_labels
    assert too_slow.error is not None
    assert too_slow.error.endswith("still running when the journey reached failed_ms 2000")
    assert too_slow.duration_ms is not None and too_slow.duration_ms >= 2000
    assert too_slow.detail["steps"][-1]["name"] == too_slow.failing_step
    assert set(too_slow.detail["evidence"]) == {"screenshot", "trace"}  # a slow run is kept too
    assert "evidence" not in slow.detail


def test_a_wrong_password_fails_at_the_welcome_step_without_recording_it(
    chromium: SharedBrowser, shop: SampleService, evidence: LocalEvidenceStore
) -> None:
    password = "not-the-demo-password"
    spec = _shop_web().model_dump()
    spec["steps"][-2]["timeout_seconds"] = 1  # "welcome message" waits this long for the text
    (result,) = chromium.run(
        [BrowserCheck.model_validate(spec)],
        env={"SAMPLE_URL": shop.url, "SAMPLE_PASSWORD": password},
        evidence=evidence,
    )
    assert result.verdict == "fail" and result.failing_step == "welcome message"
    assert result.error is not None and "(got 'Sign-in failed')" in result.error
    assert result.attempts == 1  # a wrong answer is not a network error: not retried
    recorded = json.dumps(result.detail, default=str) + result.error
    assert password not in recorded
    trace = Path(result.detail["evidence"]["trace"].removeprefix("file://")).read_bytes()
    assert password.encode() not in trace


def test_contexts_run_at_most_n_at_once_and_are_always_closed(
    chromium: SharedBrowser, pages: Site, evidence: LocalEvidenceStore
) -> None:
    checks = [
        browser_check(
            [
                # held until two pages wait at once (or 10 s): overlap, however loaded
                {"goto": "${SITE}/slow?ms=10000&peak=2"},
                {"assert_text": {"selector": "#slow", "equals": "finally"}},
            ],
            id=f"slow-{i}",
        )
        for i in range(4)
    ]
    checks.append(
        browser_check(
            [{"goto": "${SITE}/slow?ms=400"}, {"click": "#nope", "timeout_seconds": 0.2}],
            id="slow-broken",
        )
    )
    gauge = pages.app.state.slow
    gauge.peak = 0
    results = chromium.run(checks, env={"SITE": pages.url}, evidence=evidence, contexts=2)
    assert [r.verdict for r in results] == ["pass"] * 4 + ["fail"]
    assert gauge.peak == 2
    assert chromium.open_contexts() == 0


def test_an_empty_batch_launches_nothing_and_a_naive_slot_is_refused() -> None:
    assert asyncio.run(run_checks([], "eu-west-1", SLOT)) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        asyncio.run(
            run_checks(
                [browser_check([{"goto": "http://127.0.0.1:9"}])], "eu-west-1", datetime(2026, 1, 1)
            )
        )


def test_without_a_browser_checks_are_errors_that_name_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no" / "chromium"
    monkeypatch.setenv("TRACEO_CHROMIUM_PATH", str(missing))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "empty"))  # no Playwright build
    get_settings.cache_clear()
    checks = [browser_check([{"goto": "http://127.0.0.1:9/"}], id=f"web-{i}") for i in range(2)]
    # wait_for only guards against a hang; the launch fails in well under a second
    results = asyncio.run(asyncio.wait_for(run_checks(checks, "eu-west-1", SLOT, env={}), 60))
    assert [r.verdict for r in results] == ["error", "error"]
    error = results[0].error or ""
    assert f"TRACEO_CHROMIUM_PATH={missing} does not exist" in error
    assert "Playwright's own browser is missing" in error
    assert INSTALL_HINT in error and "apt-get install chromium" in error
    assert results[0].duration_ms is None and results[0].attempts == 1


def test_a_browser_that_never_starts_times_out(tmp_path: Path) -> None:
    hanging = tmp_path / "chromium"
    hanging.write_text("#!/bin/sh\nexec sleep 30\n", encoding="utf-8")
    hanging.chmod(hanging.stat().st_mode | stat.S_IEXEC)
    check = browser_check([{"goto": "http://127.0.0.1:9/"}])
    coro = run_checks([check], "eu-west-1", SLOT, env={}, executable_path=hanging, launch_timeout=1)
    (result,) = asyncio.run(asyncio.wait_for(coro, 60))
    assert result.verdict == "error"
    assert result.error == f"Chromium ({hanging}) did not start within 1s"
