"""Pydantic models of network checks: TCP connects (``type: tcp``) and certificate monitors.

A TCP check connects to ``host:port`` (optionally over TLS), optionally writes ``send`` and reads
until ``expect_banner`` matches. A certificate check completes a TLS handshake with ``host:port``
and judges the certificates the server presents: days left before the earliest expiry, whether
the leaf's subjectAltName covers ``server_name``, and whether the presented chain verifies against
``ca_bundle`` or the system trust store. ``host``, ``port``, ``send`` and ``server_name`` may hold
``${VAR}`` / ``${VAR:-default}``, expanded when the check runs (see :mod:`tasks.probes.templating`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from tasks.probes.spec import _CheckBase, _Spec

__all__ = ["BannerExpectation", "CertificateCheck", "NetCheck", "TcpCheck"]

_ENV_ONLY = re.compile(r"^(?:[^{}$]|\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\})*$")
_MAX_SEND = 65_536


def _bad(message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError("check_spec", message, ctx or None)


def _templated(value: str) -> bool:
    return "${" in value


def _check_template(value: str, what: str) -> str:
    if "{{" in value:
        raise _bad("{what} may use ${VARIABLE} but not {{ variables }} (no steps)", what=what)
    if not _ENV_ONLY.match(value):
        raise _bad("{what} has a malformed ${VARIABLE} placeholder", what=what)
    return value


def _parse_port(value: Any) -> Any:
    """A port number 1-65535, or text holding a ``${VARIABLE}`` read when the check runs."""
    if isinstance(value, bool):
        raise _bad("port must be a number between 1 and 65535 or a ${VARIABLE}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int):
        if not 1 <= value <= 65_535:
            raise _bad("port must be a number between 1 and 65535 or a ${VARIABLE}")
        return value
    if isinstance(value, str) and _templated(value):
        return _check_template(value.strip(), "port")
    raise _bad("port must be a number between 1 and 65535 or a ${VARIABLE}")


def _banner_shorthand(value: Any) -> Any:
    # `expect_banner: SSH-2.0` is shorthand for `expect_banner: {contains: SSH-2.0}`
    return {"contains": value} if isinstance(value, str) else value


Port = Annotated[int | str, BeforeValidator(_parse_port)]


class BannerExpectation(_Spec):
    """What the server must send: ``contains`` a text, or ``matches`` a regular expression.

    The expression is searched (``re.search``) in everything received so far, decoded as UTF-8.
    """

    contains: str | None = Field(default=None, min_length=1)
    matches: str | None = Field(default=None, min_length=1)

    @field_validator("matches")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise _bad("invalid regular expression: {error}", error=str(exc)) from None
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> BannerExpectation:
        if (self.contains is None) == (self.matches is None):
            raise _bad("give exactly one of contains (text) or matches (regular expression)")
        return self

    def describe(self, negated: bool = False) -> str:
        """``contains 'x'`` / ``matches 'x'``, or ``does not contain 'x'`` when ``negated``."""
        if self.contains is not None:
            return f"{'does not contain' if negated else 'contains'} {self.contains!r}"
        return f"{'does not match' if negated else 'matches'} {self.matches!r}"


class _NetBase(_CheckBase):
    host: str = Field(min_length=1, max_length=300)
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    server_name: str | None = Field(default=None, min_length=1, max_length=300)

    @field_validator("host", "server_name")
    @classmethod
    def _check_host(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _check_template(value, "host")
        if "://" in value or "/" in value or any(c.isspace() for c in value):
            raise _bad("give a host name or IP address, not a URL (no scheme, path or spaces)")
        return value

    @property
    def attempt_timeout_seconds(self) -> float:
        """The longest one attempt may take (the whole attempt runs under this deadline)."""
        return self.timeout_seconds


class TcpCheck(_NetBase):
    """Connect to ``host:port`` (``type: tcp``); optionally TLS, ``send`` and ``expect_banner``.

    ``send`` (if any) is written right after the connection (and TLS handshake) is up; then the
    check reads until ``expect_banner`` matches, the server closes, 64 KiB arrive or the timeout.
    """

    type: Literal["tcp"]
    port: Port
    send: str | None = Field(default=None, min_length=1, max_length=_MAX_SEND)
    expect_banner: Annotated[BannerExpectation | None, BeforeValidator(_banner_shorthand)] = None
    tls: bool = False

    @field_validator("send")
    @classmethod
    def _check_send(cls, value: str | None) -> str | None:
        return None if value is None else _check_template(value, "send")

    @model_validator(mode="after")
    def _tls_fields(self) -> TcpCheck:
        if self.server_name is not None and not self.tls:
            raise _bad("server_name needs tls: true")
        return self


class CertificateCheck(_NetBase):
    """Monitor the certificate a TLS server presents (``type: certificate``).

    - expiry: every presented certificate (leaf and intermediates) must have at least
      ``min_days_left`` days (default ``tls_expiry_days``) before ``not_after``;
    - hostname (``check_hostname``, default on): the leaf's subjectAltName must cover
      ``server_name`` (default ``host``); the subject CN is ignored, as browsers do;
    - chain (``verify_tls``, default on): the certificates the server sent must verify up to a
      trust anchor in ``ca_bundle`` (or the system store) with OpenSSL, which, like browsers and
      curl, never downloads a missing intermediate. A leaf sent without its intermediate fails
      unless the trust store itself holds that intermediate.
    """

    type: Literal["certificate"]
    port: Port = 443
    min_days_left: int | None = Field(default=None, ge=0, le=3650)
    check_hostname: bool = True

    @property
    def expiry_days(self) -> int:
        """The minimum days left before any presented certificate expires."""
        return self.tls_expiry_days if self.min_days_left is None else self.min_days_left


NetCheck = TcpCheck | CertificateCheck
