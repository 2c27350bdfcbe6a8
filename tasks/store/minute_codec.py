"""The packed form of an hour of minute rollups (one check, one region).

Format version 1, the bytes of ``check_packed_hours.minutes``::

    byte 0     the version, 1
    bytes 1..  a zlib stream of UTF-8 JSON: ``[[minute, latency_sum_ms, cells], ...]``

``minute`` is the bucket's start in seconds after the hour (0, 60, ... 3540), ascending;
``cells`` is the bucket's ``{"verdict:code": [count, latest start]}``
(:mod:`tasks.store.rollup_cells`) with each latest start in seconds after the hour. Everything a
stored minute row holds follows from these two: its verdict counts are its cells' counts.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Mapping

from tasks.store.rollup_cells import VERDICT_COLUMNS, Bucket

__all__ = ["MINUTES_FORMAT_VERSION", "decode_minute_sums", "decode_minutes", "encode_minutes"]

MINUTES_FORMAT_VERSION = 1


def encode_minutes(hour_start: int, buckets: Mapping[int, Bucket]) -> bytes:
    """The packed bytes of minute ``buckets`` (by bucket start) of the hour at ``hour_start``.

    Raises:
        ValueError: a bucket does not start in that hour.
    """
    rows = []
    for start in sorted(buckets):
        if not hour_start <= start < hour_start + 3600 or start % 60:
            raise ValueError(f"minute {start} is not a minute of the hour {hour_start}")
        bucket = buckets[start]
        cells = {k: [c, last - hour_start] for k, (c, last) in bucket.cells.items()}
        rows.append([start - hour_start, bucket.latency_sum_ms, cells])
    body = json.dumps(rows, separators=(",", ":"), sort_keys=True).encode()
    return bytes([MINUTES_FORMAT_VERSION]) + zlib.compress(body, 6)


def decode_minutes(
    hour_start: int, payload: bytes, wanted: Callable[[int], bool] | None = None
) -> dict[int, Bucket]:
    """The minute buckets packed by :func:`encode_minutes`, by bucket start.

    Args:
        hour_start: the hour's start (epoch seconds).
        payload: the packed bytes.
        wanted: only the minutes whose start it accepts (None: all).

    Raises:
        ValueError: the payload is of an unknown format version or damaged.
    """
    out = {}
    for start, latency, cells in _minutes(hour_start, payload, wanted):
        bucket = Bucket()
        bucket.latency_sum_ms = latency
        verdicts = bucket.verdicts
        for key, (count, last) in cells.items():
            bucket.cells[key] = [count, last + hour_start]
            verdict = key.rpartition(":")[0]
            verdicts[verdict] = verdicts.get(verdict, 0) + count
        out[start] = bucket
    return out


def decode_minute_sums(
    hour_start: int, payload: bytes, wanted: Callable[[int], bool] | None = None
) -> list[tuple[int, list[int], list[int | None]]]:
    """``(bucket start, counts, latest starts)`` of each packed minute, both lists in
    :data:`~tasks.store.rollup_cells.VERDICT_COLUMNS` order (None: no result of that verdict).

    What verdict sums need, without building buckets: an SLO's window edge reads most minutes
    of an hour, and building their buckets was most of a cycle's time on a packed store.

    Raises:
        ValueError: the payload is of an unknown format version or damaged.
    """
    out = []
    for start, _, cells in _minutes(hour_start, payload, wanted):
        counts = [0] * len(VERDICT_COLUMNS)
        lasts: list[int | None] = [None] * len(VERDICT_COLUMNS)
        for key, (count, last) in cells.items():
            i = _VERDICT_INDEX[key.rpartition(":")[0]]
            counts[i] += count
            held = lasts[i]
            lasts[i] = last + hour_start if held is None else max(held, last + hour_start)
        out.append((start, counts, lasts))
    return out


_VERDICT_INDEX = {verdict: i for i, verdict in enumerate(VERDICT_COLUMNS)}


def _minutes(
    hour_start: int, payload: bytes, wanted: Callable[[int], bool] | None
) -> list[tuple[int, float, dict[str, list[int]]]]:
    """``(bucket start, latency sum, cells with starts after the hour)`` of the wanted minutes."""
    if not payload or payload[0] != MINUTES_FORMAT_VERSION:
        version = payload[0] if payload else None
        raise ValueError(f"packed minutes {hour_start}: unknown format version {version}")
    try:
        rows = json.loads(zlib.decompress(payload[1:]))
    except (zlib.error, ValueError) as exc:
        raise ValueError(f"packed minutes {hour_start} are damaged: {exc}") from None
    return [
        (hour_start + offset, latency, cells)
        for offset, latency, cells in rows
        if wanted is None or wanted(hour_start + offset)
    ]
