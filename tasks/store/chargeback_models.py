"""Store models for chargeback: one row per run, and the append-only ledger of team charges.

The ledger is immutable: an entry is never updated or deleted (the ORM refuses to, see the
listeners below). When the cost of a posted period changes, the next run appends the difference
as ``correction`` entries, so the sum of a period's entries per ``(team, category, item)`` is
always what the latest allocation says. Every tier is recorded with its tier; only ``hard``
entries are ``charged`` (showback and soft chargeback are informational).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from tasks.store.cost_models import MONEY, QUANTITY
from tasks.store.models import Base, BigId

__all__ = ["CENTS", "ChargebackRun", "ImmutableLedgerError", "LedgerEntry"]

# Ledger amounts are whole cents: what a team is charged, not the provider's raw precision.
CENTS = Numeric(20, 2)


class ImmutableLedgerError(RuntimeError):
    """Raised when code tries to update or delete a posted ledger entry."""


class ChargebackRun(Base):
    """One chargeback run of one period: posted, unchanged, dry run or failed."""

    __tablename__ = "chargeback_runs"
    __table_args__ = (Index("ix_chargeback_runs_period", "period", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), unique=True)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # running|posted|unchanged|failed
    metric: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str | None] = mapped_column(String(3))
    source_total: Mapped[Decimal | None] = mapped_column(MONEY)
    allocated_total: Mapped[Decimal | None] = mapped_column(MONEY)  # direct + shared
    unallocated_total: Mapped[Decimal | None] = mapped_column(MONEY)
    statement_totals: Mapped[dict[str, Any]] = mapped_column(default=dict)  # team -> "12.34"
    entries_posted: Mapped[int] = mapped_column(Integer, default=0)
    input_checksum: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    flow_run_id: Mapped[str | None] = mapped_column(String(64))


class LedgerEntry(Base):
    """One immutable posting of an amount for a team, category and item in a period.

    ``entry_key`` is the idempotency key: a hash of period, team, category, item and the
    posting's sequence number for that key, so two runs computing the same difference at once
    cannot both post it (the second violates the unique constraint and rolls back).
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_period_team", "period", "team"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_key: Mapped[str] = mapped_column(String(64), unique=True)
    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("chargeback_runs.id"))
    period: Mapped[str] = mapped_column(String(7))
    team: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))  # direct|shared|platform|discount
    item: Mapped[str] = mapped_column(String(400))
    amount: Mapped[Decimal] = mapped_column(CENTS)
    quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    unit: Mapped[str | None] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    tier: Mapped[str] = mapped_column(String(16))  # showback|soft|hard
    charged: Mapped[bool] = mapped_column(Boolean, default=False)  # tier == "hard"
    correction: Mapped[bool] = mapped_column(Boolean, default=False)
    posted_at: Mapped[datetime]


@event.listens_for(LedgerEntry, "before_update")
def _refuse_update(_mapper: Any, _connection: Any, target: LedgerEntry) -> None:
    raise ImmutableLedgerError(f"ledger entry {target.id} is immutable; post a correction")


@event.listens_for(LedgerEntry, "before_delete")
def _refuse_delete(_mapper: Any, _connection: Any, target: LedgerEntry) -> None:
    raise ImmutableLedgerError(f"ledger entry {target.id} is immutable; post a correction")
