"""The packed form of an hour of minute rollups (one check, one region).

Format version 2, the bytes of ``check_packed_hours.minutes``::

    byte 0       the version, 2
    bytes 1..4   the length S of the sums stream (u32, little-endian)
    bytes 5..    the sums stream (S bytes), then the cells stream, each a zlib stream

The sums stream is fixed-layout, little-endian, read with ``np.frombuffer``: the number of
minutes ``n`` (u16), each minute's index in the hour (``n`` x u8, ascending), then by verdict of
:data:`~tasks.store.rollup_cells.VERDICT_COLUMNS` (verdict-major, ``4 x n`` each): the counts
(i32) and the latest starts (i32, seconds after the minute's start; ``-2**31``: no result of
that verdict). Verdict sums (an SLO's window edge) read only that stream: no JSON, no loop over
minutes in Python.

The cells stream is version 1's body: UTF-8 JSON ``[[minute, latency_sum_ms, cells], ...]``,
``minute`` the bucket's start in seconds after the hour (0, 60, ... 3540), ascending, ``cells``
the bucket's ``{"verdict:code": [count, latest start]}`` (:mod:`tasks.store.rollup_cells`) with
each latest start in seconds after the hour. Readers that need buckets (latency, quorum, time
slices, refreshes) decode it; the sums are its verdict totals, stored twice so sums skip it.

Format version 1 (written before; still read, its sums computed from the cells)::

    byte 0     the version, 1
    bytes 1..  the cells stream alone

A version 1 hour is rewritten as version 2 whenever its minutes are written again (compaction
merging late minutes, a minute taken out, minute retention), and by the next compaction run
(:mod:`tasks.store.compaction` rewrites every hour packed by an older version).
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.store.rollup_cells import VERDICT_COLUMNS, Bucket

__all__ = [
    "MINUTES_FORMAT_VERSION",
    "MinuteSums",
    "decode_minute_sums",
    "decode_minutes",
    "encode_minutes",
]

MINUTES_FORMAT_VERSION = 2
_V1 = 1
_LENGTH = struct.Struct("<I")
_COUNT = struct.Struct("<H")
_INDEX, _I32 = np.dtype("<u1"), np.dtype("<i4")
_NONE = -(2**31)
_VERDICTS = len(VERDICT_COLUMNS)
_VERDICT_INDEX = {verdict: i for i, verdict in enumerate(VERDICT_COLUMNS)}
Row = tuple[int, float, dict[str, list[int]]]  # start after the hour, latency sum, cells


@dataclass(frozen=True)
class MinuteSums:
    """Verdict sums of packed minutes: ``start[i]`` (epoch seconds), ``counts[i, v]`` and
    ``last[i, v]`` (latest start, epoch seconds; -1: none), ``v`` in
    :data:`~tasks.store.rollup_cells.VERDICT_COLUMNS` order."""

    start: np.ndarray
    counts: np.ndarray
    last: np.ndarray

    def __len__(self) -> int:
        return len(self.start)


def encode_minutes(hour_start: int, buckets: Mapping[int, Bucket]) -> bytes:
    """The packed bytes (version 2) of minute ``buckets`` (by bucket start) of the hour at
    ``hour_start``.

    Raises:
        ValueError: a bucket does not start in that hour.
    """
    rows: list[Row] = []
    for start in sorted(buckets):
        if not hour_start <= start < hour_start + 3600 or start % 60:
            raise ValueError(f"minute {start} is not a minute of the hour {hour_start}")
        bucket = buckets[start]
        cells = {k: [c, last - hour_start] for k, (c, last) in bucket.cells.items()}
        rows.append((start - hour_start, bucket.latency_sum_ms, cells))
    sums = zlib.compress(_sums_block(rows), 6)
    body = json.dumps(rows, separators=(",", ":"), sort_keys=True).encode()
    return b"".join(
        [bytes([MINUTES_FORMAT_VERSION]), _LENGTH.pack(len(sums)), sums, zlib.compress(body, 6)]
    )


def _sums_block(rows: list[Row]) -> bytes:
    """The fixed-layout sums of ``rows`` (see the module's docstring)."""
    n = len(rows)
    counts = np.zeros((_VERDICTS, n), dtype=np.int64)
    last = np.full((_VERDICTS, n), _NONE, dtype=np.int64)
    for i, (offset, _, cells) in enumerate(rows):
        for key, (count, at) in cells.items():
            v = _VERDICT_INDEX[key.rpartition(":")[0]]
            counts[v, i] += count
            last[v, i] = max(last[v, i], at - offset)
    index = np.array([offset // 60 for offset, _, _ in rows], dtype=_INDEX)
    grids = np.stack([counts, last]).astype(_I32)
    return _COUNT.pack(n) + index.tobytes() + grids.tobytes()


def decode_minutes(
    hour_start: int, payload: bytes, wanted: Callable[[int], bool] | None = None
) -> dict[int, Bucket]:
    """The minute buckets packed by :func:`encode_minutes`, by bucket start.

    Args:
        hour_start: the hour's start (epoch seconds).
        payload: the packed bytes (version 1 or 2).
        wanted: only the minutes whose start it accepts (None: all).

    Raises:
        ValueError: the payload is of an unknown format version or damaged.
    """
    out = {}
    for offset, latency, cells in _cells(hour_start, payload):
        start = hour_start + offset
        if wanted is not None and not wanted(start):
            continue
        bucket = Bucket()
        bucket.latency_sum_ms = latency
        verdicts = bucket.verdicts
        for key, (count, last) in cells.items():
            bucket.cells[key] = [count, last + hour_start]
            verdict = key.rpartition(":")[0]
            verdicts[verdict] = verdicts.get(verdict, 0) + count
        out[start] = bucket
    return out


def decode_minute_sums(hour_start: int, payload: bytes) -> MinuteSums:
    """The verdict sums of every minute packed by :func:`encode_minutes`, without its cells
    (version 1: computed from them).

    Raises:
        ValueError: the payload is of an unknown format version or damaged.
    """
    version = _version(hour_start, payload)
    try:
        if version == _V1:
            block = _sums_block(_rows(payload[1:]))
        else:
            (length,) = _LENGTH.unpack_from(payload, 1)
            block = zlib.decompress(payload[1 + _LENGTH.size : 1 + _LENGTH.size + length])
        (n,) = _COUNT.unpack_from(block)
        if len(block) != _COUNT.size + n * (_INDEX.itemsize + 2 * _VERDICTS * _I32.itemsize):
            raise ValueError(f"{len(block)} bytes of sums for {n} minutes")
    except (zlib.error, struct.error, ValueError) as exc:
        raise ValueError(f"packed minutes {hour_start} are damaged: {exc}") from None
    at = _COUNT.size + n
    start = hour_start + 60 * np.frombuffer(block, _INDEX, n, _COUNT.size).astype(np.int64)
    grids = np.frombuffer(block, _I32, 2 * _VERDICTS * n, at).reshape(2, _VERDICTS, n)
    counts, after = grids[0].T.astype(np.int64), grids[1].T.astype(np.int64)
    last = np.where(after == _NONE, -1, after + start[:, None])
    return MinuteSums(start, counts, last)


def _cells(hour_start: int, payload: bytes) -> list[Row]:
    """The cells stream's rows of a payload of either version."""
    version = _version(hour_start, payload)
    try:
        if version == _V1:
            return _rows(payload[1:])
        (length,) = _LENGTH.unpack_from(payload, 1)
        return _rows(payload[1 + _LENGTH.size + length :])
    except (zlib.error, struct.error, ValueError) as exc:
        raise ValueError(f"packed minutes {hour_start} are damaged: {exc}") from None


def _version(hour_start: int, payload: bytes) -> int:
    version = payload[0] if payload else None
    if version not in (_V1, MINUTES_FORMAT_VERSION):
        raise ValueError(f"packed minutes {hour_start}: unknown format version {version}")
    return int(payload[0])


def _rows(stream: bytes) -> list[Row]:
    rows: list[Any] = json.loads(zlib.decompress(stream))
    return [(int(offset), latency, cells) for offset, latency, cells in rows]
