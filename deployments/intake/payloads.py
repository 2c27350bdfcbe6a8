"""Turning each ticketing system's webhook body into a :class:`~tasks.privacy.requests.NewRequest`.

Shapes (see ``docs/intake.md`` for full examples):

- jira: the issue webhook, ``{"webhookEvent": ..., "issue": {"key": "PRIV-12", "fields": {...}}}``;
  the request fields are issue fields named by :data:`JIRA_FIELDS` (override with the JSON object
  ``TRACEO_INTAKE_JIRA_FIELDS``, e.g. ``{"email": "customfield_10051"}``, checked at start-up by
  :func:`jira_fields_from_env`); select-list values
  (``{"value": "erasure"}``) are unwrapped.
- servicenow: ``{"sys_id": ..., "number": ..., "variables": {...}}`` (a catalog item's variables);
  the ticket is the ``sys_id`` (what the Table API updates).
- zendesk: a trigger's JSON body, ``{"ticket": {"id": "{{ticket.id}}", "request_type": ...}}``.
- generic: ``{"ticket_id", "request_type", "jurisdiction", "identities": {...}, "corrections"}``.

Validation errors name the field as the sender wrote it (``issue.fields.dsr_email``), never its
value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from tasks.errors import ConfigurationError
from tasks.privacy.requests import InvalidRequestError, NewRequest, parse_new_request

__all__ = [
    "JIRA_FIELDS",
    "MAX_JSON_DEPTH",
    "jira_fields_from_env",
    "parse_body",
    "to_new_request",
]

MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_OPENERS, _CLOSERS = frozenset(b"[{"), frozenset(b"]}")

_JIRA_FIELDS_ENV = "TRACEO_INTAKE_JIRA_FIELDS"
_REQUEST_FIELDS = ("request_type", "jurisdiction", "corrections")
_IDENTITY_FIELDS = ("email", "phone", "customer_id")

JIRA_FIELDS: dict[str, str] = {
    "request_type": "dsr_type",
    "jurisdiction": "dsr_jurisdiction",
    "email": "dsr_email",
    "phone": "dsr_phone",
    "customer_id": "dsr_customer_id",
    "corrections": "dsr_corrections",
}


def _nested_deeper_than(body: bytes, limit: int) -> bool:
    """Whether the JSON in ``body`` opens more than ``limit`` arrays or objects at once."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # cannot nest deeper than it opens, and counting runs at C speed
    depth = 0
    for byte in _JSON_STRING.sub(b'""', body):  # brackets inside strings do not count
        if byte in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        elif byte in _CLOSERS:
            depth -= 1
    return False


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object in ``body``; anything else is a 422 naming ``body``.

    A body nested deeper than :data:`MAX_JSON_DEPTH` is refused before it is parsed (Python's
    parser would recurse until it fails; no ticketing system nests that deep).
    """
    if _nested_deeper_than(body, MAX_JSON_DEPTH):
        raise InvalidRequestError([("body", f"nested deeper than {MAX_JSON_DEPTH} levels")])
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidRequestError([("body", "not valid JSON")]) from None
    if not isinstance(data, dict):
        raise InvalidRequestError([("body", "must be a JSON object")])
    return data


def _object(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise InvalidRequestError([(f"{where}{key}", "required object is missing")])
    return value


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict) and "value" in value and len(value) <= 3:
        return value["value"]  # Jira select lists: {"self": ..., "value": ..., "id": ...}
    return value


def jira_fields_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """:data:`JIRA_FIELDS` overridden by ``TRACEO_INTAKE_JIRA_FIELDS`` (read at start-up).

    Raises:
        ConfigurationError: one line naming the variable, when it is not a JSON object mapping
            some of our field names to non-empty Jira field names.
    """
    if environ is None:
        from tasks.settings import load
        from tasks.settings.areas import IntakeSettings

        raw = load(IntakeSettings).jira_fields
    else:
        raw = environ.get(_JIRA_FIELDS_ENV)
    if not raw:
        return dict(JIRA_FIELDS)
    expected = (
        f"{_JIRA_FIELDS_ENV} must be a JSON object mapping some of {', '.join(JIRA_FIELDS)} "
        'to Jira field names, e.g. {"email": "customfield_10051"}'
    )
    try:
        override = json.loads(raw)
    except (ValueError, RecursionError):
        raise ConfigurationError(f"{expected}; it is not valid JSON") from None
    if not isinstance(override, dict):
        raise ConfigurationError(f"{expected}; it is a JSON {type(override).__name__}")
    unknown = sorted(set(override) - set(JIRA_FIELDS))
    if unknown:
        raise ConfigurationError(f"{expected}; unknown keys {unknown}")
    bad = sorted(k for k, v in override.items() if not isinstance(v, str) or not v.strip())
    if bad:
        raise ConfigurationError(f"{expected}; not a field name: {bad}")
    return {**JIRA_FIELDS, **override}


def _from_flat(source: str, ticket: Any, flat: dict[str, Any]) -> dict[str, Any]:
    """Build the NewRequest input from a flat mapping of our field names."""
    data: dict[str, Any] = {"source": source, "ticket_id": ticket}
    for key in _REQUEST_FIELDS:
        if flat.get(key) is not None:
            data[key] = flat[key]
    data["identities"] = {k: flat[k] for k in _IDENTITY_FIELDS if flat.get(k) not in (None, "")}
    return data


def _translate(error: InvalidRequestError, where: dict[str, str]) -> InvalidRequestError:
    issues = []
    for field, reason in error.issues:
        head = field.split(".")[-1] if field.startswith("identities.") else field
        issues.append((where.get(head, where.get(field, field)), reason))
    return InvalidRequestError(issues)


def to_new_request(
    source: str, data: dict[str, Any], jira_fields: Mapping[str, str] = JIRA_FIELDS
) -> NewRequest:
    """Validate one webhook body from ``source``; :class:`InvalidRequestError` names fields.

    ``jira_fields``: our field names -> Jira issue fields (see :func:`jira_fields_from_env`).
    """
    if source == "generic":
        # The source is the endpoint's, never the body's: a generic sender cannot claim (and
        # probe) another source's tickets.
        return parse_new_request({**data, "source": "generic"})
    if source == "jira":
        issue = _object(data, "issue", "")
        fields = _object(issue, "fields", "issue.")
        flat = {ours: _unwrap(fields.get(theirs)) for ours, theirs in jira_fields.items()}
        where = {ours: f"issue.fields.{theirs}" for ours, theirs in jira_fields.items()}
        ticket, where["ticket_id"] = issue.get("key"), "issue.key"
    elif source == "servicenow":
        flat = _object(data, "variables", "")
        where = {key: f"variables.{key}" for key in (*_REQUEST_FIELDS, *_IDENTITY_FIELDS)}
        ticket, where["ticket_id"] = data.get("sys_id"), "sys_id"
    elif source == "zendesk":
        flat = _object(data, "ticket", "")
        where = {key: f"ticket.{key}" for key in (*_REQUEST_FIELDS, *_IDENTITY_FIELDS)}
        ticket, where["ticket_id"] = flat.get("id"), "ticket.id"
    else:
        raise InvalidRequestError([("source", f"unknown source {source}")])
    where["identities"] = "identities (email, phone, customer_id)"
    try:
        return parse_new_request(_from_flat(source, ticket, flat))
    except InvalidRequestError as exc:
        raise _translate(exc, where) from None
