"""Reading and writing packed hours (:class:`~tasks.store.packed_models.CheckPackedHour`).

A slot lives in exactly one place: a hot row of ``check_results`` or one packed hour. Writers
replacing a slot take it out of its packed hour (:func:`take_slots`) in their transaction;
compaction merges hot rows into the packed hour of their start (:func:`save_hours`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Connection, bindparam, select

from tasks.store.packed_codec import PackedColumns, decode_hour, encode_hour, to_micros
from tasks.store.packed_models import CheckPackedHour
from tasks.store.sql import dialect_insert, execute_many

__all__ = ["HOUR", "HourKey", "load_hours", "save_hours", "take_slots"]

HOUR = 3600
HourKey = tuple[str, str, int]  # check_id, region, hour start (epoch seconds)
_PACKED = CheckPackedHour.metadata.tables[CheckPackedHour.__tablename__]


def load_hours(conn: Connection, *where: ColumnElement[bool]) -> dict[HourKey, PackedColumns]:
    """The packed hours matching ``where``, decoded."""
    stmt = select(_PACKED.c.check_id, _PACKED.c.region, _PACKED.c.hour_start, _PACKED.c.raw)
    out = {}
    for check, region, hour, raw in conn.execute(stmt.where(*where)):
        try:
            out[check, region, hour] = decode_hour(hour, raw)
        except ValueError as exc:
            raise ValueError(f"{_PACKED.name} ({check}, {region}): {exc}") from None
    return out


def save_hours(conn: Connection, hours: Mapping[HourKey, PackedColumns]) -> None:
    """Make the stored packed hours ``hours`` hold exactly these columns (empty: removed)."""
    empty = [{"c": c, "r": r, "h": h} for (c, r, h), cols in hours.items() if not len(cols)]
    if empty:
        conn.execute(
            _PACKED.delete().where(
                _PACKED.c.check_id == bindparam("c"),
                _PACKED.c.region == bindparam("r"),
                _PACKED.c.hour_start == bindparam("h"),
            ),
            empty,
        )
    values = [
        {
            "check_id": c,
            "region": r,
            "hour_start": h,
            "results": len(cols),
            "first_scheduled": int(cols.scheduled_us.min()) // 1_000_000,
            "last_scheduled": int(cols.scheduled_us.max()) // 1_000_000,
            "raw": encode_hour(h, cols),
        }
        for (c, r, h), cols in hours.items()
        if len(cols)
    ]
    execute_many(conn, _upsert(conn.dialect.name), values)


def take_slots(
    conn: Connection, slots: Iterable[tuple[str, str, Any]]
) -> list[tuple[str, str, int]]:
    """Remove the slots ``(check, region, scheduled_at)`` from the packed hours holding them.

    Returns:
        Where each removed result started ``(check, region, epoch second)``: its minute changes.
    """
    wanted = {(c, r, to_micros(s)) for c, r, s in slots}
    if not wanted:
        return []
    seconds = [s // 1_000_000 for _, _, s in wanted]
    # Packed hours are older than the compaction age: a write of recent slots finds none here
    # through the index on last_scheduled without looking at any check's history.
    hours = load_hours(
        conn,
        _PACKED.c.last_scheduled >= min(seconds),
        _PACKED.c.first_scheduled <= max(seconds),
        _PACKED.c.check_id.in_(sorted({c for c, _, _ in wanted})),
    )
    changed: dict[HourKey, PackedColumns] = {}
    removed = []
    for (check, region, hour), cols in hours.items():
        hit = np.array([(check, region, int(s)) in wanted for s in cols.scheduled_us], dtype=bool)
        if hit.any():
            changed[check, region, hour] = cols.take(~hit)
            removed += [(check, region, int(t) // 1_000_000) for t in cols.started_us[hit]]
    save_hours(conn, changed)
    return removed


@cache
def _upsert(dialect: str) -> Any:
    stmt = dialect_insert(dialect)(_PACKED)
    key = ("check_id", "region", "hour_start")
    return stmt.on_conflict_do_update(
        index_elements=key,
        set_={c.name: stmt.excluded[c.name] for c in _PACKED.c if c.name not in key},
    )
