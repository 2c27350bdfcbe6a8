"""Webhook signatures per source: verify what arrives, and sign what the demo and tests send.

| source      | headers                                                  | signed message          |
|-------------|----------------------------------------------------------|-------------------------|
| zendesk     | ``X-Zendesk-Webhook-Signature`` (base64),                | timestamp + raw body    |
|             | ``X-Zendesk-Webhook-Signature-Timestamp`` (ISO 8601)     |                         |
| jira        | ``X-Hub-Signature: sha256=<hex>``,                       | raw body                |
|             | ``X-Atlassian-Webhook-Identifier`` (the delivery id)     |                         |
| servicenow, | ``X-Traceo-Signature: sha256=<hex>``,                    | timestamp + "." + body  |
| generic     | ``X-Traceo-Timestamp`` (Unix seconds)                    |                         |

All are HMAC-SHA256 with the source's secret, compared with :func:`hmac.compare_digest`. A
timestamped scheme refuses anything older (or newer) than :data:`REPLAY_WINDOW`; inside the window
the signature itself is the delivery id, so an exact replay is refused by the store. Jira's scheme
carries no timestamp: its delivery id (``X-Atlassian-Webhook-Identifier``, unchanged across Jira's
retries) is required and remembered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from tasks.errors import PermanentError
from tasks.privacy.requests import REPLAY_WINDOW

__all__ = [
    "REPLAY_WINDOW",
    "SIGNED_SOURCES",
    "SignatureError",
    "Verified",
    "sign_request",
    "verify_request",
]

_MAX_UNIX_DIGITS = 11  # Unix seconds up to the year 5138; more would overflow datetime
SIGNED_SOURCES: tuple[str, ...] = ("jira", "servicenow", "zendesk", "generic")

ZENDESK_SIGNATURE = "x-zendesk-webhook-signature"
ZENDESK_TIMESTAMP = "x-zendesk-webhook-signature-timestamp"
JIRA_SIGNATURE = "x-hub-signature"
JIRA_DELIVERY = "x-atlassian-webhook-identifier"
TRACEO_SIGNATURE = "x-traceo-signature"
TRACEO_TIMESTAMP = "x-traceo-timestamp"


class SignatureError(PermanentError):
    """A request is unsigned, forged or stale (the reason names the header, never the secret)."""


@dataclass(frozen=True)
class Verified:
    """A verified request: the id to remember against replays, and its signed time if any."""

    delivery_id: str
    signed_at: datetime | None


def _mac(secret: str, message: bytes) -> bytes:
    # Not hmac.digest(): its one-shot C call releases the interpreter lock whatever the size, and
    # in the intake (event loop plus writer threads) getting it back costs more than the HMAC.
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _as_datetime(timestamp: datetime | float | None) -> datetime:
    if timestamp is None:
        return datetime.now(UTC)
    if isinstance(timestamp, datetime):
        return timestamp.astimezone(UTC)
    return datetime.fromtimestamp(timestamp, UTC)


def sign_request(
    source: str,
    body: bytes,
    secret: str,
    timestamp: datetime | float | None = None,
    delivery_id: str | None = None,
) -> dict[str, str]:
    """The headers ``source`` would send with ``body`` (Jira: a fresh delivery id if none)."""
    moment = _as_datetime(timestamp)
    if source == "zendesk":
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        signature = base64.b64encode(_mac(secret, stamp.encode() + body)).decode()
        return {"X-Zendesk-Webhook-Signature": signature, ZENDESK_TIMESTAMP.title(): stamp}
    if source == "jira":
        return {
            "X-Hub-Signature": "sha256=" + _mac(secret, body).hex(),
            "X-Atlassian-Webhook-Identifier": delivery_id or str(uuid.uuid4()),
        }
    if source in ("servicenow", "generic"):
        stamp = str(int(moment.timestamp()))
        signature = _mac(secret, stamp.encode() + b"." + body).hex()
        return {"X-Traceo-Signature": "sha256=" + signature, "X-Traceo-Timestamp": stamp}
    raise ValueError(f"unknown source {source!r}")


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name) or headers.get(name.title())
    if not value:
        raise SignatureError(f"missing header {name}")
    return value.strip()


def _fresh(signed_at: datetime, now: datetime) -> None:
    if abs(now - signed_at) > REPLAY_WINDOW:
        raise SignatureError("timestamp outside the 5-minute replay window")


def _equal(expected: str, given: str) -> None:
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError("signature does not match")


def _signature_id(signature: str) -> str:
    return "sig:" + hashlib.sha256(signature.encode()).hexdigest()


def verify_request(
    source: str,
    headers: Mapping[str, str],
    body: bytes,
    secret: str | None,
    now: datetime | None = None,
) -> Verified:
    """Check ``body`` against ``source``'s scheme; raises :class:`SignatureError` if it fails."""
    if not secret:
        raise SignatureError(f"no secret configured for {source}")
    now = now or datetime.now(UTC)
    if source == "zendesk":
        given = _header(headers, ZENDESK_SIGNATURE)
        stamp = _header(headers, ZENDESK_TIMESTAMP)
        try:
            signed_at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
        except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted out of range
            raise SignatureError(f"{ZENDESK_TIMESTAMP} is not an ISO 8601 time") from None
        _equal(base64.b64encode(_mac(secret, stamp.encode() + body)).decode(), given)
        _fresh(signed_at, now)
        return Verified(_signature_id(given), signed_at)
    if source == "jira":
        given = _header(headers, JIRA_SIGNATURE)
        delivery = _header(headers, JIRA_DELIVERY)
        _equal("sha256=" + _mac(secret, body).hex(), given)
        return Verified("jira:" + delivery, None)
    if source in ("servicenow", "generic"):
        given = _header(headers, TRACEO_SIGNATURE)
        stamp = _header(headers, TRACEO_TIMESTAMP)
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= _MAX_UNIX_DIGITS):
            raise SignatureError(f"{TRACEO_TIMESTAMP} is not Unix seconds")
        _equal("sha256=" + _mac(secret, stamp.encode() + b"." + body).hex(), given)
        signed_at = datetime.fromtimestamp(int(stamp), UTC)
        _fresh(signed_at, now)
        return Verified(_signature_id(given), signed_at)
    raise SignatureError(f"unknown source {source}")
