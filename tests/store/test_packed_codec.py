"""The packed form of an hour of results gives back exactly what went in, or says why not."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tasks.store.packed_codec import (
    FORMAT_VERSION,
    PackedColumns,
    decode_hour,
    decode_starts,
    encode_hour,
)

HOUR = datetime(2026, 11, 3, 14, tzinfo=UTC)
H = int(HOUR.timestamp())


def hour_of_rows() -> list[dict]:
    rows = []
    for minute in range(60):
        slot = HOUR + timedelta(minutes=minute)
        failed = minute in (17, 18)
        rows.append(
            {
                "scheduled_at": slot,
                "started_at": slot + timedelta(milliseconds=37 * minute, microseconds=minute),
                "verdict": "fail" if failed else "pass",
                "duration_ms": None if minute == 30 else 100.0 + minute / 10,
                "status_code": None if minute == 30 else 503 if failed else 200,
                "failing_step": "login" if failed else None,
                "error": "HTTP 503" if failed else None,
                "attempts": 2 if failed else 1,
                "detail": {"steps": [{"name": "login", "ok": False}]} if failed else {},
                "cert_expires_at": HOUR + timedelta(days=40, microseconds=3),
                "flow_run_id": "8d1c6c1e-0000-4000-8000-000000000001",
                "simulated": minute == 59,
            }
        )
    return rows


def test_an_hour_round_trips_every_field_exactly() -> None:
    rows = hour_of_rows()
    payload = encode_hour(H, PackedColumns.from_rows(rows[::-1]))

    assert payload[0] == FORMAT_VERSION
    assert decode_hour(H, payload).rows() == rows  # ordered by start, whatever the input order


def test_a_results_hour_is_far_smaller_packed_than_its_rows() -> None:
    payload = encode_hour(H, PackedColumns.from_rows(hour_of_rows()))
    assert len(payload) < 60 * 20  # under 20 bytes a result; a row with its indexes is ~300


def test_an_empty_hour_round_trips() -> None:
    assert len(decode_hour(H, encode_hour(H, PackedColumns.from_rows([])))) == 0


def test_the_starts_alone_decode_as_the_whole_hour_gives_them() -> None:
    payload = encode_hour(H, PackedColumns.from_rows(hour_of_rows()[::-1]))
    starts = decode_starts(H, payload)
    assert starts.tolist() == decode_hour(H, payload).started_us.tolist()
    assert len(decode_starts(H, encode_hour(H, PackedColumns.from_rows([])))) == 0
    with pytest.raises(ValueError, match=f"packed hour {H} is damaged"):
        decode_starts(H, payload[:40])


def test_a_result_started_outside_the_hour_is_refused_by_its_start() -> None:
    rows = hour_of_rows()
    rows[5]["started_at"] = HOUR + timedelta(hours=1, seconds=2)
    with pytest.raises(ValueError, match=r"started at 2026-11-03T15:00:02\+00:00 is not in"):
        encode_hour(H, PackedColumns.from_rows(rows))


def test_unknown_versions_and_damaged_payloads_are_named() -> None:
    payload = encode_hour(H, PackedColumns.from_rows(hour_of_rows()))
    with pytest.raises(ValueError, match=f"packed hour {H}: unknown format version 9"):
        decode_hour(H, b"\x09" + payload[1:])
    with pytest.raises(ValueError, match=f"packed hour {H} is damaged"):
        decode_hour(H, payload[:40])
    assert zlib.decompress(payload[1:])  # the body is a plain zlib stream


def test_take_and_concat_keep_rows_aligned() -> None:
    cols = PackedColumns.from_rows(hour_of_rows())
    odd = cols.take(np.arange(len(cols)) % 2 == 1)
    even = cols.take(np.arange(len(cols)) % 2 == 0)
    merged = PackedColumns.concat([odd, even])
    assert decode_hour(H, encode_hour(H, merged)).rows() == hour_of_rows()


def test_values_equal_in_python_but_not_in_json_come_back_as_they_were() -> None:
    rows = hour_of_rows()
    details = [{"ok": True}, {"ok": 1}, {"ok": 1.0}, {"ok": -0.0}, {"ok": 0.0}, {"a": 1, "b": "x"}]
    for row, detail in zip(rows, details, strict=False):
        row["detail"] = detail
    rows[-1]["detail"] = {"b": "x", "a": 1}  # the same JSON as another, keys in another order
    rows[-2]["status_code"] = True

    back = decode_hour(H, encode_hour(H, PackedColumns.from_rows(rows))).rows()

    def typed(value: object) -> str:
        return repr(value) if not isinstance(value, dict) else repr(sorted(value.items()))

    assert [typed(r["detail"]) for r in back] == [typed(r["detail"]) for r in rows]
    assert [typed(r["status_code"]) for r in back] == [typed(r["status_code"]) for r in rows]
