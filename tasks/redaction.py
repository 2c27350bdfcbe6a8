"""Redaction of secrets and personal data from log records.

A :class:`RedactingFilter` rewrites each record's message (and formatted traceback) before any
handler emits it. :func:`install_redaction` attaches it to the handlers Prefect configures
(console and API log handlers) and to the root, ``httpx`` and ``httpcore`` loggers' handlers.
"""

from __future__ import annotations

import logging
import re

__all__ = ["REDACTED", "RedactingFilter", "display_url", "install_redaction", "redact"]

REDACTED = "[REDACTED]"

_SECRET_KEYS = (
    r"password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|client[_-]?secret"
    r"|session|signature|sig|auth|credentials?|private[_-]?key"
)

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # scheme://user:password@host -> scheme://[REDACTED]@host
    (
        re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)[^\s/@:]+(?::[^\s/@]*)?@"),
        r"\g<scheme>" + REDACTED + "@",
    ),
    # Authorization headers and bearer/basic tokens
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9\-._~+/]{8,}=*"), r"\1 " + REDACTED),
    # key=value / key: value / "key": "value" for secret-looking keys (query strings included)
    (
        re.compile(
            r"(?i)(?P<key>[\"']?[\w\-]*(?:" + _SECRET_KEYS + r")[\w\-]*[\"']?\s*[=:]\s*)"
            r"(?P<quote>[\"']?)(?P<value>[^\s&\"',;}]+)"
        ),
        r"\g<key>\g<quote>" + REDACTED,
    ),
    # Well-known token shapes: AWS access keys, Slack tokens and webhooks, GitHub tokens, JWTs
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), REDACTED),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), REDACTED),
    (
        re.compile(r"hooks\.slack\.com/services/[A-Za-z0-9/]+"),
        "hooks.slack.com/services/" + REDACTED,
    ),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), REDACTED),
    # e-mail addresses
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), REDACTED),
]


def redact(text: str) -> str:
    """Return ``text`` with secrets, credentials in URLs and e-mail addresses replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and traceback through :func:`redact`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_traceo_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not break logging
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record._traceo_redacted = True
        return True


_LOGGERS = ("", "prefect", "prefect.flow_runs", "prefect.task_runs", "httpx", "httpcore", "traceo")


_SECRET_KEY = re.compile(r"(?i)" + _SECRET_KEYS)


def display_url(url: object) -> str:
    """A database URL fit to print: the password hidden, in the userinfo or the query string.

    libpq and the drivers also take ``?password=...`` (and ``sslpassword``, tokens ...), which
    ``render_as_string(hide_password=True)`` leaves in clear.
    """
    from sqlalchemy.engine import URL, make_url

    parsed = url if isinstance(url, URL) else make_url(str(url))
    query = {k: ("REDACTED" if _SECRET_KEY.search(k) else v) for k, v in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True)


def install_redaction() -> RedactingFilter:
    """Attach one shared :class:`RedactingFilter` to every handler of the relevant loggers.

    Idempotent; call it after Prefect has configured logging (flows call it on entry).
    """
    shared = _installed_filter()
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(shared)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(shared)
    return shared


_FILTER: RedactingFilter | None = None


def _installed_filter() -> RedactingFilter:
    global _FILTER
    if _FILTER is None:
        _FILTER = RedactingFilter()
    return _FILTER
