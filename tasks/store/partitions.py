"""Daily partitions of raw check results on PostgreSQL, so retention drops a day whole.

``check_results`` is partitioned by range of ``scheduled_at`` (UTC days); a default partition
catches any row written before its day's partition exists. Writers call
:func:`ensure_partitions` for the days they are about to write: a missing day is created as a
plain table, the default partition's rows of that day are moved into it, and it is attached,
all in the writer's transaction under one advisory lock, so concurrent writers never race and
no row is ever refused. Retention drops a partition whose day lies wholly before the raw
cutoff, one day per transaction, unless a row in it started after the cutoff (a run that
started long after its slot): such a day is trimmed row by row, like the default partition.
Compaction (:mod:`tasks.store.compaction`) drops a day's partition once it has packed every row
of it, which is what returns its space to the system.
SQLite has no partitions; every function here is a no-op there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, text

from tasks.store.locks import lock_key

__all__ = [
    "DEFAULT_PARTITION",
    "PARENT",
    "drop_day",
    "drop_empty_day",
    "ensure_partitions",
    "expired_days",
    "is_partition",
    "partition_days",
    "partition_name",
]

PARENT = "check_results"
DEFAULT_PARTITION = f"{PARENT}_default"
_DAY_NAME = re.compile(rf"^{PARENT}_p(\d{{8}})$")
_LOCK = lock_key(f"partitions:{PARENT}")


def partition_name(day: date) -> str:
    return f"{PARENT}_p{day:%Y%m%d}"


def is_partition(name: str) -> bool:
    """Whether ``name`` is one of the partitions (alembic and reports skip them)."""
    return name == DEFAULT_PARTITION or _DAY_NAME.match(name) is not None


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), UTC)
    return start, start + timedelta(days=1)


def _partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(
        text(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.oid = to_regclass(:t)"
        ),
        {"t": PARENT},
    )
    return found.first() is not None


def partition_days(conn: Connection) -> list[date]:
    """The days that have a partition, oldest first (empty on SQLite)."""
    if not _partitioned(conn):
        return []
    names = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:t)"
        ),
        {"t": PARENT},
    ).scalars()
    days = []
    for name in names:
        match = _DAY_NAME.match(name)
        if match:
            days.append(datetime.strptime(match.group(1), "%Y%m%d").date())
    return sorted(days)


def ensure_partitions(conn: Connection, scheduled: Iterable[datetime]) -> list[date]:
    """Create the partitions of the UTC days of ``scheduled`` that do not exist yet.

    Returns:
        The days created.
    """
    if not _partitioned(conn):  # SQLite: nothing to do, and no need to look at every row
        return []
    days = {at.astimezone(UTC).date() for at in scheduled}
    if not days:
        return []
    missing = _missing(conn, days)
    if not missing:
        return []
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    created = []
    for day in sorted(_missing(conn, missing)):  # again, under the lock
        _create(conn, day)
        created.append(day)
    return created


def _missing(conn: Connection, days: set[date]) -> set[date]:
    # pg_class read by a query, not to_regclass(): a query sees what other transactions
    # committed up to now, while to_regclass() may answer from this session's catalog cache,
    # stale right after waiting on the lock for a writer that just created the partition.
    names = sorted(partition_name(d) for d in days)
    exists = conn.execute(
        text(
            "SELECT n FROM unnest(CAST(:names AS text[])) AS n WHERE NOT EXISTS ("
            "SELECT 1 FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
            "WHERE c.relname = n AND s.nspname = current_schema())"
        ),
        {"names": names},
    ).scalars()
    absent = set(exists)
    return {d for d in days if partition_name(d) in absent}


def _create(conn: Connection, day: date) -> None:
    """Create ``day``'s partition holding the default partition's rows of that day."""
    name, (start, end) = partition_name(day), _bounds(day)
    span = {"a": start, "b": end}
    conn.execute(text(f'CREATE TABLE "{name}" (LIKE "{PARENT}" INCLUDING DEFAULTS)'))
    conn.execute(
        text(
            f'WITH moved AS (DELETE FROM "{DEFAULT_PARTITION}" '
            "WHERE scheduled_at >= :a AND scheduled_at < :b RETURNING *) "
            f'INSERT INTO "{name}" SELECT * FROM moved'
        ),
        span,
    )
    # A literal range: ATTACH takes no bind parameters. The bounds are our own datetimes.
    conn.execute(
        text(
            f'ALTER TABLE "{PARENT}" ATTACH PARTITION "{name}" '
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
    )


def expired_days(conn: Connection, cutoff: datetime) -> list[date]:
    """The days with a partition that lies wholly before ``cutoff``."""
    return [day for day in partition_days(conn) if _bounds(day)[1] <= cutoff]


def drop_day(conn: Connection, day: date, cutoff: datetime) -> int | None:
    """Drop ``day``'s partition if every row in it started before ``cutoff``.

    Returns:
        Rows removed with it; None where a row started after ``cutoff`` (a run that started
        long after its slot) and the day must be trimmed row by row instead.
    """
    name = partition_name(day)
    late, rows = conn.execute(
        text(f'SELECT COUNT(*) FILTER (WHERE started_at >= :c), COUNT(*) FROM "{name}"'),
        {"c": cutoff},
    ).one()
    if late:
        return None
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    conn.execute(text(f'DROP TABLE "{name}"'))
    return int(rows)


def drop_empty_day(conn: Connection, day: date) -> bool:
    """Drop ``day``'s partition if it holds no row (compaction packed every one of them).

    The partition is locked first, so a writer cannot add a row between the look and the drop.

    Returns:
        Whether it was dropped.
    """
    name = partition_name(day)
    conn.execute(text(f'LOCK TABLE "{name}" IN ACCESS EXCLUSIVE MODE'))
    if conn.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() is not None:
        return False
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    conn.execute(text(f'DROP TABLE "{name}"'))
    return True
