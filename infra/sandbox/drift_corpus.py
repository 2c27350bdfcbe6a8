"""A differential corpus for drift: feature tables with the columns that break drift engines.

Each :class:`DriftCase` is a reference and a current window, the column kinds a feature schema
would give (:mod:`tasks.ml.column_types`), and what the case is about. The test suite and the
``drift_parity`` benchmark run every case through the fast engine and through Evidently with the
same kinds: the per-column method, each column's flag and the dataset decision must agree.

The cases cover unsigned and nullable integers, booleans of every dtype, +-inf, constant columns,
small references (under 1,000 rows: the p-value tests), a feature without any value in a window,
text ids, datetimes, new categories, few-valued numerics and scores near the thresholds. Every
case is generated from a fixed seed, so a run is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tasks.ml.column_types import Kind

__all__ = ["CASES", "DriftCase", "drift_cases"]

_ROWS = 3_000
_SMALL = 400


@dataclass(frozen=True)
class DriftCase:
    """One data set: two windows, the schema's kinds and what it exercises."""

    name: str
    about: str
    reference: pd.DataFrame
    current: pd.DataFrame
    kinds: dict[str, Kind] = field(default_factory=dict)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _uint_wide() -> DriftCase:
    rng = _rng(1)
    ref = {
        "bytes_sent": rng.integers(0, 4_000_000_000, _ROWS, dtype=np.uint32),
        "latency_ms": rng.gamma(2.0, 40.0, _ROWS),
    }
    cur = {
        "bytes_sent": rng.integers(0, 4_000_000_000, _ROWS + 500, dtype=np.uint32),
        "latency_ms": rng.gamma(2.0, 40.0, _ROWS + 500),
    }
    return DriftCase(
        "uint32_wide",
        "uint32 up to 4e9 with identical distributions (differences of unsigned values wrap)",
        pd.DataFrame(ref),
        pd.DataFrame(cur),
        {"bytes_sent": "numeric", "latency_ms": "numeric"},
    )


def _uint_narrow() -> DriftCase:
    rng = _rng(2)
    return DriftCase(
        "uint8_shift",
        "uint8 columns: one shifted by 30 levels, one stable with 4 values",
        pd.DataFrame(
            {
                "retries": rng.binomial(255, 0.3, _ROWS).astype(np.uint8),
                "tier": rng.integers(0, 4, _ROWS).astype(np.uint8),
            }
        ),
        pd.DataFrame(
            {
                "retries": rng.binomial(255, 0.42, _ROWS).astype(np.uint8),
                "tier": rng.integers(0, 4, _ROWS).astype(np.uint8),
            }
        ),
        {"retries": "numeric", "tier": "numeric"},
    )


def _nullable_int(rng: np.random.Generator, mean: float, rows: int, missing: float) -> pd.Series:
    values = pd.Series(rng.poisson(mean, rows), dtype="Int64")
    values[rng.random(rows) < missing] = pd.NA
    return values


def _nullable_integers() -> DriftCase:
    rng = _rng(3)
    return DriftCase(
        "nullable_int64",
        "nullable Int64 with 20% missing: one drifted, one stable, one with few values",
        pd.DataFrame(
            {
                "orders_30d": _nullable_int(rng, 12, _ROWS, 0.2),
                "logins_7d": _nullable_int(rng, 30, _ROWS, 0.2),
                "devices": _nullable_int(rng, 1, _ROWS, 0.1).clip(upper=3),
            }
        ),
        pd.DataFrame(
            {
                "orders_30d": _nullable_int(rng, 16, _ROWS, 0.2),
                "logins_7d": _nullable_int(rng, 30, _ROWS, 0.3),
                "devices": _nullable_int(rng, 1, _ROWS, 0.1).clip(upper=3),
            }
        ),
        {"orders_30d": "numeric", "logins_7d": "numeric", "devices": "numeric"},
    )


def _booleans(rng: np.random.Generator, share: float, rows: int) -> dict[str, pd.Series]:
    flags = rng.random(rows) < share
    nullable = pd.Series(flags, dtype="boolean")
    nullable[rng.random(rows) < 0.1] = pd.NA
    objects = pd.Series(flags.tolist(), dtype=object)
    objects[rng.random(rows) < 0.05] = None
    return {
        "is_foreign": pd.Series(rng.random(rows) < 0.1),
        "has_2fa": nullable,
        "opted_in": objects,
        "new_device": pd.Series(rng.random(rows) < share),
    }


def _boolean_case() -> DriftCase:
    rng = _rng(4)
    return DriftCase(
        "booleans",
        "bool, nullable boolean and object True/False/None columns; two drift",
        pd.DataFrame(_booleans(rng, 0.3, _ROWS)),
        pd.DataFrame(_booleans(rng, 0.45, _ROWS)),
        dict.fromkeys(("is_foreign", "has_2fa", "opted_in", "new_device"), "categorical"),
    )


def _with_infinities(values: np.ndarray, rng: np.random.Generator, share: float) -> np.ndarray:
    values = values.copy()
    hit = rng.random(len(values)) < share
    values[hit] = np.where(rng.random(hit.sum()) < 0.5, np.inf, -np.inf)
    return values


def _infinities() -> DriftCase:
    rng = _rng(5)
    base = rng.normal(50, 10, _ROWS)
    return DriftCase(
        "infinities",
        "+-inf in 2-30% of values (dropped as missing), one column shifted",
        pd.DataFrame(
            {
                "ratio": _with_infinities(base, rng, 0.02),
                "margin": _with_infinities(rng.normal(0, 1, _ROWS), rng, 0.05),
            }
        ),
        pd.DataFrame(
            {
                "ratio": _with_infinities(rng.normal(50, 10, _ROWS), rng, 0.3),
                "margin": _with_infinities(rng.normal(0.4, 1, _ROWS), rng, 0.05),
            }
        ),
        {"ratio": "numeric", "margin": "numeric"},
    )


def _constants() -> DriftCase:
    rng = _rng(6)
    return DriftCase(
        "constant_columns",
        "constant numeric and categorical columns; one constant that changes value",
        pd.DataFrame(
            {
                "version": np.full(_ROWS, 3.0),
                "region": np.full(_ROWS, "eu-west-1", dtype=object),
                "schema": np.full(_ROWS, 7),
                "amount": rng.lognormal(3, 1, _ROWS),
            }
        ),
        pd.DataFrame(
            {
                "version": np.full(_ROWS, 3.0),
                "region": np.full(_ROWS, "eu-west-1", dtype=object),
                "schema": np.full(_ROWS, 8),
                "amount": rng.lognormal(3, 1, _ROWS),
            }
        ),
        {"version": "numeric", "region": "categorical", "schema": "numeric", "amount": "numeric"},
    )


def _small_frame(rng: np.random.Generator, rows: int, shift: float) -> pd.DataFrame:
    levels = np.array(["card", "wallet", "bank", "cash"], dtype=object)
    return pd.DataFrame(
        {
            "amount": rng.lognormal(3 + shift, 0.7, rows),
            "items": rng.poisson(3 + 2 * shift, rows),
            "method": levels[rng.integers(0, 4 if shift == 0 else 3, rows)],
            "express": rng.random(rows) < 0.2 + shift / 2,
        }
    )


def _small(name: str, seed: int, rows: tuple[int, int], shift: float) -> Callable[[], DriftCase]:
    def build() -> DriftCase:
        rng = _rng(seed)
        return DriftCase(
            name,
            f"reference of {rows[0]} rows, current of {rows[1]} (KS, chi-square, z-test)",
            _small_frame(rng, rows[0], 0.0),
            _small_frame(rng, rows[1], shift),
            {
                "amount": "numeric",
                "items": "numeric",
                "method": "categorical",
                "express": "categorical",
            },
        )

    return build


def _all_missing() -> DriftCase:
    rng = _rng(8)
    return DriftCase(
        "feature_without_values",
        "one feature all missing in the current window, one in the reference: judged on the rest",
        pd.DataFrame(
            {
                "amount": rng.lognormal(3, 1, _ROWS),
                "score": np.full(_ROWS, np.nan),
                "channel": rng.choice(np.array(["web", "app", "pos"], dtype=object), _ROWS),
                "age_days": rng.integers(0, 3_000, _ROWS),
            }
        ),
        pd.DataFrame(
            {
                "amount": rng.lognormal(3.3, 1, _ROWS),
                "score": rng.random(_ROWS),
                "channel": rng.choice(np.array(["web", "app", "pos"], dtype=object), _ROWS),
                "age_days": pd.Series(pd.NA, index=range(_ROWS), dtype="Int64"),
            }
        ),
        {"amount": "numeric", "score": "numeric", "channel": "categorical", "age_days": "numeric"},
    )


def _ids(rng: np.random.Generator, start: int, rows: int) -> np.ndarray:
    return np.array([f"cus_{n:09d}" for n in rng.permutation(rows) + start], dtype=object)


def _text_ids() -> DriftCase:
    rng = _rng(9)
    levels = np.array(["grocery", "fuel", "travel", "electronics", "dining"], dtype=object)
    return DriftCase(
        "text_ids",
        "string ids unique per row (text: not judged) next to a stable category",
        pd.DataFrame(
            {
                "customer_id": _ids(rng, 0, _ROWS),
                "merchant_category": levels[rng.integers(0, 5, _ROWS)],
                "amount": rng.gamma(2, 30, _ROWS),
            }
        ),
        pd.DataFrame(
            {
                "customer_id": _ids(rng, 5_000_000, _ROWS),
                "merchant_category": levels[rng.integers(0, 5, _ROWS)],
                "amount": rng.gamma(2, 30, _ROWS),
            }
        ),
        {"customer_id": "text", "merchant_category": "categorical", "amount": "numeric"},
    )


def _times(start: str, rows: int, rng: np.random.Generator) -> pd.Series:
    offsets = np.sort(rng.integers(0, 7 * 86_400, rows))
    return pd.Timestamp(start, tz="UTC") + pd.to_timedelta(offsets, unit="s")


def _datetimes() -> DriftCase:
    rng = _rng(10)
    return DriftCase(
        "datetimes",
        "event and sign-up timestamps (datetime: not judged); every new time is a new value",
        pd.DataFrame(
            {
                "event_timestamp": _times("2026-11-01", _ROWS, rng),
                "signed_up": pd.Series(_times("2025-01-01", _ROWS, rng)).dt.tz_localize(None),
                "amount": rng.gamma(2, 30, _ROWS),
                "hour": rng.integers(0, 24, _ROWS),
            }
        ),
        pd.DataFrame(
            {
                "event_timestamp": _times("2026-11-08", _ROWS, rng),
                "signed_up": pd.Series(_times("2025-06-01", _ROWS, rng)).dt.tz_localize(None),
                "amount": rng.gamma(2, 30, _ROWS),
                "hour": rng.integers(0, 24, _ROWS),
            }
        ),
        {
            "event_timestamp": "datetime",
            "signed_up": "datetime",
            "amount": "numeric",
            "hour": "numeric",
        },
    )


def _new_levels() -> DriftCase:
    rng = _rng(11)
    old = np.array([f"m{k}" for k in range(20)], dtype=object)
    new = np.array([f"m{k}" for k in range(14, 40)], dtype=object)
    return DriftCase(
        "new_categories",
        "categories that appear or vanish; a string category stable apart from one new level",
        pd.DataFrame(
            {"merchant": old[rng.integers(0, 20, _ROWS)], "country": _countries(rng, _ROWS, 0.0)}
        ),
        pd.DataFrame(
            {"merchant": new[rng.integers(0, 26, _ROWS)], "country": _countries(rng, _ROWS, 0.01)}
        ),
        {"merchant": "categorical", "country": "categorical"},
    )


def _countries(rng: np.random.Generator, rows: int, new_share: float) -> np.ndarray:
    values = rng.choice(np.array(["DE", "FR", "NL", "ES", "IT"], dtype=object), rows)
    values[rng.random(rows) < new_share] = "PT"
    return values


def _few_values() -> DriftCase:
    rng = _rng(12)
    return DriftCase(
        "few_valued_numerics",
        "numerics with 2-5 distinct values (Jensen-Shannon on counts) and float32",
        pd.DataFrame(
            {
                "stars": rng.integers(1, 6, _ROWS).astype(float),
                "flag": rng.integers(0, 2, _ROWS),
                "load": rng.normal(0.5, 0.1, _ROWS).astype(np.float32),
            }
        ),
        pd.DataFrame(
            {
                "stars": rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], _ROWS, p=[0.1, 0.1, 0.2, 0.3, 0.3]),
                "flag": rng.integers(0, 2, _ROWS),
                "load": rng.normal(0.52, 0.1, _ROWS).astype(np.float32),
            }
        ),
        {"stars": "numeric", "flag": "numeric", "load": "numeric"},
    )


def _near_threshold() -> DriftCase:
    rng = _rng(13)
    n = 20_000
    return DriftCase(
        "near_threshold",
        "Wasserstein shifts of 0.07 and 0.14 spreads around the 0.1 threshold, large windows",
        pd.DataFrame({"below": rng.normal(0, 1, n), "above": rng.normal(0, 1, n)}),
        pd.DataFrame({"below": rng.normal(0.07, 1, n), "above": rng.normal(0.14, 1, n)}),
        {"below": "numeric", "above": "numeric"},
    )


def _feature_table() -> DriftCase:
    rng = _rng(14)

    def frame(rows: int, tilt: float) -> pd.DataFrame:
        cats = np.array(["grocery", "fuel", "travel", "online", "dining", "other"], dtype=object)
        weights = np.linspace(1, 1 + tilt * 6, 6)
        return pd.DataFrame(
            {
                "amount": rng.lognormal(3.5 + tilt / 4, 0.9, rows),
                "hour_of_day": rng.integers(0, 24, rows),
                "account_age_days": rng.integers(0, 4_000, rows),
                "merchant_category": cats[rng.choice(6, rows, p=weights / weights.sum())],
                "channel": rng.choice(np.array(["chip", "online", "tap"], dtype=object), rows),
                "is_foreign": rng.integers(0, 2, rows) * (rng.random(rows) < 0.2 + tilt),
                "declines_7d": pd.Series(rng.poisson(0.3 + tilt, rows), dtype="Int64"),
            }
        )

    return DriftCase(
        "payments_covariate_shift",
        "a payments feature table (the demo's columns) under covariate shift",
        frame(_ROWS, 0.0),
        frame(_ROWS, 0.6),
        {
            "amount": "numeric",
            "hour_of_day": "numeric",
            "account_age_days": "numeric",
            "merchant_category": "categorical",
            "channel": "categorical",
            "is_foreign": "categorical",
            "declines_7d": "numeric",
        },
    )


def _stable_feature_table() -> DriftCase:
    case = _feature_table()
    rng = _rng(15)
    half = rng.permutation(len(case.reference))
    return DriftCase(
        "payments_stable",
        "the same feature table split in two random halves: nothing drifts",
        case.reference.iloc[half[: len(half) // 2]].reset_index(drop=True),
        case.reference.iloc[half[len(half) // 2 :]].reset_index(drop=True),
        case.kinds,
    )


CASES: tuple[Callable[[], DriftCase], ...] = (
    _uint_wide,
    _uint_narrow,
    _nullable_integers,
    _boolean_case,
    _infinities,
    _constants,
    _small("small_reference", 7, (_SMALL, 1_500), 0.3),
    _small("small_stable", 17, (_SMALL, _SMALL), 0.0),
    _small("tiny_windows", 27, (60, 45), 0.4),
    _all_missing,
    _text_ids,
    _datetimes,
    _new_levels,
    _few_values,
    _near_threshold,
    _feature_table,
    _stable_feature_table,
)


def drift_cases() -> list[DriftCase]:
    """Every case of the corpus, generated."""
    return [build() for build in CASES]
