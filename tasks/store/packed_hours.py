"""Reading and writing packed hours (:class:`~tasks.store.packed_models.CheckPackedHour`).

A slot lives in exactly one place: a hot row of ``check_results`` or one packed hour. Writers
replacing a slot take it out of its packed hour (:func:`take_slots`) in their transaction;
compaction merges hot rows into the packed hour of their start (:func:`save_hours`). Minute
rollups likewise: a minute recomputed by a write is taken out of its packed hour
(:func:`take_minutes`) and kept as a hot row until compaction packs it again
(:func:`save_minutes`). The raw and minute halves of a row are written apart; a row left with
neither is deleted.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import ColumnElement, Connection, and_, bindparam, or_, select

from tasks.store.minute_codec import (
    MinuteSums,
    decode_minute_sums,
    decode_minutes,
    encode_minutes,
)
from tasks.store.packed_codec import (
    PackedColumns,
    decode_hour,
    decode_starts,
    encode_hour,
    to_micros,
)
from tasks.store.packed_models import CheckPackedHour
from tasks.store.rollup_cells import VERDICT_COLUMNS, Bucket
from tasks.store.sql import dialect_insert, execute_many

__all__ = [
    "HOUR",
    "HourKey",
    "PackedMinuteSums",
    "clear_half",
    "held_minutes",
    "load_hours",
    "load_minutes",
    "read_packed_minute_sums",
    "read_packed_minutes",
    "save_hours",
    "save_minutes",
    "take_minutes",
    "take_slots",
]

HOUR = 3600
HourKey = tuple[str, str, int]  # check_id, region, hour start (epoch seconds)
_PACKED = CheckPackedHour.metadata.tables[CheckPackedHour.__tablename__]
_T = TypeVar("_T")


def load_hours(conn: Connection, *where: ColumnElement[bool]) -> dict[HourKey, PackedColumns]:
    """The packed hours matching ``where``, decoded."""
    stmt = select(_PACKED.c.check_id, _PACKED.c.region, _PACKED.c.hour_start, _PACKED.c.raw)
    out = {}
    for check, region, hour, raw in conn.execute(stmt.where(_PACKED.c.raw.is_not(None), *where)):
        try:
            out[check, region, hour] = decode_hour(hour, raw)
        except ValueError as exc:
            raise ValueError(f"{_PACKED.name} ({check}, {region}): {exc}") from None
    return out


def save_hours(conn: Connection, hours: Mapping[HourKey, PackedColumns]) -> None:
    """Make the raw results of the packed hours ``hours`` exactly these (empty: none)."""
    clear_half(conn, "raw", [k for k, cols in hours.items() if not len(cols)])
    values = [
        {
            "check_id": c,
            "region": r,
            "hour_start": h,
            "results": len(cols),
            "first_scheduled": int(cols.scheduled_us.min()) // 1_000_000,
            "last_scheduled": int(cols.scheduled_us.max()) // 1_000_000,
            "raw": encode_hour(h, cols),
            "minute_buckets": 0,
            "minutes": None,
        }
        for (c, r, h), cols in hours.items()
        if len(cols)
    ]
    execute_many(conn, _upsert(conn.dialect.name, _RAW_HALF), values)


def load_minutes(
    conn: Connection, *where: ColumnElement[bool], wanted: Callable[[int], bool] | None = None
) -> dict[HourKey, dict[int, Bucket]]:
    """The packed minute rollups of the hours matching ``where``, by bucket start (only the
    minutes ``wanted`` accepts, if given)."""
    return {
        key: decoded
        for key, decoded in _decoded(conn, where, partial(decode_minutes, wanted=wanted))
    }


def _decoded(
    conn: Connection, where: Iterable[ColumnElement[bool]], decode: Callable[[int, bytes], _T]
) -> Iterator[tuple[HourKey, _T]]:
    """Each packed hour matching ``where`` with its minutes decoded by ``decode``."""
    stmt = select(_PACKED.c.check_id, _PACKED.c.region, _PACKED.c.hour_start, _PACKED.c.minutes)
    # Fetched at once: row-at-a-time fetching cost more than decoding the hours' sums.
    for check, region, hour, payload in conn.execute(
        stmt.where(_PACKED.c.minutes.is_not(None), *where)
    ).all():
        try:
            yield (check, region, hour), decode(hour, payload)
        except ValueError as exc:
            raise ValueError(f"{_PACKED.name} ({check}, {region}): {exc}") from None


def save_minutes(conn: Connection, hours: Mapping[HourKey, Mapping[int, Bucket]]) -> None:
    """Make the packed minute rollups of ``hours`` exactly these (empty: none)."""
    clear_half(conn, "minutes", [k for k, buckets in hours.items() if not buckets])
    values = [
        {
            "check_id": c,
            "region": r,
            "hour_start": h,
            "results": 0,
            "first_scheduled": h,
            "last_scheduled": h,
            "raw": None,
            "minute_buckets": len(buckets),
            "minutes": encode_minutes(h, buckets),
        }
        for (c, r, h), buckets in hours.items()
        if buckets
    ]
    execute_many(conn, _upsert(conn.dialect.name, _MINUTE_HALF), values)


def read_packed_minutes(
    conn: Connection, check_ids: Iterable[str], spans: Iterable[tuple[int, int]]
) -> list[tuple[str, str, int, Bucket]]:
    """Packed minute rollups of ``check_ids`` whose bucket starts in one of ``spans``."""
    where, inside = _in_spans(check_ids, spans)
    if where is None:
        return []
    return [
        (check, region, start, bucket)
        for (check, region, _), buckets in _decoded(
            conn, where, partial(decode_minutes, wanted=inside.contains)
        )
        for start, bucket in buckets.items()
    ]


@dataclass(frozen=True)
class PackedMinuteSums:
    """Verdict sums of packed minutes, minute ``i`` of the check and region ``pairs[pair[i]]``."""

    pairs: list[tuple[str, str]]
    pair: np.ndarray
    minutes: MinuteSums

    def __len__(self) -> int:
        return len(self.pair)


def read_packed_minute_sums(
    conn: Connection, check_ids: Iterable[str], spans: Iterable[tuple[int, int]]
) -> PackedMinuteSums:
    """The verdict sums of the packed minutes of ``check_ids`` in ``spans`` (see
    :mod:`tasks.store.minute_codec`): only each hour's fixed-layout sums are decoded."""
    where, inside = _in_spans(check_ids, spans)
    hours = list(_decoded(conn, where, decode_minute_sums)) if where is not None else []
    index: dict[tuple[str, str], int] = {}
    pair = np.repeat(
        np.array([index.setdefault((c, r), len(index)) for (c, r, _), _ in hours], np.int64),
        [len(sums) for _, sums in hours],
    )
    parts = [sums for _, sums in hours] or [_NO_SUMS]
    start = np.concatenate([s.start for s in parts])
    keep = inside.mask(start)
    return PackedMinuteSums(
        pairs=list(index),
        pair=pair[keep],
        minutes=MinuteSums(
            start[keep],
            np.concatenate([s.counts for s in parts])[keep],
            np.concatenate([s.last for s in parts])[keep],
        ),
    )


_NO_SUMS = MinuteSums(
    np.empty(0, np.int64),
    np.empty((0, len(VERDICT_COLUMNS)), np.int64),
    np.empty((0, len(VERDICT_COLUMNS)), np.int64),
)


class _Spans:
    """A union of ``[start, end)`` spans of epoch seconds (spans may be days of minutes, so no
    set of them)."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        merged: list[tuple[int, int]] = []
        for a, b in sorted((a, b) for a, b in spans if a < b):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self.spans = merged
        self.starts = np.array([a for a, _ in merged], dtype=np.int64)
        self.ends = np.array([b for _, b in merged], dtype=np.int64)

    def contains(self, at: int) -> bool:
        i = bisect_right(self.spans, (at, float("inf"))) - 1
        return i >= 0 and at < self.spans[i][1]

    def mask(self, at: np.ndarray) -> np.ndarray:
        if not self.spans:
            return np.zeros(len(at), dtype=bool)
        i = np.searchsorted(self.starts, at, side="right") - 1
        return (i >= 0) & (at < self.ends[np.maximum(i, 0)])


def _in_spans(
    check_ids: Iterable[str], spans: Iterable[tuple[int, int]]
) -> tuple[list[ColumnElement[bool]] | None, _Spans]:
    """The packed hours of ``check_ids`` overlapping ``spans``, and the spans' union."""
    checks, inside = sorted(set(check_ids)), _Spans(spans)
    if not checks or not inside.spans:
        return None, inside
    where = [
        _PACKED.c.check_id.in_(checks),
        or_(
            *(
                and_(_PACKED.c.hour_start > a - HOUR, _PACKED.c.hour_start < b)
                for a, b in inside.spans
            )
        ),
    ]
    return where, inside


def held_minutes(conn: Connection, start: int, end: int) -> set[tuple[str, str, int]]:
    """Every ``(check, region, minute)`` in ``[start, end)`` with a packed raw result or a
    packed minute rollup: only the raw starts and the minutes' sums are decoded."""
    stmt = select(
        _PACKED.c.check_id, _PACKED.c.region, _PACKED.c.hour_start, _PACKED.c.raw, _PACKED.c.minutes
    ).where(_PACKED.c.hour_start > start - HOUR, _PACKED.c.hour_start < end)
    held: set[tuple[str, str, int]] = set()
    for check, region, hour, raw, minutes in conn.execute(stmt):
        try:
            found = [decode_starts(hour, raw) // 1_000_000] if raw is not None else []
            if minutes is not None:
                found.append(decode_minute_sums(hour, minutes).start)
        except ValueError as exc:
            raise ValueError(f"{_PACKED.name} ({check}, {region}): {exc}") from None
        at = np.concatenate(found or [np.empty(0, np.int64)])
        at = np.unique(at - at % 60)
        held.update((check, region, m) for m in at[(at >= start) & (at < end)].tolist())
    return held


def take_minutes(conn: Connection, minutes: Iterable[tuple[str, str, int]]) -> None:
    """Remove the minute buckets ``(check, region, bucket start)`` from their packed hours."""
    wanted = set(minutes)
    if not wanted:
        return
    starts = [m for _, _, m in wanted]
    hours = load_minutes(
        conn,
        _PACKED.c.check_id.in_(sorted({c for c, _, _ in wanted})),
        _PACKED.c.hour_start > min(starts) - HOUR,
        _PACKED.c.hour_start <= max(starts),
    )
    changed = {}
    for (check, region, hour), buckets in hours.items():
        kept = {m: b for m, b in buckets.items() if (check, region, m) not in wanted}
        if len(kept) < len(buckets):
            changed[check, region, hour] = kept
    save_minutes(conn, changed)


def clear_half(conn: Connection, half: str, keys: list[HourKey]) -> None:
    """Null one half (``raw`` or ``minutes``) of the rows ``keys``; delete those left with
    neither half."""
    if not keys:
        return
    count = "results" if half == "raw" else "minute_buckets"
    params = [{"c": c, "r": r, "h": h} for c, r, h in keys]
    key = and_(
        _PACKED.c.check_id == bindparam("c"),
        _PACKED.c.region == bindparam("r"),
        _PACKED.c.hour_start == bindparam("h"),
    )
    conn.execute(_PACKED.update().where(key).values({half: None, count: 0}), params)
    conn.execute(
        _PACKED.delete().where(key, _PACKED.c.raw.is_(None), _PACKED.c.minutes.is_(None)), params
    )


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


_RAW_HALF = ("results", "first_scheduled", "last_scheduled", "raw")
_MINUTE_HALF = ("minute_buckets", "minutes")


@cache
def _upsert(dialect: str, half: tuple[str, ...]) -> Any:
    """Insert a row, or update only ``half`` of an existing one."""
    stmt = dialect_insert(dialect)(_PACKED)
    return stmt.on_conflict_do_update(
        index_elements=("check_id", "region", "hour_start"),
        set_={name: stmt.excluded[name] for name in half},
    )
