"""The one reader of raw check results: hot rows of ``check_results`` and packed hours together.

Every reader of raw results (SLO sources, rollup refreshes and rebuilds, metrics, status pages,
chaos verification) goes through :func:`read_raw`, so a result reads the same whether it is
still a row or already packed (:mod:`tasks.store.packed_hours`), and is never read twice: a slot
lives in exactly one of the two places.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, FromClause, and_, func, select

from tasks.store.models import CheckResult
from tasks.store.packed_codec import DICT_FIELDS, PackedColumns, object_array, to_micros
from tasks.store.packed_hours import HOUR, load_hours
from tasks.store.packed_models import CheckPackedHour
from tasks.store.sql import epoch_micros

__all__ = ["EXTRA_FIELDS", "RawRows", "read_newest", "read_raw"]

_RAW = CheckResult.metadata.tables[CheckResult.__tablename__]
_PACKED = CheckPackedHour.metadata.tables[CheckPackedHour.__tablename__]
# Columns a reader may ask for beyond the ones every read returns.
EXTRA_FIELDS = tuple(f for f in DICT_FIELDS if f not in ("verdict", "simulated"))


@dataclass(frozen=True)
class RawRows:
    """Raw results as aligned numpy columns, ordered by start (then check, region and slot).

    ``scheduled_us`` and ``started_us`` are epoch microseconds; ``duration_ms`` is NaN where no
    request was made; ``extra`` holds the :data:`EXTRA_FIELDS` the reader asked for.
    """

    check_id: np.ndarray
    region: np.ndarray
    scheduled_us: np.ndarray
    started_us: np.ndarray
    verdict: np.ndarray
    duration_ms: np.ndarray
    simulated: np.ndarray
    extra: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.check_id)

    @property
    def started_s(self) -> np.ndarray:
        """Whole epoch seconds of each start (truncated, as the SLO engine counts)."""
        return self.started_us // 1_000_000


def read_raw(
    conn: Connection,
    check_ids: Iterable[str] | None,
    start: datetime | None,
    end: datetime | None,
    regions: Sequence[str] | None = None,
    extra: Sequence[str] = (),
) -> RawRows:
    """Results with ``start <= started_at < end`` (None: unbounded) of ``check_ids`` (None: all).

    Args:
        conn: a connection to the store.
        check_ids: checks to read; None reads every check.
        start: inclusive lower bound of the start (timezone-aware), or None.
        end: exclusive upper bound of the start, or None.
        regions: only these regions (None: all).
        extra: more of :data:`EXTRA_FIELDS` to return in :attr:`RawRows.extra`.
    """
    unknown = sorted(set(extra) - set(EXTRA_FIELDS))
    if unknown:
        raise ValueError(f"read_raw cannot return {', '.join(unknown)}")
    checks = None if check_ids is None else sorted(set(check_ids))
    hot = _read_hot(conn, _RAW, checks, start, end, regions, extra)
    packed = _read_packed(conn, checks, start, end, regions, extra)
    if not len(packed.check_id):
        return hot
    if not len(hot.check_id):
        return packed
    merged = _concat([packed, hot])
    return _ordered(merged, np.argsort(merged.started_us, kind="stable"))


_CORE = (
    "check_id",
    "region",
    "scheduled_us",
    "started_us",
    "verdict",
    "duration_ms",
    "simulated",
)


def _concat(parts: Sequence[RawRows]) -> RawRows:
    core = {f: np.concatenate([getattr(p, f) for p in parts]) for f in _CORE}
    extra = {f: np.concatenate([p.extra[f] for p in parts]) for f in parts[0].extra}
    return RawRows(**core, extra=extra)


def _ordered(rows: RawRows, order: np.ndarray) -> RawRows:
    core = {f: getattr(rows, f)[order] for f in _CORE}
    return RawRows(**core, extra={f: v[order] for f, v in rows.extra.items()})


def _read_hot(
    conn: Connection,
    source: FromClause,
    checks: list[str] | None,
    start: datetime | None,
    end: datetime | None,
    regions: Sequence[str] | None,
    extra: Sequence[str],
) -> RawRows:
    dialect = conn.dialect.name
    stmt = (
        select(
            _RAW.c.check_id,
            _RAW.c.region,
            epoch_micros(dialect, _RAW.c.scheduled_at),
            epoch_micros(dialect, _RAW.c.started_at),
            _RAW.c.verdict,
            _RAW.c.duration_ms,
            _RAW.c.simulated,
            *(_RAW.c[f] for f in extra),
        )
        .select_from(source)
        .order_by(_RAW.c.started_at, _RAW.c.check_id, _RAW.c.region, _RAW.c.scheduled_at)
    )
    if start is not None:
        stmt = stmt.where(_RAW.c.started_at >= start)
    if end is not None:
        stmt = stmt.where(_RAW.c.started_at < end)
    if checks is not None:
        stmt = stmt.where(_RAW.c.check_id.in_(checks))
    if regions is not None:
        stmt = stmt.where(_RAW.c.region.in_(list(regions)))
    rows = conn.execute(stmt).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * (7 + len(extra))
    return RawRows(
        check_id=np.array(columns[0], dtype=object),
        region=np.array(columns[1], dtype=object),
        scheduled_us=np.array(columns[2], dtype=np.int64),
        started_us=np.array(columns[3], dtype=np.int64),
        verdict=np.array(columns[4], dtype=object),
        duration_ms=np.array([np.nan if d is None else d for d in columns[5]], dtype=np.float64),
        simulated=np.array(columns[6], dtype=bool),
        extra={f: object_array(columns[7 + i]) for i, f in enumerate(extra)},
    )


def _read_packed(
    conn: Connection,
    checks: list[str] | None,
    start: datetime | None,
    end: datetime | None,
    regions: Sequence[str] | None,
    extra: Sequence[str],
) -> RawRows:
    where = []
    lo = None if start is None else to_micros(start)
    hi = None if end is None else to_micros(end)
    if lo is not None:
        first_second = lo // 1_000_000
        where.append(_PACKED.c.hour_start >= first_second - first_second % HOUR)
    if hi is not None:
        where.append(_PACKED.c.hour_start * 1_000_000 < hi)
    if checks is not None:
        where.append(_PACKED.c.check_id.in_(checks))
    if regions is not None:
        where.append(_PACKED.c.region.in_(list(regions)))
    hours = load_hours(conn, *where)
    parts: list[tuple[str, str, PackedColumns]] = []
    for (check, region, _), cols in hours.items():
        keep = np.ones(len(cols), dtype=bool)
        if lo is not None:
            keep &= cols.started_us >= lo
        if hi is not None:
            keep &= cols.started_us < hi
        if keep.any():
            parts.append((check, region, cols.take(keep)))
    sizes = [len(cols) for _, _, cols in parts]
    rows = RawRows(
        check_id=np.repeat(np.array([c for c, _, _ in parts], dtype=object), sizes),
        region=np.repeat(np.array([r for _, r, _ in parts], dtype=object), sizes),
        scheduled_us=_joined([p.scheduled_us for _, _, p in parts], np.int64),
        started_us=_joined([p.started_us for _, _, p in parts], np.int64),
        verdict=_joined([p.values["verdict"] for _, _, p in parts], object),
        duration_ms=_joined([p.duration_ms for _, _, p in parts], np.float64),
        simulated=_joined([p.values["simulated"] for _, _, p in parts], bool),
        extra={f: _joined([p.values[f] for _, _, p in parts], object) for f in extra},
    )
    if not len(rows.check_id):
        return rows
    order = np.lexsort((rows.region.astype(str), rows.check_id.astype(str), rows.started_us))
    return _ordered(rows, order)


def _joined(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    if not arrays:
        return np.array([], dtype=dtype)
    return np.concatenate(arrays).astype(dtype)


def read_newest(
    conn: Connection,
    since: datetime,
    *,
    include_simulated: bool = False,
    extra: Sequence[str] = (),
) -> RawRows:
    """The newest result (by slot) of every (check, region) that started at or after ``since``.

    Hot rows answer in one query (the newest slot per pair through the ``started_at`` index,
    joined back on the unique key); packed hours only hold results older than the compaction
    age, so they are read only when ``since`` reaches back that far. Ordered by check and region.
    """
    newest = (
        select(_RAW.c.check_id, _RAW.c.region, func.max(_RAW.c.scheduled_at).label("latest"))
        .where(_RAW.c.started_at >= since)
        .group_by(_RAW.c.check_id, _RAW.c.region)
    )
    if not include_simulated:
        newest = newest.where(_RAW.c.simulated.is_(False))
    latest = newest.subquery()
    on_key = and_(
        _RAW.c.check_id == latest.c.check_id,
        _RAW.c.region == latest.c.region,
        _RAW.c.scheduled_at == latest.c.latest,
    )
    hot = _read_hot(conn, _RAW.join(latest, on_key), None, None, None, None, extra)
    packed = _read_packed(conn, None, since, None, None, extra)
    if not include_simulated:
        packed = _ordered(packed, np.flatnonzero(~packed.simulated))
    candidates = _concat([packed, hot])
    best: dict[tuple[str, str], int] = {}
    slots = candidates.scheduled_us.tolist()
    pairs = zip(candidates.check_id.tolist(), candidates.region.tolist(), strict=True)
    for i, pair in enumerate(pairs):
        held = best.get(pair)
        if held is None or slots[i] > slots[held]:
            best[pair] = i
    return _ordered(candidates, np.array([best[k] for k in sorted(best)], dtype=np.int64))
