"""Benchmark ``drift_check``: drift decisions on 50 columns, a 1,000,000-row reference window
against a 1,000,000-row current window.

Ours: :func:`tasks.ml.drift.detect_drift`. Reference: Evidently 0.7.23's
``Report([DataDriftPreset()], include_tests=True)`` on the same windows and column types. The
columns cover every branch of Evidently's method choice above 1,000 reference rows: 20
continuous numeric (Wasserstein), 5 integer columns with 6-40 values (Wasserstein), 5 with at
most 5 values (Jensen-Shannon on counts), 15 categorical with 3-30 string levels and 5 binary
ones (Jensen-Shannon); about half of them drift, some near the 0.1 threshold. Evidently is too
slow for the full windows (about 7 microseconds per row and column, ~12 minutes here): it runs
on the first 100,000 rows of each window (20,000 with ``quick``), its time is extrapolated
linearly to the full size, and the per-column decisions of both engines are compared on that
subset. Generating the data is not timed.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import pandas as pd

from deployments.bench import Measurement
from tasks.ml.drift import DriftResult, detect_drift

__all__ = ["make_windows", "run"]


def make_windows(rows: int, seed: int = 8) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """A reference and a current window of ``rows`` rows each, and the categorical columns."""
    rng = np.random.default_rng(seed)
    reference: dict[str, np.ndarray] = {}
    current: dict[str, np.ndarray] = {}
    categorical: list[str] = []
    for i in range(20):
        # Shifts in units of the spread: 0 (stable) up to 0.3, several close to the 0.1 threshold.
        shift = float(rng.choice([0.0, 0.0, 0.06, 0.09, 0.12, 0.3]))
        scale = float(rng.uniform(0.5, 200))
        if i % 3 == 0:
            reference[f"num_{i}"] = np.round(rng.lognormal(3, 0.8, rows), 2)
            current[f"num_{i}"] = np.round(rng.lognormal(3 + shift, 0.8, rows), 2)
        else:
            reference[f"num_{i}"] = rng.normal(100, scale, rows)
            current[f"num_{i}"] = rng.normal(100 + shift * scale, scale, rows)
    for i in range(5):
        values = int(rng.integers(6, 41))
        p = float(rng.choice([0.5, 0.5, 0.53, 0.6]))
        reference[f"int_{i}"] = rng.binomial(values - 1, 0.5, rows)
        current[f"int_{i}"] = rng.binomial(values - 1, p, rows)
    for i in range(5):
        values = int(rng.integers(2, 6))
        reference[f"few_{i}"] = rng.integers(0, values, rows)
        current[f"few_{i}"] = _skewed(rng, values, rows, float(rng.choice([0.0, 0.3, 0.8])))
    for i in range(20):
        levels = 2 if i >= 15 else int(rng.integers(3, 31))
        names = np.array([f"level_{i}_{k}" for k in range(levels)], dtype=object)
        tilt = float(rng.choice([0.0, 0.0, 0.2, 0.35, 1.0]))
        reference[f"cat_{i}"] = names[rng.integers(0, levels, rows)]
        current[f"cat_{i}"] = names[_skewed(rng, levels, rows, tilt)]
        categorical.append(f"cat_{i}")
    return pd.DataFrame(reference), pd.DataFrame(current), categorical


def _skewed(rng: np.random.Generator, levels: int, rows: int, tilt: float) -> np.ndarray:
    weights = np.linspace(1.0, 1.0 + tilt * levels, levels)
    return rng.choice(levels, rows, p=weights / weights.sum())


def _evidently(
    reference: pd.DataFrame, current: pd.DataFrame, categorical: list[str]
) -> DriftResult:
    from tasks.ml.evidently_report import run_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_report(reference, current, categorical=categorical).decisions()


def run(quick: bool) -> list[Measurement]:
    rows, subset = (100_000, 20_000) if quick else (1_000_000, 100_000)
    reference, current, categorical = make_windows(rows)

    ours_s = float("inf")
    for _ in range(2):  # best of two: the first run also pays first-touch page faults
        began = time.perf_counter()
        ours = detect_drift(reference, current, categorical=categorical)
        ours_s = min(ours_s, time.perf_counter() - began)

    ref_sub, cur_sub = reference.iloc[:subset], current.iloc[:subset]
    _evidently(ref_sub.iloc[:2_000], cur_sub.iloc[:2_000], categorical)  # untimed: import, warm-up
    began = time.perf_counter()
    theirs = _evidently(ref_sub, cur_sub, categorical)
    evidently_s = (time.perf_counter() - began) * rows / subset
    ours_sub = detect_drift(ref_sub, cur_sub, categorical=categorical)

    mismatched = [
        a.column
        for a, b in zip(ours_sub.columns, theirs.columns, strict=True)
        if (a.column, a.method, a.drifted) != (b.column, b.method, b.drifted)
    ]
    agree = not mismatched and ours_sub.dataset_drift == theirs.dataset_drift
    ratio = evidently_s / ours_s if ours_s > 0 else float("inf")
    met = agree and ratio >= 10 and (quick or ours_s < 8.0)
    methods = pd.Series([c.method for c in ours.columns]).value_counts().to_dict()
    binned = [c.score_error for c in ours.columns if c.score_error > 0]
    note = (
        f"{rows:,} reference + {rows:,} current rows x {len(ours.columns)} columns "
        f"({', '.join(f'{n} {m}' for m, n in methods.items())}); ours: "
        f"{len(ours.drifted_columns)} drifted columns, dataset drift {ours.dataset_drift}, best "
        f"of 2 runs, {len(binned)} Wasserstein decisions from histograms (max score error "
        f"{max(binned, default=0.0):.1e}), load average {os.getloadavg()[0]:.1f}; "
        f"Evidently DataDriftPreset (include_tests=True, after an untimed warm-up) "
        f"timed on the first {subset:,} rows of each window and extrapolated linearly to "
        f"{rows:,}; per-column decisions on that subset "
        + ("agree on all columns" if agree else f"DISAGREE on {mismatched}")
        + f" ({len(theirs.drifted_columns)} drifted, dataset drift {theirs.dataset_drift})"
    )
    return [
        Measurement(
            workload="drift_check",
            ours=ours_s,
            reference=evidently_s,
            unit="s",
            ratio=ratio,
            target="< 8 s for 1M rows x 50 columns, >= 10x Evidently, same decisions",
            met=met,
            note=note,
        )
    ]
