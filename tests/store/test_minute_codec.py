"""An hour of minute rollups packed gives back every bucket and its verdict sums exactly, in
either format version, or says why not."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from tasks.store.minute_codec import (
    MINUTES_FORMAT_VERSION,
    decode_minute_sums,
    decode_minutes,
    encode_minutes,
)
from tasks.store.rollup_cells import VERDICT_COLUMNS, Bucket

HOUR = 1_793_577_600


def buckets() -> dict[int, Bucket]:
    out = {}
    for minute in range(0, 60, 2):
        bucket = Bucket()
        bucket.add_result("pass", 40, 120.5, HOUR + minute * 60 + 3)
        if minute % 10 == 0:
            bucket.add_result("fail", -1, float("nan"), HOUR + minute * 60 + 40)
        if minute % 6 == 0:
            bucket.add_result("degraded", 52, 310.0, HOUR + minute * 60 + 59)
            bucket.add_result("degraded", 53, 320.0, HOUR + minute * 60 + 12)
        out[HOUR + minute * 60] = bucket
    return out


def version_1(hour_start: int, minutes: dict[int, Bucket]) -> bytes:
    """A payload as format version 1 wrote it: the version byte, then zlib'd JSON cells."""
    rows = [
        [
            start - hour_start,
            b.latency_sum_ms,
            {k: [c, t - hour_start] for k, (c, t) in b.cells.items()},
        ]
        for start, b in sorted(minutes.items())
    ]
    return b"\x01" + zlib.compress(json.dumps(rows).encode())


def bucket_sums(minutes: dict[int, Bucket]) -> tuple[list[int], list[int]]:
    """Verdict counts and latest starts (-1: none) of buckets, through their stored rows."""
    rows = [b.as_row() for b in minutes.values()]
    counts = [sum(r[f"{v}_count"] for r in rows) for v in VERDICT_COLUMNS]
    lasts = [max((r[f"last_{v}_at"] or -1 for r in rows), default=-1) for v in VERDICT_COLUMNS]
    return counts, lasts


def test_an_hour_of_minutes_round_trips() -> None:
    payload = encode_minutes(HOUR, buckets())
    assert payload[0] == MINUTES_FORMAT_VERSION == 2
    back = decode_minutes(HOUR, payload)
    assert {m: b.as_row() for m, b in back.items()} == {m: b.as_row() for m, b in buckets().items()}
    assert len(payload) < 30 * 25  # a minute row with its index is ~220 bytes


def test_the_sums_of_each_minute_are_its_buckets_counts_and_latest_starts() -> None:
    sums = decode_minute_sums(HOUR, encode_minutes(HOUR, buckets()))
    assert sums.start.tolist() == sorted(buckets())
    for i, (start, bucket) in enumerate(sorted(buckets().items())):
        counts, lasts = bucket_sums({start: bucket})
        assert sums.counts[i].tolist() == counts
        assert sums.last[i].tolist() == lasts


def test_sums_over_part_of_an_hour_equal_the_buckets_of_those_minutes() -> None:
    payload = encode_minutes(HOUR, buckets())
    sums = decode_minute_sums(HOUR, payload)
    lo, hi = HOUR + 17 * 60, HOUR + 43 * 60
    inside = (sums.start >= lo) & (sums.start < hi)
    partial = decode_minutes(HOUR, payload, wanted=lambda m: lo <= m < hi)
    counts, lasts = bucket_sums(partial)
    assert sums.counts[inside].sum(axis=0).tolist() == counts
    assert sums.last[inside].max(axis=0).tolist() == lasts


def test_version_1_payloads_already_written_still_decode() -> None:
    old = version_1(HOUR, buckets())
    back = decode_minutes(HOUR, old)
    assert {m: b.as_row() for m, b in back.items()} == {m: b.as_row() for m, b in buckets().items()}
    new = decode_minute_sums(HOUR, encode_minutes(HOUR, buckets()))
    sums = decode_minute_sums(HOUR, old)
    for name in ("start", "counts", "last"):
        np.testing.assert_array_equal(getattr(sums, name), getattr(new, name))


def test_an_empty_hour_has_no_sums() -> None:
    sums = decode_minute_sums(HOUR, encode_minutes(HOUR, {}))
    assert (len(sums), sums.counts.shape) == (0, (0, len(VERDICT_COLUMNS)))


def test_a_minute_outside_the_hour_and_damaged_payloads_are_named() -> None:
    with pytest.raises(ValueError, match=f"minute {HOUR + 3600} is not a minute of the hour"):
        encode_minutes(HOUR, {HOUR + 3600: Bucket()})
    for decode in (decode_minutes, decode_minute_sums):
        with pytest.raises(ValueError, match="unknown format version 7"):
            decode(HOUR, b"\x07abc")
        with pytest.raises(ValueError, match="unknown format version None"):
            decode(HOUR, b"")
        with pytest.raises(ValueError, match="are damaged"):
            decode(HOUR, encode_minutes(HOUR, buckets())[:20])
        with pytest.raises(ValueError, match="are damaged"):
            decode(HOUR, version_1(HOUR, buckets())[:20])


def test_sums_of_the_wrong_size_are_damaged() -> None:
    block = zlib.compress(b"\x02\x00" + bytes(10))  # two minutes need 2 + 2 x 33 bytes
    payload = b"\x02" + len(block).to_bytes(4, "little") + block
    with pytest.raises(ValueError, match="are damaged: 12 bytes of sums for 2 minutes"):
        decode_minute_sums(HOUR, payload)
