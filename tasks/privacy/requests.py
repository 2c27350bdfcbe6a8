"""Data-subject requests: validation, legal due dates, and the stored lifecycle.

A request arrives from a ticket (Jira, ServiceNow, Zendesk, a generic JSON webhook) or the CLI,
is validated into a :class:`NewRequest`, de-duplicated per ``(source, ticket_id)`` and stored as a
:class:`~tasks.store.privacy_models.DsrRequest` with its legal due date:

- GDPR (Art. 12(3)): one calendar month from receipt, the same day of the next month or that
  month's last day (January 31 -> February 28/29); extendable by two further months, i.e. three
  calendar months from receipt.
- CCPA (Cal. Civ. Code 1798.130): 45 calendar days, extendable once by 45 more (90 in all).

The request's ``public_id`` (a UUID4) is the only thing that leaves the store: error messages
here name it, never an identity.
"""

from __future__ import annotations

import calendar
import functools
import math
import re
import threading
import uuid
import weakref
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Connection, Engine, bindparam, delete, literal_column, select, update

from tasks.errors import NotFoundError, PermanentError
from tasks.privacy.characters import identifier_problem, text_problem
from tasks.specs import field_path
from tasks.store.engine import session_scope
from tasks.store.models import Base
from tasks.store.privacy_models import DsrRequest, IntakeDelivery
from tasks.store.sql import dialect_insert, execute_many

__all__ = [
    "REPLAY_WINDOW",
    "SOURCES",
    "STATUSES",
    "CreatedRequest",
    "Identities",
    "InvalidRequestError",
    "Jurisdiction",
    "NewRequest",
    "PendingRequest",
    "ReplayedDeliveryError",
    "RequestType",
    "add_months",
    "create_request",
    "due_date",
    "extend_deadline",
    "extended_due_date",
    "load_request",
    "parse_new_request",
    "pending_starts",
    "prune_deliveries",
    "record_delivery",
    "record_flow_run",
    "record_flow_runs",
    "record_start_failure",
    "set_status",
    "store_requests",
]

RequestType = Literal["access", "erasure", "correction", "opt-out"]
Jurisdiction = Literal["GDPR", "CCPA"]
Source = Literal["jira", "servicenow", "zendesk", "generic", "cli"]
SOURCES: tuple[str, ...] = ("jira", "servicenow", "zendesk", "generic", "cli")
STATUSES: tuple[str, ...] = (
    "received",
    "in_progress",
    "waiting",
    "completed",
    "failed",
    "rejected",
)
_FINAL = {"completed", "rejected"}
# How far a signed timestamp may be from the intake's clock (deployments/intake/signing.py).
REPLAY_WINDOW = timedelta(minutes=5)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
_CORRECTION_KEY = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-.]+$")


def _identifier(value: Any) -> Any:
    """Refuse control, format and bidi characters in a ticket id or an identity (str only)."""
    if isinstance(value, str) and (problem := identifier_problem(value)):
        raise ValueError(problem)
    return value


def _correction_problem(value: Any) -> str | None:
    """Why a corrected value cannot be stored: it must be a scalar, finite, printable text."""
    if value is None or isinstance(value, bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "values must be finite numbers"
    if isinstance(value, str):
        return text_problem(value)
    return "values must be strings, numbers, booleans or null"


class InvalidRequestError(PermanentError):
    """A request failed validation; ``issues`` lists ``(field, reason)``, never the values."""

    def __init__(self, issues: list[tuple[str, str]]) -> None:
        self.issues = list(issues)
        super().__init__(
            "invalid request: " + "; ".join(f"{field}: {reason}" for field, reason in self.issues)
        )


class ReplayedDeliveryError(PermanentError):
    """A webhook delivery (its id or signature) was already accepted once."""


class Identities(BaseModel):
    """Who the request is about; at least one identity is required."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    customer_id: str | None = Field(default=None, min_length=1, max_length=200)

    _printable = field_validator("email", "phone", "customer_id", mode="before")(_identifier)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _EMAIL.match(value):
            raise ValueError("not an e-mail address")
        return value.lower()

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = _PHONE_PUNCTUATION.sub("", value)
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        body = digits.removeprefix("+")
        if not body.isdigit() or not 7 <= len(body) <= 15:
            raise ValueError("not a phone number (7 to 15 digits, optional leading +)")
        return "+" + body

    @model_validator(mode="after")
    def _at_least_one(self) -> Identities:
        if not (self.email or self.phone or self.customer_id):
            raise ValueError("at least one of email, phone, customer_id is required")
        return self


class NewRequest(BaseModel):
    """A validated request as it arrives, before it is stored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: Source
    ticket_id: str = Field(min_length=1, max_length=200)
    request_type: RequestType
    jurisdiction: Jurisdiction
    identities: Identities
    corrections: dict[str, Any] | None = None

    @field_validator("request_type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return value.strip().lower().replace("_", "-") if isinstance(value, str) else value

    @field_validator("jurisdiction", mode="before")
    @classmethod
    def _jurisdiction(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("ticket_id", mode="before")
    @classmethod
    def _ticket(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return _identifier(value)

    @model_validator(mode="after")
    def _corrections(self) -> NewRequest:
        if self.request_type == "correction":
            if not self.corrections:
                raise ValueError("corrections: required for a correction request")
            bad = [key for key in self.corrections if not _CORRECTION_KEY.match(key)]
            if bad:
                raise ValueError("corrections: keys must look like <collection>.<field>")
            for value in self.corrections.values():
                if problem := _correction_problem(value):
                    raise ValueError(f"corrections: {problem}")
        elif self.corrections:
            raise ValueError("corrections: only allowed for a correction request")
        return self


def parse_new_request(data: dict[str, Any]) -> NewRequest:
    """Validate ``data`` into a :class:`NewRequest`; errors name fields, never echo values."""
    try:
        return NewRequest.model_validate(data)
    except ValidationError as exc:
        issues = []
        for error in exc.errors(include_input=False, include_url=False):
            loc = tuple(p for p in error["loc"] if p)
            message = error["msg"].removeprefix("Value error, ")
            field, sep, rest = message.partition(": ")
            if not loc and sep and field in NewRequest.model_fields:
                loc, message = (field,), rest
            issues.append((field_path(loc) or "request", message))
        raise InvalidRequestError(issues) from None


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months, clamped to the target month's last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_date(jurisdiction: str, received_at: datetime) -> datetime:
    """The legal deadline of a request received at ``received_at``."""
    if jurisdiction == "GDPR":
        return add_months(received_at, 1)
    if jurisdiction == "CCPA":
        return received_at + timedelta(days=45)
    raise ValueError(f"unknown jurisdiction {jurisdiction!r}")


def extended_due_date(jurisdiction: str, received_at: datetime) -> datetime:
    """The deadline after the one extension the law allows (GDPR +2 months, CCPA +45 days)."""
    if jurisdiction == "GDPR":
        return add_months(received_at, 3)
    if jurisdiction == "CCPA":
        return received_at + timedelta(days=90)
    raise ValueError(f"unknown jurisdiction {jurisdiction!r}")


@dataclass(frozen=True)
class CreatedRequest:
    """What intake answers: the request id, its deadline, and whether it is new."""

    public_id: str
    due_at: datetime
    created: bool
    status: str


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PendingRequest:
    """A validated request waiting to be stored, with the delivery that brought it (if any)."""

    new: NewRequest
    delivery_id: str | None
    received_at: datetime


# Inserts skip a row whose unique key exists (ON CONFLICT DO NOTHING) and return the rows they
# did insert: a replay, or a ticket already stored (before, earlier in the same batch, or by a
# concurrent writer whose commit the insert waited for) is told by its absence, without an error
# that would abort the transaction of the whole batch around it.
@functools.cache
def _insert_ignoring(dialect: str, model: type[Base], *returning: str) -> Any:
    """Built once per dialect: run with a list of rows, SQLAlchemy sends them as few statements."""
    columns = [model.__table__.c[name] for name in returning]
    return dialect_insert(dialect)(model).on_conflict_do_nothing().returning(*columns)


_RECORD_RUN = (
    update(DsrRequest)
    .where(DsrRequest.public_id == bindparam("request"))
    .values(
        flow_run_id=bindparam("run"),
        start_attempts=DsrRequest.start_attempts + literal_column("1"),
        updated_at=bindparam("at"),
    )
)

_SQLITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def _writing(engine: Engine) -> AbstractContextManager[object]:
    """Serialise this process's writes to a SQLite store.

    SQLite allows one writer; threads that collide wait in its busy handler, which sleeps in
    steps of up to 100 ms. Queuing on a lock instead keeps the intake's throughput steady.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    return _SQLITE_LOCKS.setdefault(engine, threading.Lock())


def _accept_deliveries(
    conn: Connection, deliveries: Sequence[tuple[str, str, datetime]]
) -> list[bool]:
    """Remember each ``(source, delivery id, time)``; False for each seen before (a replay)."""
    rows = [{"source": s, "delivery_id": d[:200], "received_at": t} for s, d, t in deliveries]
    if not rows:
        return []
    stmt = _insert_ignoring(conn.dialect.name, IntakeDelivery, "source", "delivery_id")
    inserted = {(row.source, row.delivery_id) for row in conn.execute(stmt, rows)}
    accepted = []
    for row in rows:
        key = (row["source"], row["delivery_id"])
        accepted.append(key in inserted)
        inserted.discard(key)  # the same delivery twice in one batch: the second is a replay
    return accepted


def record_delivery(conn: Connection, source: str, delivery_id: str, now: datetime) -> None:
    """Remember an accepted delivery; raises :class:`ReplayedDeliveryError` if seen before.

    Runs inside the caller's transaction; nothing is written for a replay.
    """
    if not _accept_deliveries(conn, [(source, delivery_id, now)])[0]:
        raise ReplayedDeliveryError(f"{source} delivery already accepted")


def prune_deliveries(engine: Engine, before: datetime, ids_before: datetime | None = None) -> int:
    """Forget deliveries no longer needed against replays; returns how many.

    Signature-based deliveries accepted before ``before``: they carry a timestamp, so once
    outside the replay window they are refused as stale anyway. Delivery ids without a timestamp
    (Jira's) accepted before ``ids_before`` (kept when ``None``): a replay past that is answered
    as a duplicate of its stored ticket, which creates nothing and reveals nothing.
    """
    old = IntakeDelivery.delivery_id.startswith("sig:") & (IntakeDelivery.received_at < before)
    if ids_before is not None:
        old |= IntakeDelivery.received_at < ids_before
    with _writing(engine), engine.begin() as conn:
        return int(conn.execute(delete(IntakeDelivery).where(old)).rowcount)


def _row(pending: PendingRequest) -> dict[str, Any]:
    new, now = pending.new, pending.received_at
    return {
        "public_id": str(uuid.uuid4()),
        "source": new.source,
        "ticket_id": new.ticket_id,
        "request_type": new.request_type,
        "jurisdiction": new.jurisdiction,
        "status": "received",
        "received_at": now,
        "due_at": due_date(new.jurisdiction, now),
        "identities": new.identities.model_dump(exclude_none=True),
        "corrections": new.corrections,
        "start_attempts": 0,
        "updated_at": now,
    }


def _stored_tickets(conn: Connection, tickets: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The stored request of each ``(source, ticket id)``."""
    if not tickets:
        return {}
    found = select(
        DsrRequest.public_id,
        DsrRequest.due_at,
        DsrRequest.status,
        DsrRequest.source,
        DsrRequest.ticket_id,
    ).where(DsrRequest.ticket_id.in_({ticket for _, ticket in tickets}))
    return {(r.source, r.ticket_id): r for r in conn.execute(found)}


class _SeenBefore(Exception):
    """Rolls back the optimistic write of a batch: some delivery or ticket was there already."""


@functools.cache
def _insert_new(dialect: str, model: type[Base]) -> Any:
    return dialect_insert(dialect)(model).on_conflict_do_nothing()


def _store_all_new(
    engine: Engine, pending: Sequence[PendingRequest]
) -> list[CreatedRequest] | None:
    """Store every request of a batch whose deliveries and tickets are all new; else None.

    The common case, written as two driver executemanys (:func:`~tasks.store.sql.execute_many`)
    without RETURNING: when each insert's row count is the number of rows, every delivery was
    accepted and every ticket created. A shortfall (a replay, a ticket stored before or twice in
    the batch) rolls the whole transaction back and writes nothing.
    """
    rows = [_row(one) for one in pending]
    deliveries = [
        {"source": one.new.source, "delivery_id": d[:200], "received_at": one.received_at}
        for one in pending
        if (d := one.delivery_id) is not None
    ]
    try:
        with engine.begin() as conn:
            for model, values in ((IntakeDelivery, deliveries), (DsrRequest, rows)):
                stmt = _insert_new(conn.dialect.name, model)
                if execute_many(conn, stmt, values) != len(values):
                    raise _SeenBefore
    except _SeenBefore:
        return None
    return [CreatedRequest(row["public_id"], row["due_at"], True, "received") for row in rows]


def store_requests(
    engine: Engine, pending: Sequence[PendingRequest]
) -> list[CreatedRequest | ReplayedDeliveryError]:
    """Store each request (or find the one stored for its ticket) in one transaction.

    The intake's group commit (:mod:`deployments.intake.writer`): one transaction for a whole
    batch, two statements when every delivery and ticket is new; otherwise that attempt is
    rolled back and the batch is stored again with at most three statements that tell each
    request apart. A replayed delivery gets its :class:`ReplayedDeliveryError` in its place and
    writes nothing; the others are unaffected. Nothing is stored unless the transaction commits.
    """
    with _writing(engine):
        created = _store_all_new(engine, pending)
        return _store_each(engine, pending) if created is None else list(created)


def _store_each(
    engine: Engine, pending: Sequence[PendingRequest]
) -> list[CreatedRequest | ReplayedDeliveryError]:
    """:func:`store_requests` when something in the batch was seen before: row by row outcomes."""
    out: dict[int, CreatedRequest | ReplayedDeliveryError] = {}
    with engine.begin() as conn:
        signed = [i for i, one in enumerate(pending) if one.delivery_id is not None]
        deliveries = [
            (pending[i].new.source, str(pending[i].delivery_id), pending[i].received_at)
            for i in signed
        ]
        for i, accepted in zip(signed, _accept_deliveries(conn, deliveries), strict=True):
            if not accepted:
                out[i] = ReplayedDeliveryError(f"{pending[i].new.source} delivery already accepted")
        rows = {i: _row(one) for i, one in enumerate(pending) if i not in out}
        if rows:
            stmt = _insert_ignoring(conn.dialect.name, DsrRequest, "public_id")
            created = set(conn.execute(stmt, list(rows.values())).scalars())
            stored = _stored_tickets(
                conn,
                {
                    (r["source"], r["ticket_id"])
                    for r in rows.values()
                    if r["public_id"] not in created
                },
            )
            for i, row in rows.items():
                if row["public_id"] in created:
                    out[i] = CreatedRequest(row["public_id"], row["due_at"], True, "received")
                else:
                    existing = stored[(row["source"], row["ticket_id"])]
                    out[i] = CreatedRequest(
                        existing.public_id, existing.due_at, False, existing.status
                    )
    return [out[i] for i in range(len(pending))]


def create_request(
    engine: Engine,
    new: NewRequest,
    *,
    delivery_id: str | None = None,
    now: datetime | None = None,
) -> CreatedRequest:
    """Store ``new`` (or find the request already stored for its ticket) in one transaction.

    With ``delivery_id`` the delivery is recorded in the same transaction, so a replay is refused
    (:class:`ReplayedDeliveryError`) and a refused request leaves nothing behind.
    """
    (result,) = store_requests(engine, [PendingRequest(new, delivery_id, now or _now())])
    if isinstance(result, ReplayedDeliveryError):
        raise result
    return result


def load_request(engine: Engine, public_id: str) -> DsrRequest:
    """The stored request ``public_id``; :class:`NotFoundError` names the id only."""
    with session_scope(engine) as session:
        row = session.scalars(select(DsrRequest).where(DsrRequest.public_id == public_id)).first()
        if row is None:
            raise NotFoundError(f"data-subject request {public_id} not found")
        return row


def _update(engine: Engine, public_id: str, **values: Any) -> DsrRequest:
    with _writing(engine), session_scope(engine) as session:
        row = session.scalars(select(DsrRequest).where(DsrRequest.public_id == public_id)).first()
        if row is None:
            raise NotFoundError(f"data-subject request {public_id} not found")
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = _now()
        return row


def set_status(engine: Engine, public_id: str, status: str, detail: str | None = None) -> None:
    """Move a request to ``status`` (``detail``: a short reason, no personal data)."""
    if status not in STATUSES:
        raise PermanentError(f"unknown request status {status!r}; expected one of {STATUSES}")
    closed_at = _now() if status in _FINAL else None
    _update(engine, public_id, status=status, status_detail=detail, closed_at=closed_at)


def extend_deadline(engine: Engine, public_id: str) -> datetime:
    """Apply the one legal extension; returns the new deadline. A second extension is refused."""
    row = load_request(engine, public_id)
    if row.extended_until is not None:
        raise PermanentError(f"data-subject request {public_id} was already extended")
    if row.status in _FINAL:
        raise PermanentError(f"data-subject request {public_id} is {row.status}")
    until = extended_due_date(row.jurisdiction, row.received_at)
    _update(engine, public_id, extended_until=until)
    return until


def record_flow_runs(engine: Engine, runs: Mapping[str, str]) -> None:
    """Remember the fulfilment flow run started for each request (one transaction)."""
    if not runs:
        return
    at = _now()
    params = [{"request": public_id, "run": run, "at": at} for public_id, run in runs.items()]
    with _writing(engine), engine.begin() as conn:
        updated = execute_many(conn, _RECORD_RUN, params)
    if engine.dialect.supports_sane_multi_rowcount and updated != len(params):
        raise NotFoundError(f"{len(params) - updated} data-subject requests not found")


def record_flow_run(engine: Engine, public_id: str, flow_run_id: str) -> None:
    """Remember the fulfilment flow run started for a request."""
    record_flow_runs(engine, {public_id: flow_run_id})


def record_start_failure(engine: Engine, public_id: str) -> None:
    """Count a failed attempt to start the fulfilment run (the request stays ``received``)."""
    stmt = (
        update(DsrRequest)
        .where(DsrRequest.public_id == public_id)
        .values(start_attempts=DsrRequest.start_attempts + 1, updated_at=_now())
    )
    with _writing(engine), engine.begin() as conn:
        if conn.execute(stmt).rowcount != 1:
            raise NotFoundError(f"data-subject request {public_id} not found")


def pending_starts(engine: Engine, received_before: datetime | None = None) -> list[str]:
    """Ids of requests still ``received`` with no fulfilment run started, oldest first.

    ``received_before`` leaves out requests so recent that their first start may be under way.
    """
    stmt = (
        select(DsrRequest.public_id)
        .where(DsrRequest.status == "received", DsrRequest.flow_run_id.is_(None))
        .order_by(DsrRequest.received_at)
    )
    if received_before is not None:
        stmt = stmt.where(DsrRequest.received_at < received_before)
    with session_scope(engine) as session:
        return list(session.scalars(stmt))
