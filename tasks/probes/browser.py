"""The browser engine: run a batch of browser checks in one Chromium, a fresh context per attempt.

One browser is launched per batch (:mod:`tasks.probes.browser_launch`; a launch costs 0.5-2 s,
a context tens of ms) and ``TRACEO_BROWSER_CONTEXTS`` contexts (default 2) run at once.

Recorded per run in ``ProbeResult.detail``: ``steps`` (per step: action, target, duration, error),
``navigation`` (per ``goto``: status and Navigation Timing TTFB / DOMContentLoaded / load in ms
since navigation start), ``timings`` (the first navigation's, plus ``total``), ``attempts`` and,
when an attempt fails, ``evidence``: URIs of a PNG screenshot (filled fields masked) and a
Playwright trace zip (typed values and secrets scrubbed), stored via :mod:`tasks.probes.evidence`.
Filled values are never recorded. A batch without a usable browser yields ``error`` results that
say how to fix it; nothing here raises per check.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from tasks.errors import ConfigurationError, TraceoError
from tasks.probes.browser_launch import (
    INSTALL_HINT,
    LAUNCH_ARGS,
    SYSTEM_CHROMIUM,
    BrowserUnavailableError,
    chromium_executable,
    first_line,
    open_browser,
)
from tasks.probes.browser_spec import BrowserCheck, BrowserStep, Goto, _TextMatch
from tasks.probes.evidence import EvidenceStore, evidence_key, evidence_store, scrub_trace
from tasks.probes.http import ProbeResult, Verdict
from tasks.probes.retries import run_with_retries
from tasks.probes.templating import RenderContext, Template, TemplateError
from tasks.probes.tls import CertInfo, certificate_problem
from tasks.settings import get_settings

__all__ = [
    "INSTALL_HINT",
    "LAUNCH_ARGS",
    "SYSTEM_CHROMIUM",
    "BrowserUnavailableError",
    "chromium_executable",
    "open_browser",
    "run_checks",
]

_POLL_SECONDS = 0.1
_CLOSE_SECONDS = 10.0
_SCREENSHOT_MS = 5_000
_MIN_SECRET_LEN = 4  # as tasks.probes.templating: shorter values would garble what is scrubbed
_TEMPLATED = ("url", "value", "label", "equals", "contains", "matches")  # ${VAR} expands here
_VERB = {"equals": "equal", "contains": "contain", "matches": "match"}
_NAV_TIMINGS = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  if (!n) return null;
  const ms = (v) => (v > 0 ? Math.round(v * 10) / 10 : null);
  return {ttfb_ms: ms(n.responseStart), dom_content_loaded_ms: ms(n.domContentLoadedEventEnd),
          load_ms: ms(n.loadEventEnd), transfer_bytes: n.transferSize};
}"""


def _step_error(label: str, problem: object) -> str:
    """``step 'log in' failed: ...``: no colon right after the label, so a step named after a
    password field ('fill #password') does not read as ``password: <secret>`` to the redactor,
    which would hide the first word of the problem."""
    return f"step {label!r} failed: {problem}"


@dataclass
class _Attempt:
    number: int
    started_at: datetime
    verdict: Verdict = "pass"
    error: str | None = None
    network_error: bool = False
    duration_ms: float = 0.0
    status_code: int | None = None
    failing_step: str | None = None
    reason: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    navigation: list[dict[str, Any]] = field(default_factory=list)
    filled_selectors: list[str] = field(default_factory=list)
    typed: set[str] = field(default_factory=set)  # every filled value, for the trace scrubber
    cert: CertInfo | None = None
    evidence: dict[str, str] = field(default_factory=dict)

    def fail(self, message: str, step: str | None, *, network: bool = False) -> None:
        self.verdict, self.error, self.failing_step = "fail", message, step
        self.network_error = network

    @property
    def ran(self) -> bool:
        """Whether any step got as far as running (a template error stops before)."""
        return any("duration_ms" in s for s in self.steps)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "number": self.number,
            "verdict": self.verdict,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 3) if self.ran else None,
            "started_at": self.started_at.isoformat(),
            "status_code": self.status_code,
            "failing_step": self.failing_step,
        }
        if self.evidence:
            out["evidence"] = self.evidence
        return out


@dataclass(frozen=True)
class _Prepared:
    check: BrowserCheck
    steps: tuple[tuple[str, BrowserStep, dict[str, Template]], ...]  # label, step, templates
    deadline_seconds: float


def _prepare(check: BrowserCheck) -> _Prepared:
    steps = []
    for label, step in zip(check.step_labels, check.steps, strict=True):
        params = step.params
        templates = {
            name: Template.compile(getattr(params, name))
            for name in _TEMPLATED
            if isinstance(getattr(params, name, None), str)
        }
        steps.append((label, step, templates))
    return _Prepared(check, tuple(steps), check.steps_deadline_seconds)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _text_matches(operator: str, expected: str, actual: str | None) -> bool:
    if actual is None:
        return False
    if operator == "equals":
        return _norm(actual) == _norm(expected)
    if operator == "contains":
        return _norm(expected) in _norm(actual)
    return re.search(expected, actual) is not None


async def _poll(
    read: Callable[[], Awaitable[str | None]], ok: Callable[[str | None], bool], seconds: float
) -> tuple[bool, str | None]:
    """Read until ``ok`` or ``seconds`` pass; pages change after scripts and fetches run."""
    deadline = time.monotonic() + seconds
    pause = _POLL_SECONDS / 4  # short at first: most pages settle within a few frames
    while True:
        value = await read()
        if ok(value):
            return True, value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False, value
        await asyncio.sleep(min(pause, remaining))
        pause = min(pause * 2, _POLL_SECONDS)


class _Engine:
    def __init__(
        self,
        region: str,
        scheduled_at: datetime,
        env: Mapping[str, str],
        store: EvidenceStore | None,
        store_problem: str | None,
    ) -> None:
        self.region = region
        self.scheduled_at = scheduled_at
        self.env = env
        self.store = store
        self.store_problem = store_problem
        self.browser_info: dict[str, Any] = {}

    async def run_all(
        self, browser: Browser, checks: list[BrowserCheck], contexts: int
    ) -> list[ProbeResult]:
        self.browser_info = {"name": "chromium", "version": browser.version}
        gate = asyncio.Semaphore(max(1, contexts))

        async def one(check: BrowserCheck) -> ProbeResult:
            async with gate:
                return await self.run_one(browser, check)

        return list(await asyncio.gather(*(one(c) for c in checks)))

    async def run_one(self, browser: Browser, check: BrowserCheck) -> ProbeResult:
        started = datetime.now(UTC)
        secrets: set[str] = set()
        try:
            prepared = _prepare(check)
            attempts = await run_with_retries(
                check.retry, lambda n: self._attempt(browser, prepared, n, secrets)
            )
            return self._result(prepared, attempts)
        except Exception as exc:  # one broken check must never fail the batch
            message = f"internal error: {type(exc).__name__}: {first_line(exc)}"
            return self.error(check, started, message, secrets)

    def error(
        self, check: BrowserCheck, started: datetime, message: str, secrets: set[str] | None = None
    ) -> ProbeResult:
        message = RenderContext(self.env, secrets=secrets or set()).scrub(message)
        return ProbeResult.not_run(
            check.id, check.type, self.region, self.scheduled_at, started, message
        )

    def _result(self, prepared: _Prepared, attempts: list[_Attempt]) -> ProbeResult:
        final = attempts[-1]
        first_nav = final.navigation[0] if final.navigation else {}
        detail: dict[str, Any] = {
            "type": "browser",
            "browser": self.browser_info,
            "attempts": [a.summary() for a in attempts],
            "steps": final.steps,
            "navigation": final.navigation,
            "timings": {
                "ttfb": first_nav.get("ttfb_ms"),
                "dom_content_loaded": first_nav.get("dom_content_loaded_ms"),
                "load": first_nav.get("load_ms"),
                "total": round(final.duration_ms, 3),
            },
        }
        if final.evidence:
            detail["evidence"] = final.evidence
        if final.cert is not None:
            detail["cert"] = final.cert.to_dict()
        if final.reason:
            detail["reason"] = final.reason
        return ProbeResult(
            check_id=prepared.check.id,
            region=self.region,
            scheduled_at=self.scheduled_at,
            started_at=attempts[0].started_at,
            verdict=final.verdict,
            duration_ms=round(final.duration_ms, 3) if final.ran else None,
            status_code=final.status_code,
            failing_step=final.failing_step,
            error=final.error,
            attempts=len(attempts),
            detail=detail,
            cert_expires_at=final.cert.not_after if final.cert else None,
        )

    async def _attempt(
        self, browser: Browser, prepared: _Prepared, number: int, secrets: set[str]
    ) -> _Attempt:
        check = prepared.check
        attempt = _Attempt(number, datetime.now(UTC))
        ctx = RenderContext(self.env, secrets=secrets)
        try:
            context = await browser.new_context(
                ignore_https_errors=not check.verify_tls,
                viewport={"width": check.viewport.width, "height": check.viewport.height},
                service_workers="block",  # every run measures the network, not a worker's cache
            )
        except PlaywrightError as exc:
            attempt.verdict, attempt.error = "error", f"browser unusable: {first_line(exc)}"
            return attempt
        try:
            await context.tracing.start(snapshots=True, screenshots=False)
            page = await context.new_page()
            await self._steps(prepared, page, ctx, attempt)
            self._judge_duration(check, attempt)
            if attempt.verdict == "fail":
                await self._capture(check, context, page, ctx, attempt)
            else:
                await context.tracing.stop()
        finally:
            with suppress(Exception):
                async with asyncio.timeout(_CLOSE_SECONDS):
                    await context.close()
        self._scrub(attempt, ctx)
        return attempt

    async def _steps(
        self, prepared: _Prepared, page: Page, ctx: RenderContext, attempt: _Attempt
    ) -> None:
        check, label = prepared.check, "(before the first step)"
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(prepared.deadline_seconds):
                for label, step, templates in prepared.steps:
                    if not await self._step(check, label, step, templates, page, ctx, attempt):
                        break
        except TimeoutError:
            # cut off mid-step: the journey is slower than failed_ms, or every step dawdled
            elapsed = (time.perf_counter() - t0) * 1000
            if attempt.steps:
                done = sum(s.get("duration_ms", 0.0) for s in attempt.steps)
                attempt.steps[-1]["duration_ms"] = round(max(0.0, elapsed - done), 3)
            attempt.duration_ms = elapsed
            too_slow = prepared.deadline_seconds * 1000 >= check.failed_ms
            why = (
                f"still running when the journey reached failed_ms {check.failed_ms}"
                if too_slow
                else f"the steps exceeded their total timeout of {prepared.deadline_seconds:g}s"
            )
            if attempt.steps:
                attempt.steps[-1]["error"] = why
            attempt.fail(_step_error(label, why), label, network=not too_slow)
        except TemplateError as exc:
            attempt.verdict, attempt.error = "error", _step_error(label, exc)
            attempt.failing_step = label

    async def _step(
        self,
        check: BrowserCheck,
        label: str,
        step: BrowserStep,
        templates: dict[str, Template],
        page: Page,
        ctx: RenderContext,
        attempt: _Attempt,
    ) -> bool:
        """Run one step; False stops the check (the attempt records why)."""
        params: Any = step.params
        record: dict[str, Any] = {"name": label, "action": step.action}
        for key in ("url", "selector", "key", "text", "state"):  # never "value": it may be secret
            if isinstance(getattr(params, key, None), str):
                record[key] = getattr(params, key)
        if isinstance(params, _TextMatch):  # the template as written, not expanded
            record["expect"] = {params.operator: params.expected}
        attempt.steps.append(record)
        render = {name: template.render(ctx) for name, template in templates.items()}
        if step.action == "fill":
            attempt.typed.add(render["value"])
            attempt.filled_selectors.append(params.selector)
            if len(render["value"]) >= _MIN_SECRET_LEN:
                ctx.secrets.add(render["value"])
        timeout_ms = step.timeout_seconds * 1000
        network = False
        t0 = time.perf_counter()
        try:
            problem = await self._act(check, step, render, page, timeout_ms, attempt, record)
        except PlaywrightTimeoutError:
            problem = f"timed out after {step.timeout_seconds:g}s"
            if step.action == "select":
                option = params.label if params.label is not None else params.value
                problem += f" waiting for option {option!r} in {params.selector}"
            elif getattr(params, "selector", None):
                problem += f" waiting for {params.selector}"
            network = step.action == "goto"
        except PlaywrightError as exc:
            problem = first_line(exc)
            network = "net::" in problem
        elapsed = (time.perf_counter() - t0) * 1000
        attempt.duration_ms += elapsed
        record["duration_ms"] = round(elapsed, 3)
        if problem is None and isinstance(params, Goto):
            await self._navigation(label, page, ctx, attempt)
        if problem is not None:
            record["error"] = problem
            attempt.fail(_step_error(label, problem), label, network=network)
            return False
        return True

    async def _act(
        self,
        check: BrowserCheck,
        step: BrowserStep,
        render: dict[str, str],
        page: Page,
        timeout_ms: float,
        attempt: _Attempt,
        record: dict[str, Any],
    ) -> str | None:
        """Perform the step's action; a problem string means it failed."""
        p: Any = step.params
        if step.action == "goto":
            response = await page.goto(render["url"], wait_until=p.wait_until, timeout=timeout_ms)
            status = response.status if response is not None else None
            record["status"] = attempt.status_code = status
            if response is not None and response.url.startswith("https://"):
                problem = await self._certificate(response, attempt, check.tls_expiry_days)
                if problem:
                    return problem
            if p.expect_status is not None and status != p.expect_status:
                return f"HTTP status {status}, expected {p.expect_status}"
            if p.expect_status is None and status is not None and status >= 400:
                return f"HTTP status {status}"
        elif step.action == "click":
            await page.locator(p.selector).click(timeout=timeout_ms)
        elif step.action == "fill":
            await page.locator(p.selector).fill(render["value"], timeout=timeout_ms)
        elif step.action == "select":
            await page.locator(p.selector).select_option(
                value=render.get("value"), label=render.get("label"), timeout=timeout_ms
            )
        elif step.action == "press":
            if p.selector:
                await page.locator(p.selector).press(p.key, timeout=timeout_ms)
            else:
                await page.keyboard.press(p.key)
        elif step.action == "wait_for":
            target = page.locator(p.selector) if p.selector else page.get_by_text(p.text)
            await target.first.wait_for(state=p.state, timeout=timeout_ms)
        elif step.action == "assert_visible":
            try:
                await page.locator(p.selector).first.wait_for(state="visible", timeout=timeout_ms)
            except PlaywrightTimeoutError:
                count = await page.locator(p.selector).count()
                found = "no element matches" if not count else f"{count} matching, none visible"
                return f"{p.selector} is not visible after {step.timeout_seconds:g}s ({found})"
        else:
            return await self._assert_text(step, p, render, page)
        return None

    @staticmethod
    async def _assert_text(
        step: BrowserStep, p: _TextMatch, render: dict[str, str], page: Page
    ) -> str | None:
        expected = render[p.operator]
        read: Callable[[], Awaitable[str | None]]
        if step.action == "assert_text":
            locator = page.locator(p.selector)  # type: ignore[attr-defined]

            async def read() -> str | None:
                texts = await locator.all_inner_texts()
                return texts[0] if texts else None

            subject = f"text of {p.selector}"  # type: ignore[attr-defined]
        elif step.action == "assert_url":

            async def read() -> str | None:
                return page.url

            subject = "URL"
        else:
            read, subject = page.title, "title"
        ok, actual = await _poll(
            read, lambda v: _text_matches(p.operator, expected, v), step.timeout_seconds
        )
        if ok:
            return None
        if actual is None:
            return f"no element matches {p.selector}"  # type: ignore[attr-defined]
        shown = actual if len(actual) <= 200 else actual[:197] + "..."
        return f"{subject} does not {_VERB[p.operator]} {expected!r} (got {shown!r})"

    @staticmethod
    async def _certificate(response: Any, attempt: _Attempt, min_days: int) -> str | None:
        details = await response.security_details()
        if not details or not details.get("validTo"):
            return None
        cert = CertInfo(
            subject=str(details.get("subjectName") or ""),
            issuer=str(details.get("issuer") or ""),
            not_before=datetime.fromtimestamp(details.get("validFrom") or 0, tz=UTC),
            not_after=datetime.fromtimestamp(details["validTo"], tz=UTC),
        )
        if attempt.cert is None or cert.not_after < attempt.cert.not_after:
            attempt.cert = cert
        return certificate_problem(cert, min_days)

    async def _navigation(
        self, label: str, page: Page, ctx: RenderContext, attempt: _Attempt
    ) -> None:
        # the path only: the origin usually comes from ${VAR}, whose values are scrubbed as secrets
        path = urlsplit(page.url).path or "/"
        entry: dict[str, Any] = {"step": label, "path": ctx.scrub(path)}
        entry["status"] = attempt.status_code
        with suppress(PlaywrightError):
            timings = await page.evaluate(_NAV_TIMINGS)
            if isinstance(timings, dict):
                entry.update(timings)
        attempt.navigation.append(entry)

    @staticmethod
    def _judge_duration(check: BrowserCheck, attempt: _Attempt) -> None:
        if attempt.verdict != "pass":
            return
        took = f"page journey took {attempt.duration_ms:.0f} ms"
        if attempt.duration_ms >= check.failed_ms:
            attempt.fail(f"{took} >= failed_ms {check.failed_ms}", None)
        elif attempt.duration_ms >= check.degraded_ms:
            attempt.verdict = "degraded"
            attempt.reason = f"{took} >= degraded_ms {check.degraded_ms}"

    async def _capture(
        self,
        check: BrowserCheck,
        context: BrowserContext,
        page: Page,
        ctx: RenderContext,
        attempt: _Attempt,
    ) -> None:
        """Store a screenshot and the trace of a failed attempt; problems are noted, not raised."""
        problems: list[str] = []
        shot: bytes | None = None
        trace: bytes | None = None
        try:
            masks = [page.locator(s) for s in attempt.filled_selectors]
            shot = await page.screenshot(
                type="png", timeout=_SCREENSHOT_MS, mask=masks, animations="disabled"
            )
        except PlaywrightError as exc:
            problems.append(f"screenshot: {first_line(exc)}")
        with tempfile.TemporaryDirectory(prefix="traceo-trace-") as tmp:
            path = Path(tmp) / "trace.zip"
            try:
                await context.tracing.stop(path=path)
                trace = scrub_trace(path.read_bytes(), attempt.typed | ctx.secrets)
            except (PlaywrightError, OSError, ValueError) as exc:
                problems.append(f"trace: {first_line(exc)}")
        if self.store is None:
            problems.append(self.store_problem or "no evidence store")
        else:
            for name, data, content_type in (
                ("screenshot.png", shot, "image/png"),
                ("trace.zip", trace, "application/zip"),
            ):
                if data is None:
                    continue
                key = evidence_key(check.id, self.region, self.scheduled_at, attempt.number, name)
                try:
                    uri = await asyncio.to_thread(self.store.put, key, data, content_type)
                except (TraceoError, OSError, ValueError) as exc:
                    problems.append(f"{name}: {first_line(exc)}")
                else:
                    attempt.evidence[name.partition(".")[0]] = uri
        if problems:
            attempt.evidence["error"] = "; ".join(problems)

    @staticmethod
    def _scrub(attempt: _Attempt, ctx: RenderContext) -> None:
        if attempt.error:
            attempt.error = ctx.scrub(attempt.error)
        for record in attempt.steps:
            if record.get("error"):
                record["error"] = ctx.scrub(record["error"])


async def run_checks(
    checks: Iterable[BrowserCheck],
    region: str,
    scheduled_at: datetime,
    *,
    contexts: int | None = None,
    env: Mapping[str, str] | None = None,
    evidence: EvidenceStore | None = None,
    browser: Browser | None = None,
    executable_path: Path | str | None = None,
    launch_timeout: float | None = None,
    **_ignored: Any,
) -> list[ProbeResult]:
    """Run every browser check once from ``region`` for the slot ``scheduled_at``.

    Never raises per check. Other engines' options (``concurrency``, ...) are accepted and ignored.

    Args:
        checks: validated browser checks.
        region: the region the results are recorded under.
        scheduled_at: the slot (timezone-aware).
        contexts: browser contexts at once (default ``TRACEO_BROWSER_CONTEXTS``).
        env: variables for ``${VAR}`` (default: ``os.environ``, read now).
        evidence: where failure evidence goes (default: :func:`evidence_store`).
        browser: an already launched browser to use (the caller closes it); default: launch one.
        executable_path: Chromium to launch (default: see :func:`chromium_executable`).
        launch_timeout: seconds allowed for the launch.

    Returns:
        One :class:`ProbeResult` per check, in the order given.
    """
    if scheduled_at.tzinfo is None:
        raise ValueError("scheduled_at must be timezone-aware (UTC)")
    items = list(checks)
    if not items:
        return []
    store, store_problem = evidence, None
    if store is None:
        try:
            store = evidence_store()
        except ConfigurationError as exc:
            store_problem = f"evidence not stored: {exc}"
    engine = _Engine(
        region, scheduled_at, dict(os.environ if env is None else env), store, store_problem
    )
    limit = contexts or get_settings().browser_contexts
    if browser is not None:
        return await engine.run_all(browser, items, limit)
    started = datetime.now(UTC)
    try:
        async with open_browser(executable_path, launch_timeout=launch_timeout) as launched:
            return await engine.run_all(launched, items, limit)
    except BrowserUnavailableError as exc:
        return [engine.error(check, started, str(exc)) for check in items]
