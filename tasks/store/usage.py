"""What the store holds of check data: rows, span, bytes, and how long each kind is kept.

Raw results and minute rollups are shown twice: hot rows (``check_results``, ``rollups 1m``) and
what packed hours hold (``check_results packed``, ``rollups 1m packed``,
:mod:`tasks.store.compaction`; the span is that of their hours, the size the packed table's
split by the bytes of each half).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from tasks.store.models import CheckResult
from tasks.store.packed_models import CheckPackedHour
from tasks.store.retention import RetentionPolicy
from tasks.store.rollup_models import CheckRollup
from tasks.store.rollups import RESOLUTIONS

__all__ = ["UsageRow", "store_usage"]

_LABEL = {60: "rollups 1m", 3600: "rollups 1h", 86400: "rollups 1d"}


@dataclass(frozen=True)
class UsageRow:
    """One kind of check data. ``bytes`` of rollups is the table's split by rows (an estimate)."""

    what: str
    rows: int
    oldest: datetime | None
    newest: datetime | None
    bytes: int | None
    keeps_days: int


def store_usage(engine: Engine, policy: RetentionPolicy) -> list[UsageRow]:
    """Rows, span and size of raw results (hot and packed) and of each rollup resolution."""
    tables = CheckResult.metadata.tables
    raw, rollups = tables[CheckResult.__tablename__], tables[CheckRollup.__tablename__]
    keeps = policy.keeps()
    with engine.connect() as conn:
        n, oldest, newest = conn.execute(
            select(func.count(), func.min(raw.c.started_at), func.max(raw.c.started_at))
        ).one()
        out = [
            UsageRow(
                "check_results", n, oldest, newest, _bytes(conn, raw.name), keeps["check_results"]
            )
        ]
        out += _packed_rows(conn, keeps)
        per = {
            r: (c, lo, hi)
            for r, c, lo, hi in conn.execute(
                select(
                    rollups.c.resolution,
                    func.count(),
                    func.min(rollups.c.bucket_start),
                    func.max(rollups.c.bucket_start),
                ).group_by(rollups.c.resolution)
            )
        }
        table_bytes = _bytes(conn, rollups.name)
    total = sum(c for c, _, _ in per.values())
    for resolution in RESOLUTIONS:
        count, lo, hi = per.get(resolution, (0, None, None))
        share = None if table_bytes is None or not total else table_bytes * count // total
        out.append(
            UsageRow(
                _LABEL[resolution],
                count,
                None if lo is None else datetime.fromtimestamp(lo, UTC),
                None if hi is None else datetime.fromtimestamp(hi, UTC),
                share,
                keeps[_LABEL[resolution]],
            )
        )
    return out


def _bytes(conn: Connection, table: str) -> int | None:
    """A table's size with its indexes (None where the backend cannot tell)."""
    if conn.dialect.name == "postgresql":
        # A partitioned table's own size is 0: sum its partitions (a plain table has none).
        size = text(
            "SELECT COALESCE((SELECT SUM(pg_total_relation_size(relid)) "
            "FROM pg_partition_tree(CAST(:t AS regclass))), "
            "pg_total_relation_size(CAST(:t AS regclass)))"
        )
        return int(conn.execute(size, {"t": table}).scalar_one())
    try:  # SQLite's dbstat lists every b-tree page; an index's rows name its table
        size = conn.execute(
            text(
                "SELECT SUM(pgsize) FROM dbstat WHERE name = :t OR name IN "
                "(SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t)"
            ),
            {"t": table},
        ).scalar_one()
    except DBAPIError:
        return None
    return None if size is None else int(size)


def _packed_rows(conn: Connection, keeps: dict[str, int]) -> list[UsageRow]:
    """Packed raw results and packed minute rollups: what they hold, their hours' span, and the
    packed table's size split by the bytes of each half (an estimate)."""
    packed = CheckPackedHour.metadata.tables[CheckPackedHour.__tablename__]
    table_bytes = _bytes(conn, packed.name)
    rows = []
    halves = [
        ("raw", packed.c.results, "check_results packed"),
        ("minutes", packed.c.minute_buckets, "rollups 1m packed"),
    ]
    sizes = {}
    for half, count, what in halves:
        column = packed.c[half]
        held, first, last, size = conn.execute(
            select(
                func.coalesce(func.sum(count), 0),
                func.min(packed.c.hour_start),
                func.max(packed.c.hour_start),
                func.coalesce(func.sum(func.length(column)), 0),
            ).where(column.is_not(None))
        ).one()
        sizes[what] = int(size)
        rows.append(
            (
                what,
                int(held),
                None if first is None else datetime.fromtimestamp(first, UTC),
                None if last is None else datetime.fromtimestamp(last + 3600, UTC),
            )
        )
    payload = sum(sizes.values())
    return [
        UsageRow(
            what,
            held,
            first,
            last,
            None if table_bytes is None else table_bytes * sizes[what] // payload if payload else 0,
            keeps[what],
        )
        for what, held, first, last in rows
    ]
