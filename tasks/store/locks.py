"""Serialise the writers of one resource for the length of a transaction, across processes.

An append that reads the head of a chain and writes the next link (the audit log) must not
interleave with another: optimistic retries run out when enough writers collide. On PostgreSQL
the transaction takes ``pg_advisory_xact_lock`` on a key derived from the resource's name (held
until commit or rollback, so a crash never leaves it held); on SQLite, which has a single writer
anyway, the transaction starts with ``BEGIN IMMEDIATE`` so it holds the write lock before it
reads, and waits for it within the connection's busy timeout.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

__all__ = ["lock_check_pairs", "lock_key", "serialise_writers"]


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (PostgreSQL's advisory lock space)."""
    digest = hashlib.sha256(f"traceo:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def serialise_writers(session: Session, name: str) -> None:
    """Hold the lock for ``name`` until ``session``'s transaction ends; call it first thing."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})
    elif dialect == "sqlite":
        session.execute(text("BEGIN IMMEDIATE"))


def lock_check_pairs(conn: Connection, pairs: set[tuple[str, str]]) -> None:
    """Hold a lock per (check, region) until commit (PostgreSQL; SQLite has one writer).

    Writers of results and rollups, compaction and retention of packed hours all take it. Two
    writers of one check and region would each recompute a bucket without the other's
    uncommitted results, and the last to commit would win; serialised, the second recomputes
    after the first committed and sees both. Taken in one order (sorted keys); taking a lock the
    transaction holds already is free, so a writer may take all its locks up front and refresh
    chunk by chunk.
    """
    if conn.dialect.name != "postgresql":
        return
    keys = sorted(lock_key(f"rollups:{c}:{r}") for c, r in pairs)
    conn.execute(
        text(
            "SELECT pg_advisory_xact_lock(k) FROM "
            "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS ordered"
        ),
        {"keys": keys},
    )
