"""The events of SLIs read from rollups: coarse buckets where the windows allow, raw at the end.

An SLO's windows all end at ``now`` and start on its slot grid. Between two window starts every
bucket lies wholly inside or wholly outside each window, so any bucket fitting there can be
summed whole. For Occurrences without a region quorum that is all that matters, and the read
takes days and hours in the middle and minutes at the edges. A quorum or time slices judge each
slot on its own, so those SLOs read buckets no wider than a slot. The minute holding ``now`` is
still filling: it is read from the raw results, up to ``now`` inclusive.

Each bucket becomes at most two weighted events (its good and its bad ones) at the latest start
among its counted results: the same slot as every result in it, and the right ``last_ts`` for
the absent-data alert. An SLO this cannot count exactly (a slot or a calendar phase off the
minute, a latency threshold off the histogram ladder) gets ``None`` from :func:`read_plan` and is
evaluated on raw results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Engine

from tasks.slo.definition import Indicator, SloDefinition
from tasks.slo.engine import GridRow
from tasks.slo.evaluate import grid_row
from tasks.slo.events import CheckResults, Events, indicator_checks, select_events
from tasks.store.check_results import fetch_results
from tasks.store.rollup_cells import NO_LATENCY, VERDICT_COLUMNS, good_limit, split_cells
from tasks.store.rollup_reads import (
    RollupRows,
    RollupSums,
    covering_plan,
    read_rollup_sums,
    read_rollups,
)
from tasks.store.rollups import MINUTE, RESOLUTIONS

__all__ = ["Plan", "read_plan", "rollup_events"]

# resolution -> [start, end) ranges of bucket starts
Plan = dict[int, list[tuple[int, int]]]


def _window_starts(slo: SloDefinition, now: int) -> tuple[GridRow, list[int]] | None:
    """The grid and the window starts of ``slo`` at ``now``; None when rollups cannot count it."""
    grid = grid_row(slo, now)
    indicator = slo.indicator
    if indicator.latency_op is not None and (
        indicator.latency_ms is None
        or good_limit(indicator.latency_op, indicator.latency_ms) is None
    ):
        return None
    if grid.slot % MINUTE or grid.phase % MINUTE:
        return None
    slot_index = (now - grid.phase) // grid.slot
    return grid, sorted({(slot_index - n + 1) * grid.slot + grid.phase for n in grid.lengths})


def _summable(slo: SloDefinition) -> bool:
    """An availability SLI counted by Occurrences without a quorum: verdict sums suffice."""
    return (
        slo.indicator.latency_op is None
        and slo.budgeting_method == "Occurrences"
        and slo.min_failing_regions == 1
    )


def read_plan(slo: SloDefinition, now: int) -> Plan | None:
    """The rollup buckets that count ``slo`` exactly at ``now``; None when none can."""
    found = _window_starts(slo, now)
    if found is None:
        return None
    grid, starts = found
    additive = not grid.timeslices and grid.min_failing_regions == 1
    widths = [r for r in RESOLUTIONS if additive or (grid.slot % r == 0 and grid.phase % r == 0)]
    return covering_plan([*starts, now - now % MINUTE], widths)


def _union(plans: Sequence[Plan]) -> Plan:
    merged: Plan = {}
    for resolution in RESOLUTIONS:
        spans = sorted(s for p in plans for s in p.get(resolution, ()))
        out: list[tuple[int, int]] = []
        for a, b in spans:
            if out and a <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], b))
            else:
                out.append((a, b))
        if out:
            merged[resolution] = out
    return merged


def rollup_events(
    engine: Engine,
    slos: Sequence[SloDefinition],
    plans: Sequence[Plan],
    check_services: Mapping[str, str],
    now: int,
) -> list[Events]:
    """The events of each SLO (``plans[i]`` from :func:`read_plan` for ``slos[i]``).

    Availability SLOs without a quorum are read as verdict sums per segment between all their
    window starts, summed by the database; the others as rows with their cells.
    """
    selections = [indicator_checks(s.indicator, check_services) for s in slos]
    summed = [i for i, slo in enumerate(slos) if _summable(slo)]
    by_row = [i for i, slo in enumerate(slos) if not _summable(slo)]
    starts = {i: found[1] for i in summed if (found := _window_starts(slos[i], now))}
    cuts = sorted({c for i in summed for c in starts[i]})
    minute = now - now % MINUTE
    with engine.connect() as conn:
        rows = read_rollups(
            conn, {c for i in by_row for c in selections[i]}, _union([plans[i] for i in by_row])
        )
        sums = read_rollup_sums(
            conn,
            {c for i in summed for c in selections[i]},
            covering_plan([*cuts, minute], RESOLUTIONS),
            cuts,
        )
    checks = sorted({c for ids in selections for c in ids})
    tail = fetch_results(
        engine, checks, datetime.fromtimestamp(minute, UTC), datetime.fromtimestamp(now + 1, UTC)
    )
    tail_results = CheckResults(
        tail.check_id, tail.region, tail.started_at, tail.verdict, tail.duration_ms
    )
    cells, segments = _Cells(rows), _Segments(sums)
    out = []
    for i, (slo, ids) in enumerate(zip(slos, selections, strict=True)):
        if i in starts:
            counted = segments.events(slo.indicator, ids, cuts.index(starts[i][0]) + 1)
        else:
            counted = cells.events(slo.indicator, ids, plans[i])
        out.append(_merge(counted, select_events(slo.indicator, tail_results, check_services)))
    return out


class _Segments:
    """Verdict sums per check, region and segment, indexed by check."""

    def __init__(self, sums: RollupSums) -> None:
        self.sums = sums
        by_check: dict[str, list[int]] = defaultdict(list)
        for i, check in enumerate(sums.check_id):
            by_check[check].append(i)
        self.by_check = {c: np.array(ix, dtype=np.int64) for c, ix in by_check.items()}

    def events(self, indicator: Indicator, checks: Sequence[str], first: int) -> Events:
        """Events of ``checks`` from segment ``first`` on (the SLO's deepest window start)."""
        empty = np.empty(0, np.int64)
        idx = np.concatenate([self.by_check.get(c, empty) for c in checks] or [empty])
        idx = idx[self.sums.segment[idx] >= first]
        verdicts = np.asarray(VERDICT_COLUMNS, dtype=object)
        total = np.isin(verdicts, np.asarray(indicator.total_verdicts, dtype=object))
        good = total & np.isin(verdicts, np.asarray(indicator.good_verdicts, dtype=object))
        counts = self.sums.counts[idx]
        total_n, good_n = counts[:, total].sum(axis=1), counts[:, good].sum(axis=1)
        last = self.sums.last[idx][:, total].max(axis=1, initial=-1)
        weight = np.concatenate([good_n, total_n - good_n])
        present = weight > 0
        return _events(
            np.tile(last, 2)[present],
            np.tile(self.sums.region[idx], 2)[present],
            np.repeat([True, False], len(idx))[present],
            weight[present],
        )


class _Cells:
    """Every cell of the rows read, as columns, indexed by check."""

    def __init__(self, rows: RollupRows) -> None:
        self.rows = rows
        parts = list(zip(*split_cells(rows.cells), strict=True)) or [()] * 5
        self.row = np.array(parts[0], dtype=np.int64)
        self.verdict = np.array(parts[1], dtype=object)
        self.code = np.array(parts[2], dtype=np.int64)
        self.count = np.array(parts[3], dtype=np.int64)
        self.last = np.array(parts[4], dtype=np.int64)
        by_check: dict[str, list[int]] = defaultdict(list)
        for i, check in enumerate(rows.check_id[self.row] if len(self.row) else ()):
            by_check[check].append(i)
        self.by_check = {c: np.array(ix, dtype=np.int64) for c, ix in by_check.items()}

    def events(self, indicator: Indicator, checks: Sequence[str], plan: Plan) -> Events:
        empty = np.empty(0, np.int64)
        idx = np.concatenate([self.by_check.get(c, empty) for c in checks] or [empty])
        row = self.row[idx]
        resolution, start = self.rows.resolution[row], self.rows.bucket_start[row]
        keep = np.zeros(len(idx), dtype=bool)
        for width, spans in plan.items():
            for a, b in spans:
                keep |= (resolution == width) & (start >= a) & (start < b)
        keep &= np.isin(self.verdict[idx], np.asarray(indicator.total_verdicts, dtype=object))
        if indicator.latency_op is not None:
            limit = good_limit(indicator.latency_op, float(indicator.latency_ms or 0))
            keep &= self.code[idx] != NO_LATENCY
            good = self.code[idx] <= limit
        else:
            good = np.isin(self.verdict[idx], np.asarray(indicator.good_verdicts, dtype=object))
        idx, good = idx[keep], good[keep]
        rows, inverse = np.unique(self.row[idx], return_inverse=True)
        count = self.count[idx]
        good_n = np.bincount(inverse, weights=count * good, minlength=len(rows)).astype(np.int64)
        total_n = np.bincount(inverse, weights=count, minlength=len(rows)).astype(np.int64)
        last = np.full(len(rows), -1, dtype=np.int64)
        np.maximum.at(last, inverse, self.last[idx])
        is_good = np.repeat([True, False], len(rows))
        weight = np.concatenate([good_n, total_n - good_n])
        ts, region = np.tile(last, 2), np.tile(self.rows.region[rows], 2)
        present = weight > 0
        return _events(ts[present], region[present], is_good[present], weight[present])


def _events(ts: np.ndarray, region: np.ndarray, good: np.ndarray, weight: np.ndarray) -> Events:
    names, codes = np.unique(region.astype(str), return_inverse=True)
    return Events(
        ts.astype(np.int64),
        codes.astype(np.intp).reshape(-1),
        good.astype(np.bool_),
        tuple(str(n) for n in names),
        weight.astype(np.int64),
    )


def _merge(counted: Events, tail: Events) -> Events:
    """One Events from rollup events and the raw events of the current minute."""
    if not len(tail):
        return counted

    def names(events: Events) -> np.ndarray:
        return np.asarray(events.regions, dtype=object)[events.region]

    return _events(
        np.concatenate([counted.ts, tail.ts]),
        np.concatenate([names(counted), names(tail)]),
        np.concatenate([counted.good, tail.good]),
        np.concatenate([counted.weights(), tail.weights()]),
    )
