"""Rollup buckets computed from raw results as arrays, one entry per cell.

A refresh or a rebuild recomputes a bucket per minute that holds results (~one per result at a
probe a minute): building a :class:`~tasks.store.rollup_cells.Bucket` per result and merging
them up to hours was most of a rebuild's time. Here the raw results are grouped once with numpy
into cells (check, region, bucket start, verdict, latency code: count, latest start, latency
sum), a coarser resolution regroups the cells, and Python only assembles each bucket's stored
row. A bucket's row is what :meth:`Bucket.as_row` gives for the same results (its latency sum
added in another order, so equal to the last bits only where a bucket holds one result).
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.store.raw_reads import RawRows
from tasks.store.rollup_cells import NO_LATENCY, VERDICT_COLUMNS, latency_codes

__all__ = ["CellFrame"]

Key = tuple[str, str, int]  # check_id, region, bucket start (epoch seconds)


def _factorized(values: np.ndarray) -> tuple[list[Any], np.ndarray]:
    """The distinct values (first seen first) and each value's index among them."""
    index: dict[Any, int] = {}
    codes = np.fromiter(
        (index.setdefault(v, len(index)) for v in values.tolist()), np.int64, len(values)
    )
    return list(index), codes


def _firsts(sorted_keys: Sequence[np.ndarray]) -> np.ndarray:
    """Positions where the run of equal keys starts (the keys sorted together)."""
    n = len(sorted_keys[0])
    same = np.ones(max(n - 1, 0), dtype=bool)
    for k in sorted_keys:
        same &= k[1:] == k[:-1]
    return np.flatnonzero(np.concatenate(([True], ~same))) if n else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class CellFrame:
    """Cells of rollup buckets, sorted by bucket (check, region, start), then verdict and code.

    ``check``, ``region`` and ``verdict`` index :attr:`names`'s three lists.
    """

    names: tuple[list[str], list[str], list[str]]
    check: np.ndarray
    region: np.ndarray
    start: np.ndarray
    verdict: np.ndarray
    code: np.ndarray
    count: np.ndarray
    last: np.ndarray
    latency: np.ndarray

    @classmethod
    def from_raw(cls, rows: RawRows, width: int) -> CellFrame:
        """The cells of ``rows`` in buckets ``width`` seconds wide (aligned to the epoch)."""
        checks, check = _factorized(rows.check_id)
        regions, region = _factorized(rows.region)
        verdicts, verdict = _factorized(rows.verdict)
        started = rows.started_s.astype(np.int64)
        code = latency_codes(rows.duration_ms)
        latency = np.where(code == NO_LATENCY, 0.0, np.nan_to_num(rows.duration_ms, nan=0.0))
        return cls._grouped(
            (checks, regions, verdicts),
            (check, region, started - started % width, verdict, code),
            np.ones(len(started), dtype=np.int64),
            started,
            latency,
        )

    def coarsened(self, width: int) -> CellFrame:
        """The same cells in buckets ``width`` seconds wide (a multiple of this frame's)."""
        return self._grouped(
            self.names,
            (self.check, self.region, self.start - self.start % width, self.verdict, self.code),
            self.count,
            self.last,
            self.latency,
        )

    @classmethod
    def _grouped(
        cls,
        names: tuple[list[str], list[str], list[str]],
        key: tuple[np.ndarray, ...],
        count: np.ndarray,
        last: np.ndarray,
        latency: np.ndarray,
    ) -> CellFrame:
        order = np.lexsort(key[::-1])
        check, region, start, verdict, code = (k[order] for k in key)
        first = _firsts([check, region, start, verdict, code])
        if not len(first):
            return cls(names, check, region, start, verdict, code, count, last, latency)
        return cls(
            names,
            check[first],
            region[first],
            start[first],
            verdict[first],
            code[first],
            np.add.reduceat(count[order], first),
            np.maximum.reduceat(last[order], first),
            np.add.reduceat(latency[order], first),
        )

    def rows(self, keys: Container[Key] | None = None) -> dict[Key, dict[str, Any]]:
        """Each bucket's stored row (as :meth:`Bucket.as_row`), only ``keys`` (None: all)."""
        checks, regions, verdicts = self.names
        n = len(self.start)
        if not n:
            return {}
        firsts = _firsts([self.check, self.region, self.start])
        buckets = len(firsts)
        bucket = np.repeat(np.arange(buckets), np.diff(firsts, append=n))
        positions = [VERDICT_COLUMNS.index(v) if v in VERDICT_COLUMNS else -1 for v in verdicts]
        verdict_column = np.array(positions, dtype=np.int64)[self.verdict]
        counted = verdict_column >= 0
        counts = np.zeros((buckets, len(VERDICT_COLUMNS)), dtype=np.int64)
        np.add.at(counts, (bucket[counted], verdict_column[counted]), self.count[counted])
        lasts = np.full((buckets, len(VERDICT_COLUMNS)), -1, dtype=np.int64)
        np.maximum.at(lasts, (bucket[counted], verdict_column[counted]), self.last[counted])
        totals = np.add.reduceat(self.count, firsts)
        no_latency = np.bincount(
            bucket, weights=np.where(self.code == NO_LATENCY, self.count, 0), minlength=buckets
        ).astype(np.int64)
        latency_sums = np.add.reduceat(self.latency, firsts)
        cell_keys = self._cell_keys(verdicts)
        ends = [*firsts[1:].tolist(), n]
        count_list, last_list = self.count.tolist(), self.last.tolist()
        check_list, region_list, start_list = (
            k[firsts].tolist() for k in (self.check, self.region, self.start)
        )
        columns = list(enumerate(VERDICT_COLUMNS))
        out: dict[Key, dict[str, Any]] = {}
        for b, (at, end, bucket_counts, bucket_lasts, total, unmeasured, latency_sum) in enumerate(
            zip(
                firsts.tolist(),
                ends,
                counts.tolist(),
                lasts.tolist(),
                totals.tolist(),
                no_latency.tolist(),
                latency_sums.tolist(),
                strict=True,
            )
        ):
            key = (checks[check_list[b]], regions[region_list[b]], start_list[b])
            if keys is not None and key not in keys:
                continue
            row: dict[str, Any] = {"results": total}
            for i, name in columns:
                row[f"{name}_count"] = bucket_counts[i]
            for i, name in columns:
                row[f"last_{name}_at"] = None if bucket_lasts[i] < 0 else bucket_lasts[i]
            row["no_latency_count"] = unmeasured
            row["latency_sum_ms"] = latency_sum
            row["cells"] = {cell_keys[c]: [count_list[c], last_list[c]] for c in range(at, end)}
            out[key] = row
        return out

    def _cell_keys(self, verdicts: Sequence[str]) -> list[str]:
        """The ``verdict:code`` key of every cell."""
        cache: dict[tuple[int, int], str] = {}
        out = []
        for v, c in zip(self.verdict.tolist(), self.code.tolist(), strict=True):
            name = cache.get((v, c))
            if name is None:
                name = cache[(v, c)] = f"{verdicts[v]}:{c}"
            out.append(name)
        return out
