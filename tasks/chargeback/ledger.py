"""Post an allocation to the append-only chargeback ledger: reconciled, idempotent, corrected.

Rules (see :mod:`tasks.store.chargeback_models`):

* Reconciliation comes first: ``allocation.reconcile()`` raising fails the run (recorded as a
  ``failed`` :class:`~tasks.store.ChargebackRun`) and posts nothing.
* Posting is idempotent: the allocation's amount per ``(team, category, item)`` is compared with
  the sum of what is already posted for the period, and only the difference is posted. Posting
  the same allocation twice posts nothing the second time (status ``unchanged``).
* Entries are never rewritten or deleted. Once a period has entries, later differences (late or
  restated cost lines) are posted as ``correction`` entries (FOCUS ChargeClass "Correction").
* Every tier is recorded with its tier; only ``hard`` entries are ``charged``. Showback and soft
  chargeback entries are informational. Unallocated cost is not posted (no team owns it); the
  run row keeps its total.
* The run records the cost metric charged (``EffectiveCost`` or ``BilledCost``, from the
  allocation), so the ledger says what its amounts are.
* A dry run computes the same postings and writes nothing at all.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tasks.errors import PermanentError
from tasks.store import ChargebackRun, LedgerEntry, session_scope

__all__ = [
    "CLOUD_CATEGORIES",
    "AllocationLike",
    "Balance",
    "LedgerError",
    "Posting",
    "PostingResult",
    "allocation_checksum",
    "desired_balances",
    "plan_postings",
    "post_allocation",
    "posted_balances",
]

CENT = Decimal("0.01")
# What reconciles with the source: platform charges and their discounts are internal, on top.
CLOUD_CATEGORIES = ("direct", "shared")
Key = tuple[str, str, str]  # (team, category, item)


class LedgerError(PermanentError):
    """The ledger does not balance with the allocation after posting (nothing is committed)."""


class AllocationLike(Protocol):
    """What the ledger needs of :class:`tasks.chargeback.Allocation`."""

    @property
    def period(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def source_total(self) -> Decimal: ...
    @property
    def statements(self) -> Mapping[str, Any]: ...
    @property
    def unallocated(self) -> Sequence[Any]: ...
    @property
    def metric(self) -> str: ...

    def reconcile(self) -> Any: ...


@dataclass(frozen=True)
class Balance:
    """A summed amount (cents) and quantity for one (team, category, item)."""

    amount: Decimal
    quantity: Decimal | None
    unit: str | None
    tier: str


@dataclass(frozen=True)
class Posting:
    """One entry to post: the difference between the allocation and the ledger for a key."""

    team: str
    category: str
    item: str
    amount: Decimal
    quantity: Decimal | None
    unit: str | None
    tier: str
    correction: bool

    @property
    def charged(self) -> bool:
        return self.tier == "hard"


@dataclass(frozen=True)
class PostingResult:
    """What a run did (or, for a dry run, would do) to one period of the ledger."""

    run_id: str
    period: str
    status: str  # posted | unchanged | dry_run
    currency: str
    metric: str  # the FOCUS cost column charged (EffectiveCost or BilledCost)
    source_total: Decimal
    allocated_total: Decimal  # cloud cost on team statements (direct + shared)
    unallocated_total: Decimal
    statement_totals: dict[str, Decimal]
    checksum: str
    postings: tuple[Posting, ...] = field(default=())

    @property
    def posted_total(self) -> Decimal:
        return sum((p.amount for p in self.postings), Decimal("0"))


def _cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)


def desired_balances(allocation: AllocationLike) -> dict[Key, Balance]:
    """The allocation's amount per ``(team, category, item)``, in cents (repeated keys summed)."""
    amounts: dict[Key, Decimal] = {}
    quantities: dict[Key, Decimal | None] = {}
    meta: dict[Key, tuple[str | None, str]] = {}
    for team, statement in allocation.statements.items():
        for line in statement.lines:
            key = (team, line.category, line.item)
            amounts[key] = amounts.get(key, Decimal("0")) + Decimal(line.amount)
            quantity = None if line.quantity is None else Decimal(line.quantity)
            if key not in quantities:
                quantities[key] = quantity
            elif quantities[key] is not None and quantity is not None:
                quantities[key] = quantities[key] + quantity  # type: ignore[operator]
            else:
                quantities[key] = None  # a total quantity is only known if every line has one
            meta.setdefault(key, (line.unit, statement.tier))
    return {
        key: Balance(_cents(amount), quantities[key], meta[key][0], meta[key][1])
        for key, amount in amounts.items()
    }


def posted_balances(session: Session, period: str) -> dict[Key, Balance]:
    """The sum of every entry already posted for ``period`` per ``(team, category, item)``."""
    rows = session.execute(
        select(LedgerEntry).where(LedgerEntry.period == period).order_by(LedgerEntry.id)
    ).scalars()
    balances: dict[Key, Balance] = {}
    for row in rows:
        key = (row.team, row.category, row.item)
        old = balances.get(key)
        amount = (old.amount if old else Decimal("0")) + row.amount
        quantity = old.quantity if old else None
        if row.quantity is not None:
            quantity = (quantity or Decimal("0")) + row.quantity
        balances[key] = Balance(
            _cents(amount), quantity, row.unit or (old.unit if old else None), row.tier
        )
    return balances


def plan_postings(desired: Mapping[Key, Balance], posted: Mapping[Key, Balance]) -> list[Posting]:
    """The entries that bring ``posted`` to ``desired``; corrections once the period has any."""
    correction = bool(posted)
    postings = []
    for key in sorted(set(desired) | set(posted)):
        want, have = desired.get(key), posted.get(key)
        delta = (want.amount if want else Decimal("0")) - (have.amount if have else Decimal("0"))
        if delta == 0:
            continue
        quantity = None
        if want and want.quantity is not None:
            had = have.quantity if have and have.quantity is not None else Decimal("0")
            quantity = want.quantity - had
        source = want or have
        assert source is not None
        postings.append(
            Posting(*key, delta, quantity, source.unit, source.tier, correction=correction)
        )
    return postings


def allocation_checksum(allocation: AllocationLike) -> str:
    """A SHA-256 of what the allocation says, to tell reruns with identical input apart."""
    lines = sorted(
        (team, c, i, str(b.amount)) for (team, c, i), b in desired_balances(allocation).items()
    )
    total = str(allocation.source_total)
    payload = [allocation.period, allocation.currency, total, allocation.metric, lines]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def _entry_key(period: str, key: Key, sequence: int) -> str:
    raw = "\x1f".join((period, *key, str(sequence)))
    return hashlib.sha256(raw.encode()).hexdigest()


def _totals(allocation: AllocationLike) -> tuple[Decimal, Decimal, dict[str, Decimal]]:
    """Cloud cost allocated (direct + shared), unallocated, and each team's statement total."""
    statement_totals = {team: _cents(s.total) for team, s in allocation.statements.items()}
    cloud = sum(
        (
            Decimal(line.amount)
            for s in allocation.statements.values()
            for line in s.lines
            if line.category in CLOUD_CATEGORIES
        ),
        Decimal("0"),
    )
    unallocated = sum((Decimal(line.amount) for line in allocation.unallocated), Decimal("0"))
    return _cents(cloud), _cents(unallocated), statement_totals


def _record_failure(
    engine: Engine, allocation: AllocationLike, error: Exception, **run: Any
) -> None:
    with session_scope(engine) as session:
        session.add(
            ChargebackRun(
                period=allocation.period,
                status="failed",
                metric=allocation.metric,
                currency=allocation.currency,
                source_total=allocation.source_total,
                error=f"{type(error).__name__}: {error}"[:2000],
                **run,
            )
        )


def post_allocation(
    engine: Engine,
    allocation: AllocationLike,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    flow_run_id: str | None = None,
) -> PostingResult:
    """Reconcile ``allocation``, then post what the ledger lacks for its period.

    Raises:
        Exception: whatever ``allocation.reconcile()`` raises (``ReconciliationError``); the
            run is recorded as failed (unless a dry run) and nothing is posted.
        LedgerError: the ledger would not balance with the allocation after posting.
    """
    now = now or datetime.now(UTC)
    run_id = str(uuid.uuid4())
    run_fields: dict[str, Any] = {
        "run_id": run_id,
        "dry_run": dry_run,
        "started_at": now,
        "finished_at": datetime.now(UTC),
        "flow_run_id": flow_run_id,
    }
    try:
        allocation.reconcile()
    except Exception as exc:
        if not dry_run:
            _record_failure(engine, allocation, exc, **run_fields)
        raise
    checksum = allocation_checksum(allocation)
    allocated, unallocated, statement_totals = _totals(allocation)
    desired = desired_balances(allocation)
    with session_scope(engine) as session:
        postings = plan_postings(desired, posted_balances(session, allocation.period))
        status = "dry_run" if dry_run else ("posted" if postings else "unchanged")
        result = PostingResult(
            run_id=run_id,
            period=allocation.period,
            status=status,
            currency=allocation.currency,
            metric=allocation.metric,
            source_total=Decimal(allocation.source_total),
            allocated_total=allocated,
            unallocated_total=unallocated,
            statement_totals=statement_totals,
            checksum=checksum,
            postings=tuple(postings),
        )
        if dry_run:
            session.rollback()
            return result
        run = ChargebackRun(
            period=allocation.period,
            status=status,
            metric=allocation.metric,
            currency=allocation.currency,
            source_total=Decimal(allocation.source_total),
            allocated_total=allocated,
            unallocated_total=unallocated,
            statement_totals={team: str(total) for team, total in statement_totals.items()},
            entries_posted=len(postings),
            input_checksum=checksum,
            **run_fields,
        )
        session.add(run)
        session.flush()
        _add_entries(session, run, allocation, postings, now)
        _check_balanced(session, allocation.period, desired)
    return result


def _add_entries(
    session: Session,
    run: ChargebackRun,
    allocation: AllocationLike,
    postings: Sequence[Posting],
    now: datetime,
) -> None:
    counts: dict[Key, int] = {}
    for entry in session.execute(
        select(LedgerEntry.team, LedgerEntry.category, LedgerEntry.item).where(
            LedgerEntry.period == allocation.period
        )
    ):
        key = (entry.team, entry.category, entry.item)
        counts[key] = counts.get(key, 0) + 1
    for p in postings:
        key = (p.team, p.category, p.item)
        session.add(
            LedgerEntry(
                entry_key=_entry_key(allocation.period, key, counts.get(key, 0)),
                run_id=run.id,
                period=allocation.period,
                team=p.team,
                category=p.category,
                item=p.item,
                amount=p.amount,
                quantity=p.quantity,
                unit=p.unit,
                currency=allocation.currency,
                tier=p.tier,
                charged=p.charged,
                correction=p.correction,
                posted_at=now,
            )
        )
    session.flush()


def _check_balanced(session: Session, period: str, desired: Mapping[Key, Balance]) -> None:
    posted = posted_balances(session, period)
    for key in set(desired) | set(posted):
        want = desired[key].amount if key in desired else Decimal("0")
        have = posted[key].amount if key in posted else Decimal("0")
        if want != have:
            raise LedgerError(f"ledger for {period} does not balance at {key}: {have} != {want}")
