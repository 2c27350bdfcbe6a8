"""Time-stratified, seeded samples of big windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.ml.sampling import sample_window


def _window(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    times = pd.Timestamp("2026-11-01", tz="UTC") + pd.to_timedelta(rng.permutation(rows), unit="s")
    return pd.DataFrame({"event_timestamp": times, "value": np.arange(rows)})


def test_a_small_window_is_left_whole() -> None:
    frame = _window(500)
    assert sample_window(frame, 1_000, time_column="event_timestamp") is frame


def test_the_sample_has_exactly_max_rows_in_window_order_and_is_reproducible() -> None:
    frame = _window(10_000)

    first = sample_window(frame, 1_000, seed=3, time_column="event_timestamp")
    again = sample_window(frame, 1_000, seed=3, time_column="event_timestamp")
    other = sample_window(frame, 1_000, seed=4, time_column="event_timestamp")

    assert len(first) == 1_000 and first.index.is_unique
    assert first.index.is_monotonic_increasing
    assert first.equals(again)
    assert not first.index.equals(other.index)


def test_every_part_of_the_time_axis_gives_its_share() -> None:
    frame = _window(100_000)

    sample = sample_window(frame, 5_000, seed=1, time_column="event_timestamp")

    seconds = (sample["event_timestamp"] - pd.Timestamp("2026-11-01", tz="UTC")).dt.total_seconds()
    per_tenth = np.bincount((seconds // 10_000).astype(int), minlength=10)
    assert per_tenth.tolist() == [500] * 10


def test_max_rows_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_rows must be positive"):
        sample_window(_window(10), 0)
