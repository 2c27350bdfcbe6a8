"""An hour of minute rollups packed gives back every bucket exactly, or says why not."""

from __future__ import annotations

import pytest

from tasks.store.minute_codec import MINUTES_FORMAT_VERSION, decode_minutes, encode_minutes
from tasks.store.rollup_cells import Bucket

HOUR = 1_793_577_600


def buckets() -> dict[int, Bucket]:
    out = {}
    for minute in range(0, 60, 2):
        bucket = Bucket()
        bucket.add_result("pass", 40, 120.5, HOUR + minute * 60 + 3)
        if minute % 10 == 0:
            bucket.add_result("fail", -1, float("nan"), HOUR + minute * 60 + 40)
        out[HOUR + minute * 60] = bucket
    return out


def test_an_hour_of_minutes_round_trips() -> None:
    payload = encode_minutes(HOUR, buckets())
    assert payload[0] == MINUTES_FORMAT_VERSION
    back = decode_minutes(HOUR, payload)
    assert {m: b.as_row() for m, b in back.items()} == {m: b.as_row() for m, b in buckets().items()}
    assert len(payload) < 30 * 25  # a minute row with its index is ~220 bytes


def test_a_minute_outside_the_hour_and_damaged_payloads_are_named() -> None:
    with pytest.raises(ValueError, match=f"minute {HOUR + 3600} is not a minute of the hour"):
        encode_minutes(HOUR, {HOUR + 3600: Bucket()})
    with pytest.raises(ValueError, match="unknown format version 7"):
        decode_minutes(HOUR, b"\x07abc")
    with pytest.raises(ValueError, match="are damaged"):
        decode_minutes(HOUR, encode_minutes(HOUR, buckets())[:20])
