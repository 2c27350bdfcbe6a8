"""Retention of packed hours: their raw half past the raw cutoff, their minutes past the minute
cutoff, in bounded batches.

Hours wholly before a cutoff lose that half (a row left with neither is deleted); the hour a
cutoff falls in is repacked without what lies before it, so packed data goes at exactly the
instant hot rows do. Each batch is a transaction under the (check, region) locks writers take.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, select, tuple_

from tasks.store.locks import lock_check_pairs
from tasks.store.packed_codec import PackedColumns
from tasks.store.packed_hours import (
    HOUR,
    HourKey,
    clear_half,
    load_hours,
    load_minutes,
    save_hours,
    save_minutes,
)
from tasks.store.packed_models import CheckPackedHour
from tasks.store.rollup_cells import Bucket

__all__ = ["expire_packed"]

_PACKED = CheckPackedHour.metadata.tables[CheckPackedHour.__tablename__]


def expire_packed(engine: Engine, raw_cut: int, minute_cut: int, batch: int) -> tuple[int, int]:
    """Remove packed results started before ``raw_cut`` and packed minutes before
    ``minute_cut`` (epoch seconds).

    Returns:
        Results removed, minute buckets removed.
    """
    results = _clear_before(engine, "raw", _PACKED.c.results, raw_cut, batch)
    results += _trim(engine, raw_cut, batch, _PACKED.c.raw, _trim_raw)
    minutes = _clear_before(engine, "minutes", _PACKED.c.minute_buckets, minute_cut, batch)
    minutes += _trim(engine, minute_cut, batch, _PACKED.c.minutes, _trim_minutes)
    return results, minutes


def _clear_before(engine: Engine, half: str, count: Any, cutoff: int, batch: int) -> int:
    """Clear ``half`` of every hour wholly before ``cutoff``; returns what it held."""
    removed = 0
    pick = (
        select(_PACKED.c.check_id, _PACKED.c.region, _PACKED.c.hour_start, count)
        .where(_PACKED.c[half].is_not(None), _PACKED.c.hour_start <= cutoff - HOUR)
        .limit(batch)
    )
    while True:
        with engine.begin() as conn:
            found = list(conn.execute(pick))
            clear_half(conn, half, [(c, r, h) for c, r, h, _ in found])
        removed += sum(n for *_, n in found)
        if len(found) < batch:
            return removed


Trim = Callable[[Connection, ColumnElement[bool], int], int]


def _trim(engine: Engine, cutoff: int, batch: int, column: Any, trim: Trim) -> int:
    """Repack the hour ``cutoff`` falls in without what lies before it, ``batch`` pairs at once."""
    hour = cutoff - cutoff % HOUR
    if hour == cutoff:
        return 0
    removed = 0
    after: tuple[str, str] = ("", "")
    pair = tuple_(_PACKED.c.check_id, _PACKED.c.region)
    while True:
        with engine.begin() as conn:
            pairs = [
                (c, r)
                for c, r in conn.execute(
                    select(_PACKED.c.check_id, _PACKED.c.region)
                    .where(_PACKED.c.hour_start == hour, column.is_not(None), pair > tuple_(*after))
                    .order_by(_PACKED.c.check_id, _PACKED.c.region)
                    .limit(batch)
                )
            ]
            if not pairs:
                return removed
            lock_check_pairs(conn, set(pairs))
            removed += trim(conn, (_PACKED.c.hour_start == hour) & pair.in_(pairs), cutoff)
        if len(pairs) < batch:
            return removed
        after = pairs[-1]


def _trim_raw(conn: Connection, where: ColumnElement[bool], cutoff: int) -> int:
    changed: dict[HourKey, PackedColumns] = {}
    removed = 0
    for key, cols in load_hours(conn, where).items():
        keep = cols.started_us >= cutoff * 1_000_000
        if not keep.all():
            changed[key] = cols.take(keep)
            removed += int((~keep).sum())
    save_hours(conn, changed)
    return removed


def _trim_minutes(conn: Connection, where: ColumnElement[bool], cutoff: int) -> int:
    changed: dict[HourKey, Mapping[int, Bucket]] = {}
    removed = 0
    for key, buckets in load_minutes(conn, where).items():
        kept = {m: b for m, b in buckets.items() if m >= cutoff}
        if len(kept) < len(buckets):
            changed[key] = kept
            removed += len(buckets) - len(kept)
    save_minutes(conn, changed)
    return removed
