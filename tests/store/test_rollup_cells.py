from __future__ import annotations

import numpy as np
import pytest

from tasks.store.rollup_cells import LADDER, NO_LATENCY, good_limit, latency_codes


def meets(op: str, threshold: float, values: list[float]) -> list[bool]:
    limit = good_limit(op, threshold)  # type: ignore[arg-type]
    assert limit is not None
    return [bool(c <= limit) for c in latency_codes(np.array(values))]


@pytest.mark.parametrize("op", ["lt", "lte"])
def test_thresholds_on_the_ladder_classify_like_the_raw_comparison(op: str) -> None:
    values = [0.2, 1.0, 99.9, 250.0, 299.99, 300.0, 300.01, 1e9]
    for threshold in (1.0, 250.0, 300.0, 1500.0):
        expected = [v < threshold if op == "lt" else v <= threshold for v in values]
        assert meets(op, threshold, values) == expected


def test_a_threshold_off_the_ladder_has_no_limit() -> None:
    assert good_limit("lt", 1234.0) is None
    assert good_limit("lte", 0.5) is None


def test_missing_durations_have_their_own_code() -> None:
    assert latency_codes(np.array([np.nan, 1.0])).tolist() == [NO_LATENCY, 1]
    assert LADDER[0] == 1.0 and LADDER[-1] == 9_000_000.0
