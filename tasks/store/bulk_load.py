"""History loaded straight into packed hours, as compaction would have left it.

A store that has run for weeks holds its hours older than the compaction cutoff packed
(:mod:`tasks.store.compaction`). Loading such history (the demo's simulated month) as rows,
rolling it up and then compacting it writes and reads every result three times; here each
check, region and hour is packed from the columns given, its minute rollups are computed from
the same columns (:class:`~tasks.store.cell_frames.CellFrame`) and packed beside it, and its
hour and day rollups are stored. For a period the store holds nothing of: the loader replaces
the packed hours and rollups it writes, and does not merge them with results already stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

import numpy as np
from sqlalchemy import Connection

from tasks.store.cell_frames import CellFrame
from tasks.store.locks import lock_check_pairs
from tasks.store.packed_codec import PackedColumns
from tasks.store.packed_hours import HOUR, HourKey, save_hours, save_minutes
from tasks.store.raw_reads import RawRows
from tasks.store.rollup_cells import Bucket
from tasks.store.rollups import DAY, MINUTE, store_rollups

__all__ = ["load_packed"]


def load_packed(conn: Connection, results: Mapping[tuple[str, str], PackedColumns]) -> int:
    """Store ``results`` (by check and region) as packed hours with their rollups.

    Each check and region is loaded on its own, so memory follows the largest one's history,
    not the whole load's.

    Args:
        conn: a connection in the writing transaction.
        results: each check and region's results, in start order.

    Returns:
        The number of results stored.
    """
    results = {pair: cols for pair, cols in results.items() if len(cols)}
    if results:
        lock_check_pairs(conn, set(results))
    for pair, cols in results.items():
        save_hours(conn, dict(_hours(pair, cols)))
        minutes = CellFrame.from_raw(_raw_rows(pair, cols), MINUTE)
        packed: dict[HourKey, dict[int, Bucket]] = {}
        for (check, region, start), row in minutes.rows().items():
            bucket = Bucket()
            bucket.add_row(row)
            packed.setdefault((check, region, start - start % HOUR), {})[start] = bucket
        save_minutes(conn, packed)
        hours = minutes.coarsened(HOUR)
        store_rollups(conn, HOUR, hours.rows())
        store_rollups(conn, DAY, hours.coarsened(DAY).rows())
    return sum(len(cols) for cols in results.values())


def _hours(pair: tuple[str, str], cols: PackedColumns) -> list[tuple[HourKey, PackedColumns]]:
    """The results of each hour (of their start), the columns being in start order."""
    hour = cols.started_us // 1_000_000 // HOUR * HOUR
    if np.any(np.diff(hour) < 0):
        raise ValueError(f"results of {pair[0]} in {pair[1]} are not in start order")
    edges = [0, *(np.flatnonzero(np.diff(hour)) + 1).tolist(), len(hour)]
    return [((*pair, int(hour[a])), cols.take(np.arange(a, b))) for a, b in pairwise(edges)]


def _raw_rows(pair: tuple[str, str], cols: PackedColumns) -> RawRows:
    return RawRows(
        check_id=np.full(len(cols), pair[0], dtype=object),
        region=np.full(len(cols), pair[1], dtype=object),
        scheduled_us=cols.scheduled_us,
        started_us=cols.started_us,
        verdict=cols.values["verdict"],
        duration_ms=cols.duration_ms,
        simulated=cols.values["simulated"].astype(bool),
        extra={},
    )
