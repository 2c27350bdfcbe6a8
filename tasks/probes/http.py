"""The async probe engine: run a batch of checks from one region and return one result each.

Throughput: httpx's async connection pool gets slower as concurrency on one client grows (its
pool scans every waiting request on each change), so the engine shards the batch over several
``AsyncClient`` objects with a small per-client concurrency. On a 2-core machine against a local
server, 16 clients x 2 connections ran ~2,500 GETs/s where one client x 20 ran ~700/s.
Connections are kept alive and reused between checks of the same shard.

Timings per request come from httpcore's ``trace`` extension, in milliseconds:

- ``connect``: TCP connect, *including name resolution* (httpcore resolves inside
  ``connect_tcp``, so ``dns`` is reported separately only when it is trivially 0 (an IP address);
  otherwise ``dns`` is None and counted in ``connect``);
- ``tls``: the TLS handshake; ``send``: writing the request;
- ``ttfb``: from the request sent to the response headers received (server think time + first
  byte; curl's starttransfer minus pretransfer);
- ``transfer``: reading the body; ``total``: from send to the body read.

``connect``, ``tls`` and ``dns`` are None on a reused keep-alive connection
(``reused_connection: true``). A check's ``duration_ms`` is the sum of its steps' totals in the
final attempt and is what ``degraded_ms``/``failed_ms`` compare against.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import ssl
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from tasks.probes.assertions import (
    MISSING,
    CompiledAssertion,
    JsonPath,
    ResponseView,
    compile_assertion,
    evaluate,
)
from tasks.probes.retries import run_with_retries
from tasks.probes.spec import Assertion, Extraction, HttpCheck, MultistepCheck, RequestSpec
from tasks.probes.templating import (
    JsonTemplate,
    RenderContext,
    Template,
    TemplateError,
    compile_json,
)
from tasks.probes.tls import (
    CertInfo,
    certificate_problem,
    is_tls_error,
    parse_certificate,
    peer_certificate,
    ssl_context,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_PER_CLIENT",
    "VERDICTS",
    "ProbeResult",
    "Verdict",
    "count_verdicts",
    "run_checks",
    "run_checks_sync",
]

Verdict = Literal["pass", "degraded", "fail", "error"]
VERDICTS: tuple[str, ...] = ("pass", "degraded", "fail", "error")
DEFAULT_CONCURRENCY = 32
DEFAULT_PER_CLIENT = 2
USER_AGENT = "traceo-probe/1"
# A check or step without assertions passes on any non-error status.
_IMPLICIT_ASSERTION = Assertion(source="status_code", operator="less_than", target=400)


@dataclass(frozen=True)
class ProbeResult:
    """One check run in one region for one scheduled slot (maps 1:1 to a ``CheckResult`` row).

    ``started_at`` is when the first attempt started; ``duration_ms`` is the final attempt's
    request time (None when no request was sent); ``attempts`` counts attempts, and
    ``detail["attempts"]`` lists each one. ``detail`` also holds ``steps`` (per request: timings,
    assertion results, extracted variable names), summed ``timings`` and ``cert``.
    """

    check_id: str
    region: str
    scheduled_at: datetime
    started_at: datetime
    verdict: Verdict
    duration_ms: float | None
    status_code: int | None
    failing_step: str | None
    error: str | None
    attempts: int
    detail: dict[str, Any]
    cert_expires_at: datetime | None

    @property
    def good(self) -> bool:
        """Pass or degraded: what availability counts as up."""
        return self.verdict in ("pass", "degraded")

    @classmethod
    def not_run(
        cls,
        check_id: str,
        check_type: str,
        region: str,
        scheduled_at: datetime,
        started_at: datetime,
        message: str,
        **detail: Any,
    ) -> ProbeResult:
        """An ``error`` result for a check the probe could not run; ``message`` is scrubbed."""
        return cls(
            check_id=check_id,
            region=region,
            scheduled_at=scheduled_at,
            started_at=started_at,
            verdict="error",
            duration_ms=None,
            status_code=None,
            failing_step=None,
            error=message,
            attempts=1,
            detail={
                "type": check_type,
                **detail,
                "attempts": [{"number": 1, "verdict": "error", "error": message}],
            },
            cert_expires_at=None,
        )


@dataclass(frozen=True)
class _Step:
    name: str
    method: str
    url: Template
    headers: tuple[tuple[str, Template], ...]
    query: tuple[tuple[str, Template], ...]
    body: Template | None
    json: JsonTemplate | None
    timeout: httpx.Timeout
    timeout_seconds: float
    follow_redirects: bool
    assertions: tuple[CompiledAssertion, ...]
    extract: tuple[tuple[str, Extraction, JsonPath | None], ...]


@dataclass(frozen=True)
class _Prepared:
    check: HttpCheck | MultistepCheck
    steps: tuple[_Step, ...]
    deadline_seconds: float


def _prepare_step(
    name: str, request: RequestSpec, assertions: list[Assertion], extract: Mapping[str, Extraction]
) -> _Step:
    return _Step(
        name=name,
        method=request.method,
        url=Template.compile(request.url),
        headers=tuple((k, Template.compile(v)) for k, v in request.headers.items()),
        query=tuple((k, Template.compile(v)) for k, v in request.query.items()),
        body=Template.compile(request.body) if request.body is not None else None,
        json=compile_json(request.json_body) if request.json_body is not None else None,
        timeout=httpx.Timeout(request.timeout_seconds),
        timeout_seconds=request.timeout_seconds,
        follow_redirects=request.follow_redirects,
        assertions=tuple(compile_assertion(a) for a in assertions or [_IMPLICIT_ASSERTION]),
        extract=tuple(
            (var, ext, JsonPath.parse(ext.property) if ext.source == "json_body" else None)
            for var, ext in extract.items()
        ),
    )


def _prepare(check: HttpCheck | MultistepCheck) -> _Prepared:
    """Compile templates, JSON bodies, paths and regexes once per batch."""
    steps: tuple[_Step, ...]
    if isinstance(check, HttpCheck):
        steps = (_prepare_step("request", check.request, check.assertions, {}),)
    else:
        steps = tuple(
            _prepare_step(s.name, s.request, s.assertions, s.extract) for s in check.steps
        )
    return _Prepared(check, steps, sum(s.timeout_seconds for s in steps))


class _Timer:
    """Receives httpcore trace events and turns them into phase durations."""

    __slots__ = ("marks",)

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    async def trace(self, name: str, info: Mapping[str, Any]) -> None:
        # "connection.connect_tcp.started" -> "connect_tcp.started"; the last occurrence wins,
        # so after a redirect the phases describe the final request.
        self.marks[name.partition(".")[2]] = time.perf_counter()

    def _span(self, start: str, end: str) -> float | None:
        a, b = self.marks.get(start), self.marks.get(end)
        return None if a is None or b is None else round((b - a) * 1000, 3)

    def phases(self, host: str, total_ms: float) -> dict[str, Any]:
        connect = self._span("connect_tcp.started", "connect_tcp.complete")
        return {
            "dns": 0.0 if connect is not None and _is_ip(host) else None,
            "connect": connect,
            "tls": self._span("start_tls.started", "start_tls.complete"),
            "send": self._span("send_request_headers.started", "send_request_body.complete"),
            "ttfb": self._span("send_request_body.complete", "receive_response_headers.complete"),
            "transfer": self._span(
                "receive_response_body.started", "receive_response_body.complete"
            ),
            "total": round(total_ms, 3),
            "reused_connection": bool(self.marks) and connect is None,
        }


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass
class _Attempt:
    number: int
    started_at: datetime
    verdict: Verdict = "pass"
    error: str | None = None
    network_error: bool = False
    duration_ms: float = 0.0
    requests: int = 0
    status_code: int | None = None
    failing_step: str | None = None
    reason: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    cert: CertInfo | None = None

    def fail(self, message: str, step: str | None, *, network: bool = False) -> None:
        self.verdict, self.error, self.failing_step, self.network_error = (
            "fail",
            message,
            step,
            network,
        )

    def summary(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "verdict": self.verdict,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 3) if self.requests else None,
            "started_at": self.started_at.isoformat(),
            "status_code": self.status_code,
            "failing_step": self.failing_step,
        }


def _scrub(attempt: _Attempt, ctx: RenderContext) -> None:
    """Remove secrets from what an attempt records, once every secret of the run is known.

    Only fields that carry response data or messages are scrubbed: a token extracted in a later
    step, or a password read from the environment, may have been echoed in any of them.
    """
    if attempt.error:
        attempt.error = ctx.scrub(attempt.error)
    for record in attempt.steps:
        if record.get("error"):
            record["error"] = ctx.scrub(record["error"])
        for result in record.get("assertions", ()):
            if isinstance(result["actual"], str):
                result["actual"] = ctx.scrub(result["actual"])


def _sum_timings(steps: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("dns", "connect", "tls", "send", "ttfb", "transfer", "total")
    out: dict[str, Any] = {}
    for key in keys:
        values = [s["timings"][key] for s in steps if s.get("timings", {}).get(key) is not None]
        out[key] = round(sum(values), 3) if values else None
    return out


class _Engine:
    def __init__(
        self,
        region: str,
        scheduled_at: datetime,
        env: Mapping[str, str],
        per_client: int,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.region = region
        self.scheduled_at = scheduled_at
        self.env = env
        self.per_client = per_client
        self.transport = transport
        self._clients: dict[tuple[bool, str | None, int], httpx.AsyncClient] = {}
        self._contexts: dict[tuple[bool, str | None], ssl.SSLContext] = {}

    def client(self, check: HttpCheck | MultistepCheck, shard: int) -> httpx.AsyncClient:
        key = (check.verify_tls, check.ca_bundle, shard)
        client = self._clients.get(key)
        if client is None:
            limits = httpx.Limits(
                max_connections=self.per_client, max_keepalive_connections=self.per_client
            )
            if self.transport is not None:
                client = httpx.AsyncClient(transport=self.transport, limits=limits)
            else:
                tls_key = (check.verify_tls, check.ca_bundle)
                context = self._contexts.get(tls_key)
                if context is None:
                    context = self._contexts[tls_key] = ssl_context(*tls_key)
                # trust_env=False: a probe measures the target itself, not a proxy from the env
                client = httpx.AsyncClient(verify=context, limits=limits, trust_env=False)
            client.headers["User-Agent"] = USER_AGENT
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self._clients.values()))

    async def run_one(self, prepared: _Prepared, shard: int) -> ProbeResult:
        started = datetime.now(UTC)
        secrets: set[str] = set()  # shared by the attempts; also scrubs an unexpected error
        try:
            check = prepared.check
            try:
                client = self.client(check, shard)
            except (OSError, ssl.SSLError) as exc:
                return self._error(prepared, started, f"cannot load CA bundle: {exc}", secrets)
            attempts = await run_with_retries(
                check.retry, lambda n: self._attempt(prepared, client, n, secrets)
            )
            return self._result(prepared, attempts)
        except Exception as exc:  # one broken check must never fail the batch
            message = f"internal error: {type(exc).__name__}: {exc}"
            return self._error(prepared, started, message, secrets)

    def _error(
        self, prepared: _Prepared, started: datetime, message: str, secrets: set[str]
    ) -> ProbeResult:
        message = RenderContext(self.env, secrets=secrets).scrub(message)
        check = prepared.check
        return ProbeResult.not_run(
            check.id, check.type, self.region, self.scheduled_at, started, message
        )

    def _result(self, prepared: _Prepared, attempts: list[_Attempt]) -> ProbeResult:
        final = attempts[-1]
        detail: dict[str, Any] = {
            "type": prepared.check.type,
            "attempts": [a.summary() for a in attempts],
            "steps": final.steps,
            "timings": _sum_timings(final.steps),
        }
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
            duration_ms=round(final.duration_ms, 3) if final.requests else None,
            status_code=final.status_code,
            failing_step=final.failing_step,
            error=final.error,
            attempts=len(attempts),
            detail=detail,
            cert_expires_at=final.cert.not_after if final.cert else None,
        )

    async def _attempt(
        self, prepared: _Prepared, client: httpx.AsyncClient, number: int, secrets: set[str]
    ) -> _Attempt:
        check = prepared.check
        multistep = isinstance(check, MultistepCheck)
        attempt = _Attempt(number, datetime.now(UTC))
        ctx = RenderContext(self.env, secrets=secrets)
        current: _Step | None = None
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(prepared.deadline_seconds):
                for current in prepared.steps:
                    if not await self._step(current, check, client, ctx, attempt, multistep):
                        break
        except TimeoutError:
            attempt.duration_ms = (time.perf_counter() - t0) * 1000
            step = current.name if multistep and current else None
            attempt.fail(f"timed out after {prepared.deadline_seconds:g}s", step, network=True)
        except TemplateError as exc:
            attempt.verdict, attempt.error = "error", str(exc)
            attempt.failing_step = current.name if multistep and current else None
        _scrub(attempt, ctx)
        if attempt.verdict == "pass":
            if attempt.duration_ms >= check.failed_ms:
                attempt.fail(
                    f"response time {attempt.duration_ms:.0f} ms >= failed_ms {check.failed_ms}",
                    None,
                )
            elif attempt.duration_ms >= check.degraded_ms:
                attempt.verdict = "degraded"
                attempt.reason = (
                    f"response time {attempt.duration_ms:.0f} ms >= degraded_ms {check.degraded_ms}"
                )
        return attempt

    async def _step(
        self,
        step: _Step,
        check: HttpCheck | MultistepCheck,
        client: httpx.AsyncClient,
        ctx: RenderContext,
        attempt: _Attempt,
        multistep: bool,
    ) -> bool:
        """Send one request and judge it; False stops the check (the attempt records why)."""
        label = step.name if multistep else None
        prefix = f"step {step.name!r}: " if multistep else ""
        headers = [(k, v.render(ctx)) for k, v in step.headers]
        content: bytes | str | None = None
        if step.json is not None:
            content = step.json.render(ctx)
            if not any(k.lower() == "content-type" for k, _ in headers):
                headers.append(("Content-Type", "application/json"))
        elif step.body is not None:
            content = step.body.render(ctx)
        timer = _Timer()
        record: dict[str, Any] = {"name": step.name, "method": step.method, "url": step.url.source}
        attempt.steps.append(record)
        try:
            request = client.build_request(
                step.method,
                step.url.render(ctx),
                headers=headers,
                params=[(k, v.render(ctx)) for k, v in step.query] or None,
                content=content,
                timeout=step.timeout,
                extensions={"trace": timer.trace},
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
            raise TemplateError(f"{prefix}invalid request: {exc}") from None
        t0 = time.perf_counter()
        attempt.requests += 1
        try:
            response = await client.send(
                request, stream=True, follow_redirects=step.follow_redirects
            )
            try:
                der = peer_certificate(response) if response.url.scheme == "https" else None
                await response.aread()
            finally:
                await response.aclose()
        except httpx.UnsupportedProtocol as exc:
            raise TemplateError(f"{prefix}invalid request: {exc}") from None
        except (httpx.TransportError, httpx.TooManyRedirects, httpx.DecodingError) as exc:
            elapsed = (time.perf_counter() - t0) * 1000
            attempt.duration_ms += elapsed
            kind = "TLS error" if is_tls_error(exc) else type(exc).__name__
            message = f"{prefix}{kind}: {exc or 'no details'}"
            record.update(error=message, duration_ms=round(elapsed, 3))
            attempt.fail(message, label, network=isinstance(exc, httpx.TransportError))
            return False
        elapsed = (time.perf_counter() - t0) * 1000
        attempt.duration_ms += elapsed
        attempt.status_code = response.status_code
        record.update(
            status_code=response.status_code,
            duration_ms=round(elapsed, 3),
            timings=timer.phases(request.url.host, elapsed),
            redirects=len(response.history),
        )
        problems: list[str] = []
        if der is not None:
            cert = parse_certificate(der)
            if attempt.cert is None or cert.not_after < attempt.cert.not_after:
                attempt.cert = cert
            if problem := certificate_problem(cert, check.tls_expiry_days):
                problems.append(problem)
        view = ResponseView(response, elapsed)
        results = [evaluate(a, view) for a in step.assertions]
        record["assertions"] = [r.to_dict() for r in results]
        failed = [r for r in results if not r.passed]
        if failed:
            problems.append("assertion failed: " + "; ".join(r.describe() for r in failed))
        if not problems:
            problems.extend(self._extract(step, view, ctx, record))
        if problems:
            attempt.fail(prefix + "; ".join(problems), label)
            return False
        return True

    @staticmethod
    def _extract(
        step: _Step, view: ResponseView, ctx: RenderContext, record: dict[str, Any]
    ) -> list[str]:
        problems = []
        for var, ext, path in step.extract:
            if path is not None:
                document = view.json
                value = MISSING if document is MISSING else path.find(document)
            else:
                value = view.headers.get(ext.property, MISSING)
            if value is MISSING or value is None:
                problems.append(f"could not extract {var} from {ext.source} {ext.property}")
            else:
                ctx.set_variable(var, value)
        # names only: values may be tokens
        record["extracted"] = [var for var, _, _ in step.extract if var in ctx.variables]
        return problems


async def run_checks(
    checks: Iterable[HttpCheck | MultistepCheck],
    region: str,
    scheduled_at: datetime,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    per_client: int = DEFAULT_PER_CLIENT,
    env: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[ProbeResult]:
    """Run every check once from ``region`` for the slot ``scheduled_at``; never raises per check.

    Args:
        checks: validated checks (see :func:`tasks.probes.loader.load_checks`).
        region: the region the results are recorded under.
        scheduled_at: the slot (timezone-aware); with ``check_id`` and ``region`` the natural key.
        concurrency: checks in flight at once (each occupies one connection).
        per_client: connections per ``AsyncClient``; the batch uses
            ``ceil(concurrency / per_client)`` clients.
        env: variables for ``${VAR}`` (default: ``os.environ``, read now).
        transport: a transport for every client (tests use ``httpx.MockTransport``).

    Returns:
        One :class:`ProbeResult` per check, in the order given.
    """
    if scheduled_at.tzinfo is None:
        raise ValueError("scheduled_at must be timezone-aware (UTC)")
    items = list(checks)
    if not items:
        return []
    workers = max(1, min(concurrency, len(items)))
    per_client = max(1, min(per_client, workers))
    engine = _Engine(
        region, scheduled_at, dict(os.environ if env is None else env), per_client, transport
    )
    prepared = [_prepare(c) for c in items]
    results: list[ProbeResult | None] = [None] * len(items)
    queue = iter(range(len(items)))

    async def worker(shard: int) -> None:
        for index in queue:  # a shared iterator: each index is taken by exactly one worker
            results[index] = await engine.run_one(prepared[index], shard)

    try:
        await asyncio.gather(*(worker(w // per_client) for w in range(workers)))
    finally:
        await engine.aclose()
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def run_checks_sync(
    checks: Iterable[HttpCheck | MultistepCheck],
    region: str,
    scheduled_at: datetime,
    **kwargs: Any,
) -> list[ProbeResult]:
    """Blocking :func:`run_checks`; works with or without an event loop in this thread."""
    coro = run_checks(checks, region, scheduled_at, **kwargs)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from async code (e.g. an async flow calling a sync task inline): use a fresh thread.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="traceo-probes") as pool:
        return pool.submit(asyncio.run, coro).result()


def count_verdicts(results: Iterable[ProbeResult]) -> dict[str, int]:
    """``{"pass": n, "degraded": n, "fail": n, "error": n}`` for logs and artifacts."""
    counts: Counter[str] = Counter(r.verdict for r in results)
    return {v: counts.get(v, 0) for v in VERDICTS}
