"""Rollup rows built from raw results as arrays equal the rows of buckets built result by result."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tasks.store.cell_frames import CellFrame
from tasks.store.raw_reads import RawRows
from tasks.store.rollup_cells import Bucket, latency_codes

START = 1_750_000_000 - 1_750_000_000 % 86_400


def raw(n: int, seed: int) -> RawRows:
    """``n`` results of three checks in two regions over two days, several a minute, in start
    order; some without a duration, some with a verdict the rollup columns do not count."""
    rng = np.random.default_rng(seed)
    started = np.sort(START + rng.integers(0, 2 * 86_400, n)) * 1_000_000
    duration = rng.choice([100.0, 300.0, 250.5, 1_000.0, math.nan], n)
    verdicts = rng.choice(["pass", "pass", "fail", "degraded", "error", "skipped"], n)
    return RawRows(
        check_id=rng.choice(["api", "checkout", "login"], n).astype(object),
        region=rng.choice(["eu-west-1", "us-east-1"], n).astype(object),
        scheduled_us=started,
        started_us=started,
        verdict=verdicts.astype(object),
        duration_ms=duration,
        simulated=np.zeros(n, dtype=bool),
        extra={},
    )


def by_result(rows: RawRows, width: int) -> dict[tuple[str, str, int], dict]:
    buckets: dict[tuple[str, str, int], Bucket] = {}
    codes = latency_codes(rows.duration_ms)
    for check, region, at, verdict, code, ms in zip(
        rows.check_id,
        rows.region,
        rows.started_s.tolist(),
        rows.verdict,
        codes,
        rows.duration_ms,
        strict=True,
    ):
        key = (check, region, at - at % width)
        buckets.setdefault(key, Bucket()).add_result(verdict, int(code), float(ms), at)
    return {k: b.as_row() for k, b in buckets.items()}


def close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        left, right = dict(a[key]), dict(b[key])
        assert left.pop("latency_sum_ms") == pytest.approx(right.pop("latency_sum_ms")), key
        assert left == right, key


@pytest.mark.parametrize("seed", [1, 2])
def test_minute_and_hour_rows_equal_the_buckets_built_result_by_result(seed: int) -> None:
    rows = raw(5_000, seed)
    minutes = CellFrame.from_raw(rows, 60)
    close(minutes.rows(), by_result(rows, 60))
    close(minutes.coarsened(3600).rows(), by_result(rows, 3600))
    close(minutes.coarsened(3600).coarsened(86_400).rows(), by_result(rows, 86_400))


def test_rows_are_only_those_of_the_keys_asked_for() -> None:
    rows = raw(2_000, 3)
    expected = by_result(rows, 3600)
    wanted = set(list(expected)[::3])
    assert set(CellFrame.from_raw(rows, 3600).rows(wanted)) == wanted


def test_a_bucket_counts_every_verdict_in_its_cells_and_the_columns_it_has() -> None:
    rows = raw(50, 4)
    rows.verdict[:] = "skipped"
    [row, *_] = CellFrame.from_raw(rows, 86_400 * 7).rows().values()
    assert row["pass_count"] == 0 and row["last_pass_at"] is None
    assert sum(count for count, _ in row["cells"].values()) == row["results"]
    assert all(key.startswith("skipped:") for key in row["cells"])


def test_no_results_give_no_rows() -> None:
    empty = raw(0, 5)
    assert CellFrame.from_raw(empty, 60).rows() == {}
    assert CellFrame.from_raw(empty, 60).coarsened(3600).rows() == {}
