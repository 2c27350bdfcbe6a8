"""The vectorised core: bin events into per-slot counts and sum them over trailing windows.

Every SLO is laid on a grid of slots (``slot_seconds`` wide, aligned to the epoch for rolling
windows and to the period start for calendar ones). A window of L slots is the last L slots up to
and including the slot holding ``now``. SLOs sharing a grid are stacked in one
``[slos, regions, slots]`` array, in chunks that keep memory bounded, so 1,000 SLOs cost a handful
of numpy passes rather than 1,000 Python loops.

Per slot, the global series applies the region quorum: a slot is globally bad only when at least
N regions are bad in it (N capped at the number of regions that reported in that slot, so a lone
reporting region can still fail it). For Occurrences a region is bad in a slot when any of its
events there is bad, and a globally bad slot contributes all its bad events (with N = 1 this is
plain pooling of every region's events); bad events in slots short of the quorum count as good,
the failure being the region's, not the service's. For Timeslices a region's slice is bad when its
good ratio is below ``timeSliceTarget``, and the global slice is bad on the quorum; slices without
data are neither good nor bad.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tasks.slo.events import Events

__all__ = ["GridRow", "RowCounts", "window_counts"]

# Cells (slos x regions x slots) per chunk: ~32 MB per int64 array, small enough to stay in cache
# friendly territory and to avoid page-faulting gigabytes for 1,000 SLOs x 30 days.
_CHUNK_CELLS = 4_000_000
EVENTS, UNITS, BAD = 0, 1, 2


@dataclass(frozen=True)
class GridRow:
    """How to lay one SLO's events on the grid, and which trailing windows (in slots) to sum."""

    slot: int
    phase: int
    lengths: tuple[int, ...]
    timeslices: bool
    time_slice_target: float
    min_failing_regions: int


@dataclass(frozen=True)
class RowCounts:
    """Window sums of one SLO: ``global_[k, w]`` and ``regional[r, k, w]``, k = events/units/bad.

    ``units`` are events for Occurrences and slices with data for Timeslices; ``bad`` is in units.
    """

    lengths: tuple[int, ...]
    global_: npt.NDArray[np.int64]
    regional: npt.NDArray[np.int64]
    regions: tuple[str, ...]
    last_ts: int | None

    def window(self, length: int) -> tuple[int, int, int]:
        j = self.lengths.index(length)
        col = self.global_[:, j]
        return int(col[EVENTS]), int(col[UNITS]), int(col[BAD])


def window_counts(rows: Sequence[GridRow], events: Sequence[Events], now: int) -> list[RowCounts]:
    """Compute trailing-window sums for many SLOs at instant ``now`` (epoch seconds)."""
    out: list[RowCounts | None] = [None] * len(rows)
    # SLOs stack when they share a grid and a depth, so a yearly SLO never widens 30-day ones.
    groups: dict[tuple[bool, int, int, int], list[int]] = {}
    for i, row in enumerate(rows):
        key = (row.timeslices, row.slot, row.phase, max(row.lengths))
        groups.setdefault(key, []).append(i)
    for (timeslices, slot, phase, n_slots), members in groups.items():
        names = sorted({name for i in members for name in events[i].regions})
        code = {name: j for j, name in enumerate(names)}
        n_regions = max(len(names), 1)
        per_chunk = max(1, _CHUNK_CELLS // (n_regions * n_slots))
        for start in range(0, len(members), per_chunk):
            chunk = members[start : start + per_chunk]
            results = _chunk_counts(
                [rows[i] for i in chunk],
                [events[i] for i in chunk],
                code,
                n_regions,
                n_slots,
                timeslices,
                slot,
                phase,
                now,
            )
            for i, result in zip(chunk, results, strict=True):
                out[i] = result
    return [r for r in out if r is not None]


def _chunk_counts(
    rows: list[GridRow],
    events: list[Events],
    code: dict[str, int],
    n_regions: int,
    n_slots: int,
    timeslices: bool,
    slot: int,
    phase: int,
    now: int,
) -> list[RowCounts]:
    c, shape = len(rows), (len(rows), n_regions, n_slots)
    sizes = np.fromiter((len(e) for e in events), dtype=np.int64, count=c)
    ts = np.concatenate([e.ts for e in events]) if c else np.empty(0, np.int64)
    region = np.concatenate([_recode(e, code) for e in events])
    good = np.concatenate([e.good for e in events])
    weighted = any(e.weight is not None for e in events)
    weight = np.concatenate([e.weights() for e in events]) if weighted else None
    row = np.repeat(np.arange(c, dtype=np.int64), sizes)
    last_ts = _last_before(ts, sizes, now)

    first_slot = (now - phase) // slot - n_slots + 1
    k = (ts - phase) // slot - first_slot
    keep = (k >= 0) & (ts <= now)
    if not keep.all():
        k, row, region, good = k[keep], row[keep], region[keep], good[keep]
        weight = None if weight is None else weight[keep]
    key = (row * n_regions + region) * n_slots + k
    cells = c * n_regions * n_slots
    total = _count(key, weight, cells).reshape(shape)
    # Bad events are few: counting them (not the good ones) keeps the second bincount cheap.
    bad = _count(key[~good], None if weight is None else weight[~good], cells).reshape(shape)

    need_n = np.array([r.min_failing_regions for r in rows], dtype=np.int64)[:, None]
    if timeslices:
        tst = np.array([r.time_slice_target for r in rows])[:, None, None]
        has_data = total > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            region_bad = has_data & ((total - bad) / total < tst)
        reporting = has_data.sum(axis=1)
        failing = region_bad.sum(axis=1)
        global_bad = (failing >= np.minimum(need_n, reporting)) & (failing > 0)
        regional = [total, has_data, region_bad]
        global_units = [reporting > 0, global_bad]
    else:
        regional = [total, total, bad]
        global_units = None
        if (need_n > 1).any():
            failing = (bad > 0).sum(axis=1)
            reporting = (total > 0).sum(axis=1)
            quorum = (failing >= np.minimum(need_n, reporting)) & (failing > 0)
            global_units = [total.sum(axis=1), np.where(quorum, bad.sum(axis=1), 0)]

    lengths = sorted({length for r in rows for length in r.lengths})
    sums = {id(a): _trailing_sums(a, lengths) for a in regional}  # total is summed once
    regional_sums = np.stack([sums[id(a)] for a in regional], axis=2)  # [c, R, 3, W]
    pooled = regional_sums.sum(axis=1)  # [c, 3, W]
    if global_units is None:
        global_sums = pooled
    else:
        units = np.stack([_trailing_sums(a, lengths) for a in global_units], axis=1)
        global_sums = np.concatenate([pooled[:, :1], units], axis=1)

    results = []
    for i, (r, e) in enumerate(zip(rows, events, strict=True)):
        cols = [lengths.index(length) for length in r.lengths]
        own = [code[name] for name in e.regions]
        results.append(
            RowCounts(
                lengths=r.lengths,
                global_=global_sums[i][:, cols],
                regional=regional_sums[i][own][:, :, cols],
                regions=e.regions,
                last_ts=None if last_ts[i] < 0 else int(last_ts[i]),
            )
        )
    return results


def _count(
    key: npt.NDArray[np.int64], weight: npt.NDArray[np.int64] | None, size: int
) -> npt.NDArray[np.int64]:
    if weight is None:
        return np.bincount(key, minlength=size)
    return np.bincount(key, weights=weight, minlength=size).astype(np.int64)


def _recode(events: Events, code: dict[str, int]) -> npt.NDArray[np.int64]:
    mapping = np.array([code[name] for name in events.regions], dtype=np.int64)
    if len(mapping) and (mapping == np.arange(len(mapping))).all():
        return events.region.astype(np.int64, copy=False)
    return mapping[events.region] if len(mapping) else np.empty(0, np.int64)


def _last_before(ts: npt.NDArray[np.int64], sizes: npt.NDArray[np.int64], now: int) -> np.ndarray:
    """Latest timestamp <= now per row (-1 when a row has none)."""
    out = np.full(len(sizes), -1, dtype=np.int64)
    nonempty = sizes > 0
    if not nonempty.any():
        return out
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    masked = np.where(ts <= now, ts, -1)
    out[nonempty] = np.maximum.reduceat(masked, starts[nonempty])
    return out


def _trailing_sums(values: npt.NDArray, lengths: list[int]) -> npt.NDArray[np.int64]:
    """Sum the last ``L`` slots (last axis) for each L in ascending ``lengths``."""
    n_slots = values.shape[-1]
    out = np.empty((*values.shape[:-1], len(lengths)), dtype=np.int64)
    acc = np.zeros(values.shape[:-1], dtype=np.int64)
    previous = 0
    for j, length in enumerate(lengths):
        acc = acc + values[..., n_slots - length : n_slots - previous].sum(axis=-1, dtype=np.int64)
        out[..., j] = acc
        previous = length
    return out
