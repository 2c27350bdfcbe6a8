"""TLS for probes: SSL contexts, the peer certificate of a response, and its expiry."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import httpx

__all__ = [
    "CertInfo",
    "certificate_problem",
    "is_tls_error",
    "parse_certificate",
    "peer_certificate",
    "ssl_context",
]


@dataclass(frozen=True)
class CertInfo:
    """The facts about a peer certificate that monitoring needs."""

    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime

    def days_left(self, now: datetime | None = None) -> float:
        now = now or datetime.now(UTC)
        return (self.not_after - now).total_seconds() / 86_400

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "days_left": round(self.days_left(now), 3),
        }


@lru_cache(maxsize=512)
def parse_certificate(der: bytes) -> CertInfo:
    """Parse a DER certificate (cached: a batch sees the same few certificates many times)."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def peer_certificate(response: httpx.Response) -> bytes | None:
    """The server's certificate (DER) for an HTTPS response, also on a reused connection.

    Read from the connection's ``ssl_object``; ``getpeercert(binary_form=True)`` returns the
    certificate even when verification is off, so expiry is checked with ``verify_tls: false`` too.
    """
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return bytes(der) if der else None


def certificate_problem(info: CertInfo, min_days: int, now: datetime | None = None) -> str | None:
    """Why the certificate fails the check (expired or expiring within ``min_days``), or None."""
    days = info.days_left(now)
    if days < 0:
        return f"TLS certificate expired {-days:.1f} days ago ({info.not_after:%Y-%m-%d})"
    if days < min_days:
        return (
            f"TLS certificate expires in {days:.1f} days ({info.not_after:%Y-%m-%d}), "
            f"less than tls_expiry_days {min_days}"
        )
    return None


def ssl_context(verify: bool, ca_bundle: str | None = None) -> ssl.SSLContext:
    """An SSL context for a batch's clients (built once per setting; loading CAs is slow).

    Raises:
        OSError/ssl.SSLError: the CA bundle cannot be read.
    """
    if ca_bundle:
        context = ssl.create_default_context(cafile=ca_bundle)
        context.set_alpn_protocols(["http/1.1"])
        return context
    return httpx.create_ssl_context(verify=verify)


def is_tls_error(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a TLS handshake or verification failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError | ssl.CertificateError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return "SSL" in str(exc) or "CERTIFICATE_VERIFY_FAILED" in str(exc)
