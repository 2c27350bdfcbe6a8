"""The network probe engine: TCP connect checks and certificate monitors.

Each attempt runs under the check's ``timeout_seconds`` and records timings in milliseconds:
``resolve`` (name resolution), ``connect`` (TCP), ``tls`` (the handshake), ``ttfb`` (from the
connection being ready, and ``send`` written, to the first byte received) and ``total``. The
attempt's ``total`` is the result's ``duration_ms``, which ``degraded_ms``/``failed_ms`` judge:
for a plain connect check it is the connect time.

Network errors (refused, reset, unreachable, timeouts, TLS handshake failures) are retried as
:mod:`tasks.probes.retries` says; a wrong banner or a certificate problem is an answer from the
server and is only retried with ``on: any_failure``. Like the HTTP engine, nothing here raises per
check: a broken check becomes an ``error`` result.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from tasks.probes.http import DEFAULT_CONCURRENCY, ProbeResult, Verdict
from tasks.probes.net_spec import CertificateCheck, NetCheck, TcpCheck
from tasks.probes.retries import run_with_retries
from tasks.probes.templating import RenderContext, Template, TemplateError
from tasks.probes.tls import CertInfo, certificate_problem, parse_certificate

__all__ = ["BANNER_LIMIT", "hostname_matches", "presented_chain", "run_checks"]

BANNER_LIMIT = 65_536  # bytes read at most while waiting for expect_banner
_BANNER_RECORDED = 200  # characters of the banner kept in the result
_TIME_ERRORS = frozenset({9, 10})  # X509_V_ERR_CERT_NOT_YET_VALID, X509_V_ERR_CERT_HAS_EXPIRED


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)


@lru_cache(maxsize=512)
def _subject_alt_names(der: bytes) -> tuple[str, ...]:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    names = [f"DNS:{n}" for n in ext.get_values_for_type(x509.DNSName)]
    names += [f"IP:{ip}" for ip in ext.get_values_for_type(x509.IPAddress)]
    return tuple(names)


def hostname_matches(name: str, sans: Iterable[str]) -> bool:
    """Whether subjectAltName entries (``DNS:...``/``IP:...``) cover ``name`` (RFC 6125).

    A wildcard covers exactly one leftmost label (``*.example.com`` covers ``a.example.com``, not
    ``example.com`` or ``a.b.example.com``); the subject CN is never consulted.
    """
    try:
        ip = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        ip = None
    wanted = name.lower().rstrip(".")
    for entry in sans:
        kind, _, value = entry.partition(":")
        if ip is not None:
            if kind == "IP" and ipaddress.ip_address(value) == ip:
                return True
            continue
        if kind != "DNS":
            continue
        pattern = value.lower().rstrip(".")
        if pattern.startswith("*."):
            head, _, rest = wanted.partition(".")
            if head and rest == pattern[2:]:
                return True
        elif pattern == wanted:
            return True
    return False


def presented_chain(ssl_object: Any) -> list[bytes]:
    """The certificates (DER) the server sent, leaf first, whether or not they verified.

    Python 3.13 exposes ``get_unverified_chain()``; 3.10-3.12 have it on the inner ``_sslobj``.
    Without either, only the leaf is known.
    """
    getter = getattr(ssl_object, "get_unverified_chain", None)
    if getter is None:
        getter = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    if getter is not None:
        import _ssl

        certs = getter() or []
        return [c if isinstance(c, bytes) else c.public_bytes(_ssl.ENCODING_DER) for c in certs]
    der = ssl_object.getpeercert(binary_form=True)
    return [bytes(der)] if der else []


def _cert_record(der: bytes) -> dict[str, Any]:
    info = parse_certificate(der)
    return {**info.to_dict(), "sans": list(_subject_alt_names(der))}


def _context(verify: bool, ca_bundle: str | None, check_hostname: bool) -> ssl.SSLContext:
    """A client context; ``verify`` uses ``ca_bundle`` or the system trust store."""
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context(cafile=ca_bundle)
    context.check_hostname = check_hostname
    return context


@dataclass
class _Attempt:
    number: int
    started_at: datetime
    verdict: Verdict = "pass"
    error: str | None = None
    network_error: bool = False
    reason: str | None = None
    duration_ms: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    banner: str | None = None
    banner_match: bool | None = None
    cert: dict[str, Any] | None = None
    cert_expires_at: datetime | None = None

    def fail(self, message: str, *, network: bool = False) -> None:
        self.verdict, self.error, self.network_error = "fail", message, network

    def summary(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "verdict": self.verdict,
            "error": self.error,
            "duration_ms": self.duration_ms,
            "started_at": self.started_at.isoformat(),
        }


@dataclass(frozen=True)
class _Target:
    host: str
    port: int
    server_name: str
    send: bytes | None


def _render(check: NetCheck, ctx: RenderContext) -> _Target:
    host = Template.compile(check.host).render(ctx)
    port_text = str(check.port) if isinstance(check.port, int) else check.port
    rendered = Template.compile(port_text).render(ctx).strip()
    if not rendered.isdigit() or not 1 <= int(rendered) <= 65_535:
        raise TemplateError(f"port {port_text} is not a number between 1 and 65535")
    name = Template.compile(check.server_name).render(ctx) if check.server_name else host
    send = getattr(check, "send", None)
    payload = Template.compile(send).render(ctx).encode("utf-8") if send else None
    return _Target(host, int(rendered), name, payload)


def _banner_matcher(check: TcpCheck) -> Callable[[str], bool] | None:
    expect = check.expect_banner
    if expect is None:
        return None
    if expect.contains is not None:
        needle = expect.contains
        return lambda text: needle in text
    pattern = re.compile(expect.matches or "")
    return lambda text: pattern.search(text) is not None


def _network_message(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS error: certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return f"TLS error: {exc}"
    if isinstance(exc, socket.gaierror):
        return f"name resolution failed: {exc}"
    return f"{type(exc).__name__}: {exc or 'no details'}"


class _Engine:
    def __init__(self, region: str, scheduled_at: datetime, env: Mapping[str, str]) -> None:
        self.region = region
        self.scheduled_at = scheduled_at
        self.env = env
        self._contexts: dict[tuple[bool, str | None, bool], ssl.SSLContext] = {}

    def context(self, verify: bool, ca_bundle: str | None, hostname: bool) -> ssl.SSLContext:
        key = (verify, ca_bundle if verify else None, hostname and verify)
        if key not in self._contexts:
            self._contexts[key] = _context(*key)
        return self._contexts[key]

    async def run_one(self, check: NetCheck) -> ProbeResult:
        started = datetime.now(UTC)
        ctx = RenderContext(self.env)
        try:
            try:
                target = _render(check, ctx)
            except TemplateError as exc:
                return self._error(check, started, str(exc), ctx)
            try:
                if isinstance(check, CertificateCheck):
                    self.context(check.verify_tls, check.ca_bundle, False)
                elif check.tls:
                    self.context(check.verify_tls, check.ca_bundle, True)
            except (OSError, ssl.SSLError) as exc:
                return self._error(check, started, f"cannot load CA bundle: {exc}", ctx)

            async def attempt(number: int) -> _Attempt:
                if isinstance(check, CertificateCheck):
                    outcome = await self._certificate(check, target, number)
                else:
                    outcome = await self._tcp(check, target, number)
                if outcome.error:
                    outcome.error = ctx.scrub(outcome.error)
                if outcome.banner:
                    outcome.banner = ctx.scrub(outcome.banner)
                return _judge_duration(check, outcome)

            attempts = await run_with_retries(check.retry, attempt)
            return self._result(check, attempts)
        except Exception as exc:  # one broken check must never fail the batch
            message = f"internal error: {type(exc).__name__}: {exc}"
            return self._error(check, started, message, ctx)

    async def _connect(
        self, target: _Target, timings: dict[str, float]
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        timings["resolve"] = _ms(t0)
        host, port = str(infos[0][4][0]), int(infos[0][4][1])
        t1 = time.perf_counter()
        connection = await asyncio.open_connection(host, port)
        timings["connect"] = _ms(t1)
        return connection

    async def _tcp(self, check: TcpCheck, target: _Target, number: int) -> _Attempt:
        attempt = _Attempt(number, datetime.now(UTC))
        matcher = _banner_matcher(check)
        received = bytearray()
        writer: asyncio.StreamWriter | None = None
        phase = "connect"
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(check.timeout_seconds):
                reader, writer = await self._connect(target, attempt.timings)
                if check.tls:
                    phase = "TLS handshake"
                    t_tls = time.perf_counter()
                    context = self.context(check.verify_tls, check.ca_bundle, True)
                    await writer.start_tls(context, server_hostname=target.server_name)
                    attempt.timings["tls"] = _ms(t_tls)
                    chain = presented_chain(writer.get_extra_info("ssl_object"))
                    if chain:
                        attempt.cert = _cert_record(chain[0])
                        attempt.cert_expires_at = parse_certificate(chain[0]).not_after
                        problem = certificate_problem(
                            parse_certificate(chain[0]), check.tls_expiry_days
                        )
                        if problem:
                            attempt.fail(problem)
                if target.send is not None:
                    phase = "send"
                    writer.write(target.send)
                    await writer.drain()
                if matcher is not None:
                    phase = "banner"
                    t_read = time.perf_counter()
                    while len(received) < BANNER_LIMIT:
                        chunk = await reader.read(4096)
                        if not chunk:
                            break
                        if not received:
                            attempt.timings["ttfb"] = _ms(t_read)
                        received += chunk
                        if matcher(received.decode("utf-8", "replace")):
                            attempt.banner_match = True
                            break
        except TimeoutError:
            if not received and attempt.verdict == "pass":  # keep a certificate problem found
                attempt.fail(f"timed out after {check.timeout_seconds:g}s ({phase})", network=True)
        except (OSError, ssl.SSLError, ssl.CertificateError) as exc:
            if attempt.verdict == "pass":
                attempt.fail(_network_message(exc), network=True)
        finally:
            attempt.duration_ms = attempt.timings["total"] = _ms(t0)
            if writer is not None:
                writer.transport.abort()
        if received or matcher is not None:
            attempt.banner = received.decode("utf-8", "replace")[:_BANNER_RECORDED]
        if matcher is not None and attempt.banner_match is None and attempt.verdict == "pass":
            attempt.banner_match = False
            assert check.expect_banner is not None
            attempt.fail(f"banner {check.expect_banner.describe(True)}: got {attempt.banner!r}")
        return attempt

    async def _certificate(self, check: CertificateCheck, target: _Target, number: int) -> _Attempt:
        attempt = _Attempt(number, datetime.now(UTC))
        writers: list[asyncio.StreamWriter] = []
        chain: list[bytes] = []
        verified: bool | None = None
        verify_code: int | None = None
        verify_error: str | None = None
        phase = "connect"
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(check.timeout_seconds):
                _, writer = await self._connect(target, attempt.timings)
                writers.append(writer)
                phase = "TLS handshake"
                t_tls = time.perf_counter()
                if check.verify_tls:
                    try:
                        context = self.context(True, check.ca_bundle, False)
                        await writer.start_tls(context, server_hostname=target.server_name)
                        verified = True
                    except ssl.SSLCertVerificationError as exc:
                        verified, verify_code = False, exc.verify_code
                        verify_error = exc.verify_message
                        # look at what the server sent through a handshake that accepts anything
                        _, writer = await self._connect(target, {})
                        writers.append(writer)
                        t_tls = time.perf_counter()
                if verified is not True:
                    context = self.context(False, None, False)
                    await writer.start_tls(context, server_hostname=target.server_name)
                attempt.timings["tls"] = _ms(t_tls)
                chain = presented_chain(writer.get_extra_info("ssl_object"))
        except TimeoutError:
            attempt.fail(f"timed out after {check.timeout_seconds:g}s ({phase})", network=True)
        except (OSError, ssl.SSLError, ssl.CertificateError) as exc:
            attempt.fail(_network_message(exc), network=True)
        finally:
            attempt.duration_ms = attempt.timings["total"] = _ms(t0)
            for w in writers:
                w.transport.abort()
        if attempt.verdict == "fail":
            return attempt
        if not chain:
            attempt.fail("the server sent no certificate")
            return attempt
        problems = _judge_certificates(check, target, chain, verified, verify_code, verify_error)
        infos = [parse_certificate(der) for der in chain]
        attempt.cert_expires_at = min(i.not_after for i in infos)
        attempt.cert = {
            **_cert_record(chain[0]),
            "server_name": target.server_name,
            "hostname_match": hostname_matches(target.server_name, _subject_alt_names(chain[0])),
            "chain_length": len(chain),
            "chain": [{"subject": i.subject, "not_after": i.not_after.isoformat()} for i in infos],
            "chain_verified": verified,
            "verify_error": verify_error,
            "earliest_not_after": attempt.cert_expires_at.isoformat(),
        }
        if problems:
            attempt.fail("; ".join(problems))
        return attempt

    def _error(
        self, check: NetCheck, started: datetime, message: str, ctx: RenderContext
    ) -> ProbeResult:
        message = ctx.scrub(message)
        return ProbeResult.not_run(
            check.id,
            check.type,
            self.region,
            self.scheduled_at,
            started,
            message,
            target=f"{check.host}:{check.port}",
        )

    def _result(self, check: NetCheck, attempts: list[_Attempt]) -> ProbeResult:
        final = attempts[-1]
        detail: dict[str, Any] = {
            "type": check.type,
            "target": f"{check.host}:{check.port}",
            "attempts": [a.summary() for a in attempts],
            "timings": final.timings,
        }
        if isinstance(check, TcpCheck) and check.expect_banner is not None:
            detail["banner"] = final.banner
            detail["banner_match"] = final.banner_match
            detail["expect_banner"] = check.expect_banner.describe()
        if final.cert is not None:
            detail["cert"] = final.cert
        if final.reason:
            detail["reason"] = final.reason
        return ProbeResult(
            check_id=check.id,
            region=self.region,
            scheduled_at=self.scheduled_at,
            started_at=attempts[0].started_at,
            verdict=final.verdict,
            duration_ms=final.duration_ms,
            status_code=None,
            failing_step=None,
            error=final.error,
            attempts=len(attempts),
            detail=detail,
            cert_expires_at=final.cert_expires_at,
        )


def _judge_certificates(
    check: CertificateCheck,
    target: _Target,
    chain: list[bytes],
    verified: bool | None,
    verify_code: int | None,
    verify_error: str | None,
) -> list[str]:
    """Expiry of every presented certificate, hostname coverage, chain verification."""
    problems: list[str] = []
    now = datetime.now(UTC)
    infos: list[CertInfo] = [parse_certificate(der) for der in chain]
    for position, info in enumerate(infos):
        which = "certificate" if position == 0 else f"intermediate certificate {info.subject}"
        if info.not_before > now:
            problems.append(f"{which} is not valid before {info.not_before:%Y-%m-%d %H:%M}Z")
        elif problem := certificate_problem(info, check.expiry_days, now):
            problem = problem.replace("TLS certificate", which, 1)
            if check.min_days_left is not None:
                problem = problem.replace("tls_expiry_days", "min_days_left")
            problems.append(problem)
    if check.check_hostname and not hostname_matches(
        target.server_name, _subject_alt_names(chain[0])
    ):
        sans = ", ".join(_subject_alt_names(chain[0])) or "none"
        problems.append(f"certificate does not cover {target.server_name} (SANs: {sans})")
    if verified is False and not (verify_code in _TIME_ERRORS and problems):
        store = f"CA bundle {check.ca_bundle}" if check.ca_bundle else "the system trust store"
        hint = " (the server sent no intermediate certificate)" if len(chain) == 1 else ""
        problems.append(
            f"chain does not verify against {store}: {verify_error}; "
            f"the server sent {len(chain)} certificate(s){hint}"
        )
    return problems


def _judge_duration(check: NetCheck, attempt: _Attempt) -> _Attempt:
    if attempt.verdict != "pass" or attempt.duration_ms is None:
        return attempt
    if attempt.duration_ms >= check.failed_ms:
        attempt.fail(f"connection time {attempt.duration_ms:.0f} ms >= failed_ms {check.failed_ms}")
    elif attempt.duration_ms >= check.degraded_ms:
        attempt.verdict = "degraded"
        attempt.reason = (
            f"connection time {attempt.duration_ms:.0f} ms >= degraded_ms {check.degraded_ms}"
        )
    return attempt


async def run_checks(
    checks: Iterable[NetCheck],
    region: str,
    scheduled_at: datetime,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    env: Mapping[str, str] | None = None,
    **_: Any,
) -> list[ProbeResult]:
    """Run TCP and certificate checks once from ``region``; never raises per check.

    Args:
        checks: validated :class:`TcpCheck` / :class:`CertificateCheck` objects.
        region: the region the results are recorded under.
        scheduled_at: the slot (timezone-aware).
        concurrency: checks in flight at once.
        env: variables for ``${VAR}`` (default: ``os.environ``, read now).

    Returns:
        One :class:`~tasks.probes.http.ProbeResult` per check, in the order given.
    """
    if scheduled_at.tzinfo is None:
        raise ValueError("scheduled_at must be timezone-aware (UTC)")
    engine = _Engine(region, scheduled_at, dict(os.environ if env is None else env))
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(check: NetCheck) -> ProbeResult:
        async with gate:
            return await engine.run_one(check)

    return list(await asyncio.gather(*(one(c) for c in checks)))
