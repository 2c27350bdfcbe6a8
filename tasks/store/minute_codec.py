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
from collections.abc import Mapping

from tasks.store.rollup_cells import VERDICT_COLUMNS, Bucket

__all__ = ["MINUTES_FORMAT_VERSION", "decode_minutes", "encode_minutes"]

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


def decode_minutes(hour_start: int, payload: bytes) -> dict[int, Bucket]:
    """The minute buckets packed by :func:`encode_minutes`, by bucket start.

    Raises:
        ValueError: the payload is of an unknown format version or damaged.
    """
    if not payload or payload[0] != MINUTES_FORMAT_VERSION:
        version = payload[0] if payload else None
        raise ValueError(f"packed minutes {hour_start}: unknown format version {version}")
    try:
        rows = json.loads(zlib.decompress(payload[1:]))
    except (zlib.error, ValueError) as exc:
        raise ValueError(f"packed minutes {hour_start} are damaged: {exc}") from None
    out = {}
    for offset, latency, cells in rows:
        bucket = Bucket()
        bucket.add_row(
            {
                "cells": {k: [c, last + hour_start] for k, (c, last) in cells.items()},
                "latency_sum_ms": latency,
                **{f"{v}_count": 0 for v in VERDICT_COLUMNS},
            }
        )
        for key, (count, _) in bucket.cells.items():
            verdict = key.rpartition(":")[0]
            bucket.verdicts[verdict] = bucket.verdicts.get(verdict, 0) + count
        out[hour_start + offset] = bucket
    return out
