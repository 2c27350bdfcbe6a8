"""Store models: data-subject requests and intake deliveries.

Personal data lives only in :attr:`DsrRequest.identities` and :attr:`DsrRequest.corrections`; every
other column (and everything sent to Prefect, logs or tickets) refers to the request by
``public_id``. ``(source, ticket_id)`` is unique, so a ticket delivered twice is one request.
:attr:`DsrRequest.identity_hashes` holds a keyed hash of each identity from the start of its
fulfilment (a person's requests are matched by them); some time after a request closes
(:mod:`tasks.privacy.minimise`) the identities and corrections are emptied and the hashes stay.
:class:`IntakeDelivery` remembers each accepted webhook delivery so a replay is refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tasks.store.models import Base, BigId
from tasks.store.sql import json_text

__all__ = ["IDENTITY_KINDS", "DsrRequest", "IntakeDelivery"]


class DsrRequest(Base):
    """One data-subject request, from a ticket (or the CLI) to its outcome."""

    __tablename__ = "dsr_requests"
    __table_args__ = (
        UniqueConstraint("source", "ticket_id", name="uq_dsr_requests_ticket"),
        Index("ix_dsr_requests_status_due", "status", "due_at"),
        Index("ix_dsr_requests_closed", "closed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # jira|servicenow|zendesk|generic|cli
    ticket_id: Mapped[str] = mapped_column(String(200))
    request_type: Mapped[str] = mapped_column(String(16))  # access|erasure|correction|opt-out
    jurisdiction: Mapped[str] = mapped_column(String(8))  # GDPR|CCPA
    status: Mapped[str] = mapped_column(String(16))
    status_detail: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    due_at: Mapped[datetime]
    extended_until: Mapped[datetime | None]
    identities: Mapped[dict[str, Any]] = mapped_column(JSON)
    corrections: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    start_attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]  # when it became completed or rejected
    identity_hashes: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # kind -> HMAC hex
    identities_dropped_at: Mapped[datetime | None]


# Finding a person's other requests by a keyed hash of one identity
# (tasks.privacy.minimise.link_same_person): one index per kind of identity, over the hash as
# JSON text, holding only requests whose hashes are set (from the start of their fulfilment), so
# that storing a new request never writes to them.
IDENTITY_KINDS: tuple[str, ...] = ("email", "phone", "customer_id")
_HASHED = DsrRequest.__table__.c.identity_hashes
for _kind in IDENTITY_KINDS:
    Index(
        f"ix_dsr_requests_hash_{_kind}",
        json_text(_HASHED, _kind),
        sqlite_where=_HASHED.is_not(None),
        postgresql_where=_HASHED.is_not(None),
    )


class IntakeDelivery(Base):
    """One accepted webhook delivery (its id, or its signature for timestamped schemes)."""

    __tablename__ = "intake_deliveries"
    __table_args__ = (
        UniqueConstraint("source", "delivery_id", name="uq_intake_deliveries_delivery"),
        Index("ix_intake_deliveries_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]
