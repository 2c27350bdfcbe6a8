"""Compaction: hot raw results and minute rollups older than the compaction age become packed hours.

What TimescaleDB's compression does, in the store's own tables on SQLite and PostgreSQL alike:
every (check, region, hour) before the cutoff (the hour at or before ``now -
compact_after_hours``) with hot raw results or hot minute rollups is encoded into one row of
``check_packed_hours`` (raw: :mod:`tasks.store.packed_codec`, minutes:
:mod:`tasks.store.minute_codec`; merged with what that row already holds, if a late write left
rows behind) and its hot rows are deleted, in the same transaction and under the (check,
region) locks every writer takes, so a slot and a minute are always in exactly one place.

Batches of ``batch`` hours are a transaction each: a run cut short leaves what it packed packed
and what it did not hot, and the next run picks up the hot hours that are left. The mark
:data:`COMPACTION_MARK` records the cutoff of the last run that finished (``traceo store
status`` shows it). On PostgreSQL a day's partition of ``check_results`` that holds no row any
more is then dropped, which is what gives its space back.

Packed minutes an older format version wrote (:mod:`tasks.store.minute_codec`) are rewritten in
the current one, ``batch`` hours per transaction, by the first run after an upgrade (a mark then
records that none are left, so later runs do not scan the table), so a store upgraded in place
reads its window edges at the current format's speed from then on, not only once its old hours
have aged out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    bindparam,
    func,
    literal_column,
    select,
    union,
)

from tasks.store.locks import lock_check_pairs
from tasks.store.marks import get_mark, set_mark
from tasks.store.minute_codec import MINUTES_FORMAT_VERSION
from tasks.store.models import CheckResult
from tasks.store.packed_codec import PackedColumns
from tasks.store.packed_hours import (
    HOUR,
    HourKey,
    load_hours,
    load_minutes,
    save_hours,
    save_minutes,
)
from tasks.store.packed_models import CheckPackedHour
from tasks.store.partitions import drop_empty_day, expired_days
from tasks.store.rollup_cells import VERDICT_COLUMNS, Bucket
from tasks.store.rollup_models import CheckRollup
from tasks.store.rollups import MINUTE
from tasks.store.sql import epoch_seconds

__all__ = ["COMPACTION_MARK", "CompactionReport", "compact_check_results", "compaction_cutoff"]

COMPACTION_MARK = "compaction:check_results"
# Set once every packed hour's minutes are in the current format (the table is not scanned again).
_MINUTES_CURRENT_MARK = f"compaction:minutes_v{MINUTES_FORMAT_VERSION}"
_RAW = CheckResult.metadata.tables[CheckResult.__tablename__]
_PACKED = CheckPackedHour.metadata.tables[CheckPackedHour.__tablename__]
_ROLLUPS = CheckRollup.metadata.tables[CheckRollup.__tablename__]
_ROW_FIELDS = [c.name for c in _RAW.c if c.name not in ("id", "check_id", "region")]


@dataclass(frozen=True)
class CompactionReport:
    cutoff: int
    hours_packed: int
    results_packed: int
    partitions_dropped: int
    minutes_repacked: int = 0


def compaction_cutoff(now: datetime, after_hours: int) -> int:
    """Epoch seconds before which results are packed: a whole hour, ``after_hours`` back."""
    at = int((now - timedelta(hours=after_hours)).timestamp())
    return at - at % HOUR


def compact_check_results(
    engine: Engine, now: datetime, after_hours: int, batch: int = 500
) -> CompactionReport:
    """Pack every hot hour that started before the cutoff, ``batch`` hours per transaction.

    Args:
        engine: the store.
        now: the instant the compaction age is counted from.
        after_hours: the compaction age (``TRACEO_COMPACT_AFTER_HOURS``).
        batch: (check, region, hour) groups packed per transaction.
    """
    cutoff = compaction_cutoff(now, after_hours)
    hours = results = 0
    while True:
        with engine.begin() as conn:
            groups = _hot_hours(conn, cutoff, batch)
            if groups:
                results += _pack(conn, groups)
        hours += len(groups)
        if len(groups) < batch:
            break
    repacked = 0
    with engine.connect() as conn:
        rewritten = get_mark(conn, _MINUTES_CURRENT_MARK) is not None
    while not rewritten:  # only the current version is written, so once is enough
        with engine.begin() as conn:
            older = _older_minutes(conn, batch)
            _repack_minutes(conn, older)
            rewritten = len(older) < batch
            if rewritten:
                set_mark(conn, _MINUTES_CURRENT_MARK, cutoff)
        repacked += len(older)
    dropped = 0
    with engine.connect() as conn:
        days = expired_days(conn, datetime.fromtimestamp(cutoff, UTC))
    for day in days:  # PostgreSQL only: one day per transaction
        with engine.begin() as conn:
            dropped += drop_empty_day(conn, day)
    with engine.begin() as conn:
        set_mark(conn, COMPACTION_MARK, cutoff)
    return CompactionReport(cutoff, hours, results, dropped, repacked)


def _older_minutes(conn: Connection, batch: int) -> list[HourKey]:
    """The first ``batch`` packed hours whose minutes an older format version wrote."""
    stmt = (
        select(_PACKED.c.check_id, _PACKED.c.region, _PACKED.c.hour_start)
        .where(
            _PACKED.c.minutes.is_not(None),
            func.substr(_PACKED.c.minutes, 1, 1) != bytes([MINUTES_FORMAT_VERSION]),
        )
        .order_by(_PACKED.c.hour_start, _PACKED.c.check_id, _PACKED.c.region)
        .limit(batch)
    )
    return [(c, r, int(h)) for c, r, h in conn.execute(stmt)]


def _repack_minutes(conn: Connection, keys: list[HourKey]) -> None:
    """Rewrite the packed minutes of ``keys`` in the current format version."""
    if not keys:
        return
    lock_check_pairs(conn, {(c, r) for c, r, _ in keys})
    wanted = set(keys)
    hours = load_minutes(
        conn,
        _PACKED.c.check_id.in_(sorted({c for c, _, _ in keys})),
        _PACKED.c.hour_start >= min(h for _, _, h in keys),
        _PACKED.c.hour_start <= max(h for _, _, h in keys),
    )
    save_minutes(conn, {key: buckets for key, buckets in hours.items() if key in wanted})


def _hot_hours(conn: Connection, cutoff: int, batch: int) -> list[HourKey]:
    """The first ``batch`` (check, region, hour) before ``cutoff`` with a hot result or a hot
    minute rollup."""
    hour_width: ColumnElement[int] = literal_column(str(HOUR))
    started = epoch_seconds(conn.dialect.name, _RAW.c.started_at)
    raw_hour = started - started % hour_width
    raw = (
        select(_RAW.c.check_id, _RAW.c.region, raw_hour.label("hour"))
        .where(_RAW.c.started_at < datetime.fromtimestamp(cutoff, UTC))
        .group_by(_RAW.c.check_id, _RAW.c.region, raw_hour)
    )
    minute_hour = _ROLLUPS.c.bucket_start - _ROLLUPS.c.bucket_start % hour_width
    minutes = (
        select(_ROLLUPS.c.check_id, _ROLLUPS.c.region, minute_hour.label("hour"))
        .where(_ROLLUPS.c.resolution == MINUTE, _ROLLUPS.c.bucket_start < cutoff)
        .group_by(_ROLLUPS.c.check_id, _ROLLUPS.c.region, minute_hour)
    )
    both = union(raw, minutes).subquery()
    stmt = (
        select(both.c.check_id, both.c.region, both.c.hour)
        .order_by(both.c.hour, both.c.check_id, both.c.region)
        .limit(batch)
    )
    return [(c, r, int(h)) for c, r, h in conn.execute(stmt)]


def _pack(conn: Connection, groups: list[HourKey]) -> int:
    """Move the hot rows of ``groups`` into their packed hours; returns the results moved."""
    lock_check_pairs(conn, {(c, r) for c, r, _ in groups})
    wanted = set(groups)
    first, last = min(h for _, _, h in groups), max(h for _, _, h in groups) + HOUR
    stmt = select(_RAW.c.check_id, _RAW.c.region, *(_RAW.c[f] for f in _ROW_FIELDS)).where(
        _RAW.c.check_id.in_(sorted({c for c, _, _ in groups})),
        _RAW.c.started_at >= datetime.fromtimestamp(first, UTC),
        _RAW.c.started_at < datetime.fromtimestamp(last, UTC),
    )
    hot: dict[HourKey, list[dict[str, object]]] = {}
    for row in conn.execute(stmt).mappings():
        at = int(row["started_at"].timestamp())
        key = (row["check_id"], row["region"], at - at % HOUR)
        if key in wanted:
            hot.setdefault(key, []).append(dict(row))
    packed = load_hours(
        conn,
        _PACKED.c.check_id.in_(sorted({c for c, _, _ in groups})),
        _PACKED.c.hour_start >= first,
        _PACKED.c.hour_start < last,
    )
    merged = {
        key: PackedColumns.concat(
            [p for p in (packed.get(key), PackedColumns.from_rows(rows)) if p is not None]
        )
        for key, rows in hot.items()
    }
    save_hours(conn, merged)
    _pack_minutes(conn, groups, first, last)
    if not hot:  # only minute rollups were hot in these hours
        return 0
    conn.execute(
        _RAW.delete().where(
            _RAW.c.check_id == bindparam("c"),
            _RAW.c.region == bindparam("r"),
            _RAW.c.started_at >= bindparam("a"),
            _RAW.c.started_at < bindparam("b"),
        ),
        [
            {
                "c": c,
                "r": r,
                "a": datetime.fromtimestamp(h, UTC),
                "b": datetime.fromtimestamp(h + HOUR, UTC),
            }
            for c, r, h in hot
        ],
    )
    return sum(len(rows) for rows in hot.values())


def _pack_minutes(conn: Connection, groups: list[HourKey], first: int, last: int) -> None:
    """Move the hot minute rollups of ``groups`` into their packed hours."""
    wanted = set(groups)
    checks = sorted({c for c, _, _ in groups})
    counts = [f"{verdict}_count" for verdict in VERDICT_COLUMNS]
    stmt = select(
        _ROLLUPS.c.check_id,
        _ROLLUPS.c.region,
        _ROLLUPS.c.bucket_start,
        _ROLLUPS.c.latency_sum_ms,
        _ROLLUPS.c.cells,
        *(_ROLLUPS.c[name] for name in counts),
    ).where(
        _ROLLUPS.c.resolution == MINUTE,
        _ROLLUPS.c.check_id.in_(checks),
        _ROLLUPS.c.bucket_start >= first,
        _ROLLUPS.c.bucket_start < last,
    )
    hot: dict[HourKey, dict[int, Bucket]] = {}
    for row in conn.execute(stmt).mappings():
        start = row["bucket_start"]
        key = (row["check_id"], row["region"], start - start % HOUR)
        if key in wanted:
            bucket = Bucket()
            bucket.add_row(dict(row))
            hot.setdefault(key, {})[start] = bucket
    if not hot:
        return
    packed = load_minutes(
        conn,
        _PACKED.c.check_id.in_(checks),
        _PACKED.c.hour_start >= first,
        _PACKED.c.hour_start < last,
    )
    save_minutes(conn, {key: {**packed.get(key, {}), **minutes} for key, minutes in hot.items()})
    conn.execute(
        _ROLLUPS.delete().where(
            _ROLLUPS.c.resolution == MINUTE,
            _ROLLUPS.c.check_id == bindparam("c"),
            _ROLLUPS.c.region == bindparam("r"),
            _ROLLUPS.c.bucket_start >= bindparam("a"),
            _ROLLUPS.c.bucket_start < bindparam("b"),
        ),
        [{"c": c, "r": r, "a": h, "b": h + HOUR} for c, r, h in hot],
    )
