"""Reading rollups: whole rows with their cells, or verdict sums per segment computed in SQL.

A read names, per resolution, the ``[start, end)`` ranges of bucket starts it wants; callers
choose ranges that never cover one instant twice (see :mod:`tasks.slo.rollup_source`). Minute
buckets are read from hot rows and packed hours alike (:func:`_packed_minutes`); a minute lives
in exactly one of them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from itertools import pairwise
from operator import add
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Connection,
    Text,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
)

from tasks.store.packed_hours import (
    PackedMinuteSums,
    read_packed_minute_sums,
    read_packed_minutes,
)
from tasks.store.rollup_cells import VERDICT_COLUMNS, Bucket
from tasks.store.rollup_models import CheckRollup
from tasks.store.rollups import DAY, MINUTE

__all__ = [
    "DailySums",
    "RollupRows",
    "RollupSums",
    "covering_plan",
    "read_daily_sums",
    "read_rollup_sums",
    "read_rollups",
]

_ROLLUPS = CheckRollup.metadata.tables[CheckRollup.__tablename__]
Ranges = Mapping[int, Iterable[tuple[int, int]]]


def covering_plan(cuts: Sequence[int], widths: Sequence[int]) -> dict[int, list[tuple[int, int]]]:
    """Bucket-start ranges by resolution covering each ``[cuts[k], cuts[k+1])``, never across a
    cut: the widest buckets that fit, narrower ones at the edges (cuts are whole minutes)."""
    plan: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for a, b in pairwise(cuts):
        _cover(a, b, sorted(widths, reverse=True), plan)
    return dict(plan)


def _cover(a: int, b: int, widths: list[int], plan: dict[int, list[tuple[int, int]]]) -> None:
    if a >= b:
        return
    width, narrower = widths[0], widths[1:]
    lo, hi = -(-a // width) * width, b // width * width
    if lo >= hi:
        _cover(a, b, narrower, plan)
        return
    plan[width].append((lo, hi))
    _cover(a, lo, narrower, plan)
    _cover(hi, b, narrower, plan)


def _in_ranges(ranges: Ranges) -> list[ColumnElement[bool]]:
    return [
        and_(
            _ROLLUPS.c.resolution == resolution,
            _ROLLUPS.c.bucket_start >= start,
            _ROLLUPS.c.bucket_start < end,
        )
        for resolution, pairs in ranges.items()
        for start, end in pairs
        if start < end
    ]


@dataclass(frozen=True)
class RollupRows:
    """Rollup rows as columns (``cells`` keeps each row's cell mapping)."""

    check_id: np.ndarray
    region: np.ndarray
    resolution: np.ndarray
    bucket_start: np.ndarray
    cells: list[Mapping[str, Any]]

    def __len__(self) -> int:
        return len(self.check_id)


def read_rollups(conn: Connection, check_ids: Iterable[str], ranges: Ranges) -> RollupRows:
    """Rows of ``check_ids`` whose bucket starts in one of ``ranges[resolution]``."""
    conditions = _in_ranges(ranges)
    checks = sorted(set(check_ids))
    rows: list[Any] = []
    if conditions and checks:
        stmt = select(
            _ROLLUPS.c.check_id,
            _ROLLUPS.c.region,
            _ROLLUPS.c.resolution,
            _ROLLUPS.c.bucket_start,
            # As text, decoded in one call below: per-row JSON decoding dominated a fleet's read.
            cast(_ROLLUPS.c.cells, Text),
        ).where(_ROLLUPS.c.check_id.in_(checks), or_(*conditions))
        rows = list(conn.execute(stmt).all())
    packed = _packed_minutes(conn, checks, ranges)
    columns = list(zip(*rows, strict=True)) if rows else [()] * 5
    if packed:
        columns[:4] = [
            (*held, *added)
            for held, added in zip(
                columns[:4],
                zip(*((c, r, MINUTE, b) for c, r, b, _ in packed), strict=True),
                strict=True,
            )
        ]
        columns[4] = (*columns[4], *(json.dumps(bucket.cells) for _, _, _, bucket in packed))
    return RollupRows(
        check_id=np.array(columns[0], dtype=object),
        region=np.array(columns[1], dtype=object),
        resolution=np.array(columns[2], dtype=np.int64),
        bucket_start=np.array(columns[3], dtype=np.int64),
        cells=json.loads(f"[{','.join(columns[4])}]"),
    )


@dataclass(frozen=True)
class RollupSums:
    """Per check, region and segment: ``counts[:, v]`` and ``last[:, v]`` (-1: none) by verdict,
    in the order of :data:`~tasks.store.rollup_cells.VERDICT_COLUMNS`."""

    check_id: np.ndarray
    region: np.ndarray
    segment: np.ndarray
    counts: np.ndarray
    last: np.ndarray


def read_rollup_sums(
    conn: Connection, check_ids: Iterable[str], ranges: Ranges, cuts: Sequence[int]
) -> RollupSums:
    """Verdict counts and latest starts of ``ranges``, summed by the segment between ``cuts``.

    Segment ``k`` holds the buckets starting in ``[cuts[k-1], cuts[k])`` (``cuts`` ascending).
    """
    conditions = _in_ranges(ranges)
    checks = sorted(set(check_ids))
    rows: list[Any] = []
    if conditions and checks and cuts:
        # Literal cuts (whole seconds): GROUP BY must repeat the select's expression exactly.
        one: ColumnElement[Any] = literal_column("1")
        zero: ColumnElement[Any] = literal_column("0")
        segment = reduce(
            add,
            [
                case((_ROLLUPS.c.bucket_start >= literal_column(str(int(c))), one), else_=zero)
                for c in cuts
            ],
        )
        stmt = (
            select(
                _ROLLUPS.c.check_id,
                _ROLLUPS.c.region,
                segment,
                *(func.sum(_ROLLUPS.c[f"{v}_count"]) for v in VERDICT_COLUMNS),
                *(func.max(_ROLLUPS.c[f"last_{v}_at"]) for v in VERDICT_COLUMNS),
            )
            .where(_ROLLUPS.c.check_id.in_(checks), or_(*conditions))
            .group_by(_ROLLUPS.c.check_id, _ROLLUPS.c.region, segment)
        )
        rows = list(conn.execute(stmt).all())
    packed = _packed_minute_sums(conn, checks, ranges) if cuts else None
    if packed is not None and len(packed):
        cut = np.array(cuts, dtype=np.int64)
        segments = np.searchsorted(cut, packed.minutes.start, side="right")
        rows = _merged(rows, _grouped(packed, segments), with_last=True)
    n = len(VERDICT_COLUMNS)
    table = np.array([r[3:] for r in rows], dtype=object).reshape(len(rows), 2 * n)
    return RollupSums(
        check_id=np.array([r[0] for r in rows], dtype=object),
        region=np.array([r[1] for r in rows], dtype=object),
        segment=np.array([r[2] for r in rows], dtype=np.int64),
        counts=np.where(table[:, :n] == None, 0, table[:, :n]).astype(np.int64),  # noqa: E711
        last=np.where(table[:, n:] == None, -1, table[:, n:]).astype(np.int64),  # noqa: E711
    )


@dataclass(frozen=True)
class DailySums:
    """Per check and UTC day (``day[i]`` days after the first): ``counts[i, v]`` by verdict."""

    check_id: np.ndarray
    day: np.ndarray
    counts: np.ndarray


def read_daily_sums(
    conn: Connection, check_ids: Iterable[str], ranges: Ranges, first_day: int
) -> DailySums:
    """Verdict counts of ``ranges`` summed by check and day, every region together.

    The day is computed from the bucket start (no bucket crosses midnight UTC), which keeps a
    long run of days cheap where :func:`read_rollup_sums` would test every cut.
    """
    conditions = _in_ranges(ranges)
    checks = sorted(set(check_ids))
    rows: list[Any] = []
    if conditions and checks:
        since = _ROLLUPS.c.bucket_start - literal_column(str(int(first_day)))
        day = since // literal_column(str(DAY))
        stmt = (
            select(
                _ROLLUPS.c.check_id,
                day,
                *(func.sum(_ROLLUPS.c[f"{v}_count"]) for v in VERDICT_COLUMNS),
            )
            .where(_ROLLUPS.c.check_id.in_(checks), or_(*conditions))
            .group_by(_ROLLUPS.c.check_id, day)
        )
        rows = list(conn.execute(stmt).all())
    packed = _packed_minute_sums(conn, checks, ranges)
    if packed is not None and len(packed):
        days = (packed.minutes.start - first_day) // DAY
        rows = [
            (r[0], *r[2:])
            for r in _merged(
                [(r[0], "", *r[1:]) for r in rows],
                [(c, "", d, counts, lasts) for c, _, d, counts, lasts in _grouped(packed, days)],
                with_last=False,
            )
        ]
    n = len(VERDICT_COLUMNS)
    return DailySums(
        check_id=np.array([r[0] for r in rows], dtype=object),
        day=np.array([r[1] for r in rows], dtype=np.int64),
        counts=np.array([r[2:] for r in rows], dtype=np.int64).reshape(len(rows), n),
    )


def _packed_minutes(
    conn: Connection, checks: Sequence[str], ranges: Ranges
) -> list[tuple[str, str, int, Bucket]]:
    """The packed minute buckets of ``checks`` in ``ranges[MINUTE]``."""
    spans = list(ranges.get(MINUTE, ()))
    return read_packed_minutes(conn, checks, spans) if spans and checks else []


def _packed_minute_sums(
    conn: Connection, checks: Sequence[str], ranges: Ranges
) -> PackedMinuteSums | None:
    """Verdict sums of the packed minutes of ``checks`` in ``ranges[MINUTE]``."""
    spans = list(ranges.get(MINUTE, ()))
    return read_packed_minute_sums(conn, checks, spans) if spans and checks else None


Summed = tuple[str, str, int, list[int], list[int]]  # check, region, group, counts, lasts


def _grouped(packed: PackedMinuteSums, group: np.ndarray) -> list[Summed]:
    """Packed minutes' counts (added) and latest starts (maximum, -1: none) by check, region
    and ``group[i]`` of minute ``i``."""
    order = np.lexsort((group, packed.pair))
    pair, group = packed.pair[order], group[order]
    first = np.flatnonzero(np.r_[True, (pair[1:] != pair[:-1]) | (group[1:] != group[:-1])])
    counts = np.add.reduceat(packed.minutes.counts[order], first, axis=0)
    last = np.maximum.reduceat(packed.minutes.last[order], first, axis=0)
    return [
        (*packed.pairs[p], g, c, t)
        for p, g, c, t in zip(
            pair[first].tolist(), group[first].tolist(), counts.tolist(), last.tolist(), strict=True
        )
    ]


def _merged(
    rows: Sequence[Any], packed: Sequence[Summed], with_last: bool
) -> list[tuple[Any, ...]]:
    """SQL sums ``(check, region, group, counts..., [lasts...])`` with packed minutes' counts and
    latest starts added to their ``(check, region, group)``: counts add, latest starts are the
    maximum."""
    n = len(VERDICT_COLUMNS)
    sums: dict[tuple[Any, ...], list[Any]] = {tuple(r[:3]): list(r[3:]) for r in rows}
    for check, region, group, counts, lasts in packed:
        held = sums.setdefault((check, region, group), [0] * n + ([None] * n if with_last else []))
        for i in range(n):
            held[i] = (held[i] or 0) + counts[i]
            last = lasts[i]
            if with_last and last >= 0:
                held[n + i] = last if held[n + i] is None else max(held[n + i], last)
    return [(*key, *values) for key, values in sums.items()]
