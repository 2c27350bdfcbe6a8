"""Latency percentiles of a check from its rollups' histograms, without reading raw results.

Each rollup bucket keeps its results' durations on the ladder of
:mod:`tasks.store.rollup_cells` (1 ms to 9,000 s, twelve steps a decade), so a percentile over any
span of whole minutes is read from a few day, hour and minute buckets and is exact to one step
of the ladder: the value reported is the ladder bound at or above the true percentile (a result
slower than the ladder's top reads as infinity).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from tasks.store.rollup_cells import LADDER, NO_LATENCY, split_cells
from tasks.store.rollup_reads import covering_plan, read_rollups
from tasks.store.rollups import MINUTE, RESOLUTIONS

__all__ = ["ALL_REGIONS", "LatencySummary", "latency_percentiles"]

ALL_REGIONS = "all regions"


@dataclass(frozen=True)
class LatencySummary:
    """One region's (or all regions') timed results and their percentiles in ms."""

    region: str
    results: int
    percentiles: dict[float, float]


def _bound(code: int) -> float:
    index = code // 2
    return float(LADDER[index]) if index < len(LADDER) else float("inf")


def _percentiles(cells: Counter[int], quantiles: Sequence[float]) -> dict[float, float]:
    total = sum(cells.values())
    out: dict[float, float] = {}
    if not total:
        return out
    codes = sorted(cells)
    for q in quantiles:
        rank, seen = q / 100 * total, 0
        for code in codes:
            seen += cells[code]
            if seen >= rank:
                out[q] = _bound(code)
                break
    return out


def latency_percentiles(
    engine: Engine,
    check_id: str,
    start: datetime,
    end: datetime,
    quantiles: Sequence[float] = (50, 95, 99),
) -> list[LatencySummary]:
    """Percentiles of ``check_id``'s durations over ``[start, end)`` (rounded out to minutes).

    Returns:
        One summary per region with timed results, then one over all regions.
    """
    a = int(start.timestamp()) // MINUTE * MINUTE
    b = -(-int(end.timestamp()) // MINUTE) * MINUTE
    with engine.connect() as conn:
        rows = read_rollups(conn, [check_id], covering_plan([a, b], RESOLUTIONS))
    by_region: dict[str, Counter[int]] = {}
    for i, _verdict, code, count, _last in split_cells(rows.cells):
        if code != NO_LATENCY:
            by_region.setdefault(str(rows.region[i]), Counter())[code] += count
    summaries = [
        LatencySummary(region, sum(cells.values()), _percentiles(cells, quantiles))
        for region, cells in sorted(by_region.items())
    ]
    everything = sum(by_region.values(), Counter())
    summaries.append(
        LatencySummary(ALL_REGIONS, sum(everything.values()), _percentiles(everything, quantiles))
    )
    return summaries
