"""The cells of a rollup bucket: counts per verdict and latency cell, with the latest start.

Latency goes on a fixed ladder of bounds (1 ms to 9,000 s, twelve steps a decade: 1, 1.5, 2,
2.5, 3, 4, 5, 6, 7, 7.5, 8, 9). A value equal to a bound gets a cell of its own, so both
"faster than 300 ms" (``lt``) and "300 ms or faster" (``lte``) are exact when the threshold is a
bound; between bounds the ladder gives percentiles within one step. Cell codes:
``2i`` holds values between bound ``i-1`` and bound ``i``, ``2i+1`` values equal to bound ``i``,
``-1`` results without a duration (the probe made no request).

A bucket's cells are ``{"verdict:code": [count, latest started_at]}``: counts add up when
buckets merge and the latest start is a maximum, so an hour is exactly its minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np

__all__ = [
    "LADDER",
    "NO_LATENCY",
    "VERDICT_COLUMNS",
    "Bucket",
    "good_limit",
    "latency_codes",
    "merge_cells",
    "split_cells",
]

_STEPS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 7.5, 8, 9)
LADDER = np.array([step * 10.0**decade for decade in range(7) for step in _STEPS])
NO_LATENCY = -1
_NO_LATENCY_CODE = str(NO_LATENCY)
VERDICT_COLUMNS = ("pass", "degraded", "fail", "error")

Cells = dict[str, list[int]]


def latency_codes(duration_ms: np.ndarray) -> np.ndarray:
    """Ladder cell codes of durations (NaN: :data:`NO_LATENCY`)."""
    duration = np.asarray(duration_ms, dtype=np.float64)
    index = np.searchsorted(LADDER, np.nan_to_num(duration, nan=0.0), side="left")
    exact = (index < len(LADDER)) & (LADDER[np.minimum(index, len(LADDER) - 1)] == duration)
    codes = 2 * index + exact
    return np.where(np.isnan(duration), NO_LATENCY, codes).astype(np.int64)


def good_limit(op: Literal["lt", "lte"], threshold_ms: float) -> int | None:
    """The highest cell code whose durations meet ``<op> threshold_ms``; None off the ladder."""
    index = int(np.searchsorted(LADDER, threshold_ms, side="left"))
    if index == len(LADDER) or LADDER[index] != threshold_ms:
        return None
    return 2 * index if op == "lt" else 2 * index + 1


def merge_cells(into: Cells, cells: Mapping[str, Any]) -> None:
    """Add ``cells`` to ``into``: counts add, the latest start is the maximum."""
    for key, (count, last) in cells.items():
        held = into.get(key)
        if held is None:
            into[key] = [int(count), int(last)]
        else:
            held[0] += int(count)
            held[1] = max(held[1], int(last))


class Bucket:
    """The running totals of one rollup bucket (one check, region, resolution and start)."""

    __slots__ = ("cells", "latency_sum_ms", "verdicts")

    def __init__(self) -> None:
        self.cells: Cells = {}
        self.verdicts = dict.fromkeys(VERDICT_COLUMNS, 0)
        self.latency_sum_ms = 0.0

    def add_result(self, verdict: str, code: int, duration_ms: float, started: int) -> None:
        """Count one raw result."""
        merge_cells(self.cells, {f"{verdict}:{code}": (1, started)})
        self.verdicts[verdict] = self.verdicts.get(verdict, 0) + 1
        if code != NO_LATENCY:
            self.latency_sum_ms += duration_ms

    def add_row(self, row: Mapping[str, Any]) -> None:
        """Count a finer bucket's stored row (see :meth:`as_row`)."""
        merge_cells(self.cells, row["cells"])
        for verdict in VERDICT_COLUMNS:
            self.verdicts[verdict] += row[f"{verdict}_count"]
        self.latency_sum_ms += row["latency_sum_ms"]

    def add_bucket(self, other: Bucket) -> None:
        """Count a finer bucket held in memory."""
        merge_cells(self.cells, other.cells)
        for verdict, count in other.verdicts.items():
            self.verdicts[verdict] = self.verdicts.get(verdict, 0) + count
        self.latency_sum_ms += other.latency_sum_ms

    def as_row(self) -> dict[str, Any]:
        """The column values of this bucket (without its key)."""
        results = no_latency = 0
        last: dict[str, int] = {}
        for key, (count, at) in self.cells.items():
            verdict, _, code = key.rpartition(":")
            results += count
            if code == _NO_LATENCY_CODE:
                no_latency += count
            if at > last.get(verdict, at - 1):
                last[verdict] = at
        row: dict[str, Any] = {"results": results}
        for verdict in VERDICT_COLUMNS:
            row[f"{verdict}_count"] = self.verdicts.get(verdict, 0)
        for verdict in VERDICT_COLUMNS:
            row[f"last_{verdict}_at"] = last.get(verdict)
        row["no_latency_count"] = no_latency
        row["latency_sum_ms"] = self.latency_sum_ms
        row["cells"] = self.cells
        return row


def split_cells(rows: Iterable[Mapping[str, Any]]) -> Iterable[tuple[int, str, int, int, int]]:
    """Yield ``(row index, verdict, code, count, latest start)`` for every cell of ``rows``."""
    for i, row in enumerate(rows):
        for key, (count, last) in row.items():
            verdict, _, code = key.rpartition(":")
            yield i, verdict, int(code), int(count), int(last)
