"""Rollups of check results: per check and region, per minute, hour and day.

A bucket is never incremented: whenever results are written, every minute they touch (where
each result starts now, and where a replaced result started before) is recomputed from the raw
results, and the hour and day above it from their minutes and hours. Writing a slot twice, a
late result or a result moving to another minute all leave each bucket equal to what its raw
results say. Minutes older than the raw retention's cutoff are sealed: their raw results are
gone, so nothing recomputes them. Minutes of packed hours (:mod:`tasks.store.packed_hours`) are
read with the hot ones; a minute recomputed is taken out of its packed hour and stored hot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, Text, bindparam, cast, select

from tasks.store.cell_frames import CellFrame
from tasks.store.locks import lock_check_pairs
from tasks.store.marks import get_mark
from tasks.store.packed_hours import read_packed_minutes, take_minutes
from tasks.store.raw_reads import read_raw
from tasks.store.rollup_cells import VERDICT_COLUMNS, Bucket
from tasks.store.rollup_models import CheckRollup
from tasks.store.sql import dialect_insert, execute_many

__all__ = [
    "RAW_CUTOFF_MARK",
    "RESOLUTIONS",
    "raw_cutoff",
    "refresh_rollups",
    "store_rollups",
]

MINUTE, HOUR, DAY = 60, 3600, 86400
RESOLUTIONS = (MINUTE, HOUR, DAY)
RAW_CUTOFF_MARK = "retention:check_results"
_ROLLUPS = CheckRollup.metadata.tables[CheckRollup.__tablename__]

Key = tuple[str, str, int]  # check_id, region, bucket start (epoch seconds)


def _dt(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def raw_cutoff(conn: Connection) -> int | None:
    """Epoch seconds before which raw results have been removed (None: never)."""
    return get_mark(conn, RAW_CUTOFF_MARK)


def refresh_rollups(
    conn: Connection,
    touched: Iterable[tuple[str, str, int]],
    complete: tuple[int, int] | None = None,
) -> int:
    """Recompute the buckets holding ``touched`` (check, region, epoch second) at every resolution.

    Args:
        conn: a connection in the writing transaction.
        touched: the (check, region, epoch second) whose buckets to recompute.
        complete: an epoch-second span ``[start, end)`` in which ``touched`` holds every minute
            with a result or a rollup (a rebuild's step): coarser buckets wholly inside it are
            summed from the minutes in memory instead of read back from the store.

    Returns:
        Minute buckets recomputed (sealed minutes are skipped).
    """
    sealed = raw_cutoff(conn)
    keys = {(c, r, t - t % MINUTE) for c, r, t in touched}
    keys = {k for k in keys if sealed is None or k[2] >= sealed}
    if not keys:
        return 0
    lock_check_pairs(conn, {(c, r) for c, r, _ in keys})
    minutes = len(keys)
    frame = _from_raw(conn, keys)
    take_minutes(conn, keys)  # a recomputed minute is a hot row until compaction packs it again
    _replace(conn, MINUTE, keys, frame.rows(keys))
    for finer, resolution in pairwise(RESOLUTIONS):
        keys = {(c, r, b - b % resolution) for c, r, b in keys}
        inside = {
            k for k in keys if complete and complete[0] <= k[2] and k[2] + resolution <= complete[1]
        }
        # Wholly inside a complete span, a coarser bucket is its minutes' cells regrouped; the
        # others are summed from the finer rows stored around the recomputed ones.
        rows = frame.coarsened(resolution).rows(inside) if inside else {}
        rows.update(
            (k, b.as_row()) for k, b in _from_finer(conn, finer, resolution, keys - inside).items()
        )
        _replace(conn, resolution, keys, rows)
    return minutes


def _span(keys: set[Key], width: int) -> tuple[list[str], int, int]:
    starts = [b for _, _, b in keys]
    return sorted({c for c, _, _ in keys}), min(starts), max(starts) + width


def _from_raw(conn: Connection, keys: set[Key]) -> CellFrame:
    """The minute cells of the raw results in ``keys``' span (rows outside ``keys`` included:
    :meth:`CellFrame.rows` is asked for the keys)."""
    checks, start, end = _span(keys, MINUTE)
    return CellFrame.from_raw(read_raw(conn, checks, _dt(start), _dt(end)), MINUTE)


def _from_finer(conn: Connection, finer: int, resolution: int, keys: set[Key]) -> dict[Key, Bucket]:
    if not keys:
        return {}
    checks, start, end = _span(keys, resolution)
    counts = [f"{verdict}_count" for verdict in VERDICT_COLUMNS]
    stmt = select(
        _ROLLUPS.c.check_id,
        _ROLLUPS.c.region,
        _ROLLUPS.c.bucket_start,
        _ROLLUPS.c.latency_sum_ms,
        *(_ROLLUPS.c[name] for name in counts),
        # As text, decoded in one call below (per-row JSON decoding dominated a refresh).
        cast(_ROLLUPS.c.cells, Text),
    ).where(
        _ROLLUPS.c.resolution == finer,
        _ROLLUPS.c.check_id.in_(checks),
        _ROLLUPS.c.bucket_start >= start,
        _ROLLUPS.c.bucket_start < end,
    )
    rows = conn.execute(stmt).all()
    cells = json.loads(f"[{','.join(row[-1] for row in rows)}]")
    buckets: dict[Key, Bucket] = {}
    if finer == MINUTE:
        for check, region, b, bucket in read_packed_minutes(conn, checks, [(start, end)]):
            key = (check, region, b - b % resolution)
            if key in keys:
                buckets.setdefault(key, Bucket()).add_bucket(bucket)
    for row, row_cells in zip(rows, cells, strict=True):
        check, region, b, latency = row[:4]
        key = (check, region, b - b % resolution)
        if key in keys:
            stored = dict(zip(counts, row[4:-1], strict=True))
            stored.update(cells=row_cells, latency_sum_ms=latency)
            buckets.setdefault(key, Bucket()).add_row(stored)
    return buckets


def store_rollups(conn: Connection, resolution: int, rows: dict[Key, dict[str, Any]]) -> None:
    """Store ``rows`` (bucket rows as :meth:`CellFrame.rows` gives them) at ``resolution``,
    replacing the same buckets; for history loaded whole (:mod:`tasks.store.bulk_load`)."""
    _replace(conn, resolution, set(rows), rows)


def _replace(
    conn: Connection, resolution: int, keys: set[Key], rows: dict[Key, dict[str, Any]]
) -> None:
    """Make the stored buckets ``keys`` equal ``rows``: upsert those with data, drop the rest."""
    empty = [{"c": c, "r": r, "b": b} for c, r, b in keys if (c, r, b) not in rows]
    if empty:
        conn.execute(
            _ROLLUPS.delete().where(
                _ROLLUPS.c.resolution == resolution,
                _ROLLUPS.c.check_id == bindparam("c"),
                _ROLLUPS.c.region == bindparam("r"),
                _ROLLUPS.c.bucket_start == bindparam("b"),
            ),
            empty,
        )
    if not rows:
        return
    values = [
        {"check_id": c, "region": r, "resolution": resolution, "bucket_start": b, **row}
        for (c, r, b), row in rows.items()
    ]
    execute_many(conn, _upsert(conn.dialect.name), values)


@cache
def _upsert(dialect: str) -> Any:
    stmt = dialect_insert(dialect)(_ROLLUPS)
    key = ("check_id", "region", "resolution", "bucket_start")
    return stmt.on_conflict_do_update(
        index_elements=key,
        set_={c.name: stmt.excluded[c.name] for c in _ROLLUPS.c if c.name not in key},
    )
