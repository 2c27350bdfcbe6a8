"""The tamper-evident audit log of data-subject request fulfilment.

Each entry (request id, step, datastore, counts, actor, time: never personal data) carries a
sequence number and ``hash = sha256(prev_hash + canonical entry)``. :func:`verify_chain` walks the
log in sequence order and recomputes every hash, so an edited entry (its hash no longer matches),
a removed one (a gap in the sequence, or a broken link) or a reordered pair (links break) is
found and named by sequence number. Truncating the newest entries leaves a valid shorter chain:
the head hash is therefore also written to the ticket when a request closes, outside the store.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tasks.store.engine import session_scope
from tasks.store.fulfilment_models import DsrAuditEntry
from tasks.store.locks import serialise_writers

__all__ = [
    "GENESIS",
    "ChainReport",
    "append_entry",
    "append_in",
    "entries_for",
    "entry_hash",
    "lock_chain",
    "verify_chain",
]

GENESIS = "0" * 64


def entry_hash(
    prev_hash: str,
    seq: int,
    request_id: str,
    step: str,
    datastore: str,
    counts: dict[str, Any],
    actor: str,
    at: datetime,
) -> str:
    """The hash linking one entry to the previous one."""
    body = json.dumps(
        [seq, request_id, step, datastore, counts, actor, at.astimezone(UTC).isoformat()],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def append_entry(
    engine: Engine,
    request_id: str,
    step: str,
    datastore: str = "",
    counts: dict[str, Any] | None = None,
    actor: str = "traceo-fulfilment",
) -> DsrAuditEntry:
    """Append one entry at the head of the chain; concurrent writers wait their turn."""
    with session_scope(engine) as session:
        lock_chain(session)
        return append_in(session, request_id, step, datastore, counts, actor)


def lock_chain(session: Session) -> None:
    """Make concurrent appenders wait for ``session``'s transaction; call it first thing."""
    serialise_writers(session, "dsr-audit-chain")


def append_in(
    session: Session,
    request_id: str,
    step: str,
    datastore: str = "",
    counts: dict[str, Any] | None = None,
    actor: str = "traceo-fulfilment",
) -> DsrAuditEntry:
    """:func:`append_entry` inside the caller's transaction, which commits it with the change it
    logs; that transaction must have started with :func:`lock_chain`."""
    counts = json.loads(json.dumps(counts or {}, default=str))
    head = session.scalars(
        select(DsrAuditEntry).order_by(DsrAuditEntry.seq.desc()).limit(1)
    ).first()
    seq = head.seq + 1 if head else 1
    prev = head.hash if head else GENESIS
    at = datetime.now(UTC)
    entry = DsrAuditEntry(
        seq=seq,
        request_id=request_id,
        step=step,
        datastore=datastore,
        counts=counts,
        actor=actor,
        at=at,
        prev_hash=prev,
        hash=entry_hash(prev, seq, request_id, step, datastore, counts, actor, at),
    )
    session.add(entry)
    return entry


def entries_for(engine: Engine, request_id: str | None = None) -> list[DsrAuditEntry]:
    """Entries in sequence order, optionally of one request only."""
    with session_scope(engine) as session:
        query = select(DsrAuditEntry).order_by(DsrAuditEntry.seq)
        if request_id is not None:
            query = query.where(DsrAuditEntry.request_id == request_id)
        return list(session.scalars(query))


@dataclass
class ChainReport:
    entries: int
    head: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(engine: Engine) -> ChainReport:
    """Recompute the whole chain; every edited, missing or reordered entry is a problem."""
    with session_scope(engine) as session:
        count = session.scalar(select(func.count()).select_from(DsrAuditEntry)) or 0
    entries = entries_for(engine)
    problems: list[str] = []
    prev, expected_seq = GENESIS, 1
    for e in entries:
        if e.seq != expected_seq:
            problems.append(f"entry {e.seq}: expected sequence {expected_seq} (entry removed?)")
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq}: does not link to the entry before it")
        recomputed = entry_hash(
            e.prev_hash, e.seq, e.request_id, e.step, e.datastore, e.counts, e.actor, e.at
        )
        if recomputed != e.hash:
            problems.append(f"entry {e.seq}: content does not match its hash (edited)")
        prev, expected_seq = e.hash, e.seq + 1
    return ChainReport(entries=count, head=prev, problems=problems)
