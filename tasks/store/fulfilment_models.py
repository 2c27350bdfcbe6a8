"""Store models: data-subject request fulfilment (steps, opt-outs, the hash-chained audit log).

Personal data stays out of these tables except ``DsrStep.detail`` of the ``plan`` step, which holds
the primary keys found for the subject (needed to resume an erasure after the identities that led
to them are gone); it is cleared when the request closes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tasks.store.models import Base, BigId

__all__ = ["DsrAuditEntry", "DsrOptOut", "DsrStep"]


class DsrStep(Base):
    """Progress of one step of one request on one datastore (``""`` for request-wide steps)."""

    __tablename__ = "dsr_steps"
    __table_args__ = (UniqueConstraint("request_id", "step", "datastore", name="uq_dsr_steps"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(32))
    datastore: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class DsrOptOut(Base):
    """An opt-out, recorded by a keyed hash of the subject's identities (never the values)."""

    __tablename__ = "dsr_opt_outs"
    __table_args__ = (UniqueConstraint("request_id", name="uq_dsr_opt_outs_request"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64))
    subject_hash: Mapped[str] = mapped_column(String(64))
    targets: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recorded_at: Mapped[datetime]


class DsrAuditEntry(Base):
    """One entry of the append-only audit log; ``hash`` chains it to the entry before."""

    __tablename__ = "dsr_audit"
    __table_args__ = (
        UniqueConstraint("seq", name="uq_dsr_audit_seq"),
        Index("ix_dsr_audit_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    request_id: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(32))
    datastore: Mapped[str] = mapped_column(String(100), default="")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
