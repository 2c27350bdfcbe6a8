"""Deterministic, time-stratified samples of big monitoring windows.

A window with more rows than the policy's ``max_window_rows`` is judged on a sample of that many
rows. The rows are ordered by time and cut into up to 100 strata of equal size (the time
quantiles of the window); each stratum gives the same share of its rows, chosen by a generator
seeded with the policy's seed. So every part of the window is represented in proportion (a
Monday spike is not lost to a quiet weekend), and the same window with the same seed always
gives the same rows: a rerun decides the same way. The sample keeps the window's row order.

The effect on decisions is measured by ``traceo bench --only drift_check`` (full windows against
samples of them): see docs/drift.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = ["STRATA", "sample_window"]

STRATA = 100


def sample_window(
    frame: pd.DataFrame, max_rows: int, seed: int = 0, time_column: str | None = None
) -> pd.DataFrame:
    """At most ``max_rows`` rows of ``frame``, stratified by ``time_column`` (else row order).

    Raises:
        ValueError: ``max_rows`` is not positive.
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be positive, not {max_rows}")
    n = len(frame)
    if n <= max_rows:
        return frame
    if time_column is not None and time_column in frame.columns:
        column = frame[time_column]
        # Datetimes as int64 nanoseconds: a time-zone-aware column would become Timestamp objects.
        is_time = ptypes.is_datetime64_any_dtype(column.dtype)
        order = np.argsort(column.array.asi8 if is_time else column.to_numpy(), kind="stable")
    else:
        order = np.arange(n)
    strata = min(STRATA, max_rows)
    bounds = np.linspace(0, n, strata + 1).round().astype(np.int64)
    # Each stratum's quota, rounded so that the quotas add up to exactly max_rows.
    quota_bounds = np.linspace(0, max_rows, strata + 1).round().astype(np.int64)
    rng = np.random.default_rng(seed)
    chosen = []
    for k in range(strata):
        members = order[bounds[k] : bounds[k + 1]]
        take = int(quota_bounds[k + 1] - quota_bounds[k])
        chosen.append(rng.choice(members, size=min(take, len(members)), replace=False))
    rows = np.sort(np.concatenate(chosen))
    return frame.iloc[rows]
