"""The fast drift engine: Evidently 0.7's DataDriftPreset default decisions on numpy/scipy.

Columns are judged by their kind (:mod:`tasks.ml.column_types`: from the feature schema, else
documented rules): numeric and categorical columns are judged; text, datetime and ignored ones
are listed as not judged. A feature missing from a window, without any value there, or not
numeric where its kind says numeric is a :class:`ColumnProblem`, and the others are judged.

The monitoring gate runs this engine; :mod:`tasks.ml.evidently_report` renders Evidently's report
for humans. The method per column follows ``evidently.legacy.calculations.stattests.registry``
(``_get_default_stattest``), after dropping NaN and +-inf as Evidently does:

- reference of at most 1,000 rows (counted after the cleaning):

  - numeric, more than 5 distinct values: Kolmogorov-Smirnov (``ks``), drift when p <= 0.05;
  - categorical or numeric with more than 2 (numeric: 3-5) distinct values: chi-square
    (``chisquare``) of the current counts against the reference counts scaled as expected
    frequencies, drift when p < 0.05;
  - at most 2 distinct values: two-proportion z-test (``z``), drift when p < 0.05;

- reference above 1,000 rows:

  - numeric, more than 5 distinct values: Wasserstein distance divided by the reference's
    standard deviation (``wasserstein``), drift when >= 0.1;
  - categorical, or numeric with at most 5 distinct values: Jensen-Shannon distance of the
    value shares (``jensenshannon``, natural log), drift when >= 0.1.

"values" counts the distinct values of reference and current together. The dataset drifts when
the share of drifted columns is >= 0.5. The small-reference tests call the scipy functions
Evidently calls, on the same counts. Evidently's chi-square takes the reference counts as exact,
so on stable data it fires far more often than 5 % (a third of 700-row windows for a 7-level
column): prefer references above 1,000 rows. What makes it fast:

- counts, not sorts: integer columns of modest range are counted with ``bincount`` (distinct
  values, Jensen-Shannon, and Wasserstein from the cumulative counts);
- exact Wasserstein on sorted arrays through the quantile form
  (``W1 = integral |F_ref^-1(u) - F_cur^-1(u)| du``), linear after the sort;
- on big windows (>= 200,000 values in both) the float Wasserstein decision comes from 65,536-bin
  histograms first: inside a bin each CDF lies between its values at the edges, which bounds the
  distance from both sides. When the bounds fall on one side of the threshold the decision is
  Evidently's; the score is then the midpoint and ``ColumnDrift.score_error`` its half-width
  (at most 0.002 or 1 %; a few 1e-4 on ordinary data). Otherwise the exact path runs;
- columns run in threads on big windows (numpy's sort and bincount release the GIL).

Predictions are one more column (:func:`prediction_drift`: probabilities are numeric, predicted
classes categorical). Performance (:func:`performance_drift`) compares ROC AUC (or accuracy) on
labelled rows of the reference and the current window once the delayed labels arrive: drift when
the metric drops by more than ``max_drop`` (0.10 by default: twice the ~0.05 week-to-week AUC
noise of the reference use case at 5,000 rows a week), and no decision below ``min_labels``
labelled rows or when a window holds a single class.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from scipy import stats
from scipy.spatial import distance

from tasks.errors import ConfigurationError, NotFoundError
from tasks.ml.column_types import JUDGED_KINDS, Kind, resolve_kinds

__all__ = [
    "DRIFT_SHARE",
    "ColumnDataError",
    "ColumnDrift",
    "ColumnProblem",
    "DriftResult",
    "PerformanceDrift",
    "column_drift",
    "detect_drift",
    "performance_drift",
    "prediction_drift",
]

DRIFT_SHARE = 0.5
SMALL_REFERENCE_ROWS = 1_000
FEW_VALUES = 5
P_VALUE_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
_MAX_WORKERS = 4
# From this many values (both windows), Wasserstein decides on histograms first (see above).
_BINNED_MIN_VALUES = 200_000
_BINS = 1 << 16
_MAX_SCORE_ERROR = 0.002
_PARALLEL_CELLS = 2_000_000

Side = Literal["reference", "current"]


@dataclass(frozen=True)
class ColumnDrift:
    """One column's decision: ``method`` uses Evidently's stat-test names."""

    column: str
    kind: Kind
    method: str
    score: float
    threshold: float
    drifted: bool
    score_error: float = 0.0
    """Half-width of the interval known to hold the exact score (0: exact; see module doc)."""


@dataclass(frozen=True)
class ColumnProblem:
    """A feature that could not be judged: missing, empty or of the wrong type in a window."""

    column: str
    window: Side
    problem: str

    def describe(self) -> str:
        return f"feature {self.column!r} {self.problem} in the {self.window} window"


@dataclass(frozen=True)
class DriftResult:
    """Per-column decisions and the dataset decision (drifted share >= ``drift_share``).

    The share counts judged columns only. ``not_judged`` maps text, datetime and ignored columns
    to their kind; ``problems`` lists the features that could not be judged (a partial check).
    """

    columns: list[ColumnDrift]
    drifted_share: float
    dataset_drift: bool
    n_reference: int
    n_current: int
    drift_share: float = DRIFT_SHARE
    not_judged: dict[str, str] = field(default_factory=dict)
    problems: list[ColumnProblem] = field(default_factory=list)

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @property
    def judged_columns(self) -> list[str]:
        return [c.column for c in self.columns]

    @property
    def partial(self) -> bool:
        """True when a feature meant to be judged could not be (see ``problems``)."""
        return bool(self.problems)

    def column(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == name:
                return c
        raise NotFoundError(f"no drift result for column {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ColumnDataError(ConfigurationError):
    """One column cannot be judged in one window (becomes a :class:`ColumnProblem`)."""

    def __init__(self, problem: ColumnProblem) -> None:
        super().__init__(problem.describe())
        self.problem = problem


@dataclass(frozen=True)
class PerformanceDrift:
    """Reference vs current model quality on labelled rows; ``reason`` explains the decision."""

    metric: str
    reference: float
    current: float
    drop: float
    max_drop: float
    drifted: bool
    n_reference: int
    n_current: int
    reason: str
    details: dict[str, dict[str, float]] = field(default_factory=dict)


def detect_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str] | None = None,
    kinds: Mapping[str, Kind] | None = None,
    drift_share: float = DRIFT_SHARE,
) -> DriftResult:
    """Decide drift per column and for the dataset, as Evidently's DataDriftPreset would.

    A feature missing from a window, without any value there after dropping NaN/inf, or not
    numeric where its kind says numeric is not judged: it is listed in ``problems`` and the
    others are judged (the drifted share counts judged columns only).

    Args:
        reference: the reference window.
        current: the window to check.
        columns: columns to check (default: every column of ``reference``).
        kinds: each column's kind (:mod:`tasks.ml.column_types`), normally from the feature
            schema; columns not listed are inferred by the rules documented there.
        drift_share: share of drifted columns that makes the dataset drift.
    """
    names = list(reference.columns) if columns is None else list(columns)
    resolved = resolve_kinds((reference, current), names, kinds)
    problems: list[ColumnProblem] = []
    judged: list[str] = []
    for name in names:
        if resolved[name] not in JUDGED_KINDS:
            continue
        sides: tuple[tuple[pd.DataFrame, Side], ...] = (
            (reference, "reference"),
            (current, "current"),
        )
        gone = [ColumnProblem(name, side, "is missing") for f, side in sides if name not in f]
        problems.extend(gone)
        if not gone:
            judged.append(name)

    def judge(name: str) -> ColumnDrift | ColumnProblem:
        try:
            return column_drift(reference[name], current[name], resolved[name], name)
        except ColumnDataError as exc:
            return exc.problem

    workers = min(len(judged), os.cpu_count() or 1, _MAX_WORKERS)
    if workers > 1 and (len(reference) + len(current)) * len(judged) >= _PARALLEL_CELLS:
        # numpy's sort and bincount release the GIL: columns run side by side on big windows.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(judge, judged))
    else:
        outcomes = [judge(name) for name in judged]
    results = [r for r in outcomes if isinstance(r, ColumnDrift)]
    problems.extend(r for r in outcomes if isinstance(r, ColumnProblem))
    drifted = sum(r.drifted for r in results)
    share = drifted / len(results) if results else 0.0
    return DriftResult(
        columns=results,
        drifted_share=share,
        dataset_drift=bool(results) and share >= drift_share,
        n_reference=len(reference),
        n_current=len(current),
        drift_share=drift_share,
        not_judged={n: k for n, k in resolved.items() if k not in JUDGED_KINDS},
        problems=problems,
    )


def prediction_drift(
    reference: pd.Series | np.ndarray,
    current: pd.Series | np.ndarray,
    categorical: bool = False,
    name: str = "prediction",
) -> ColumnDrift:
    """Drift of the model's output: probabilities (numeric) or predicted classes (categorical)."""
    kind: Kind = "categorical" if categorical else "numeric"
    return column_drift(pd.Series(reference), pd.Series(current), kind, name)


def column_drift(reference: pd.Series, current: pd.Series, kind: Kind, name: str) -> ColumnDrift:
    """One column's decision with Evidently's default method for its type, values and size.

    Raises:
        ColumnDataError: the column is empty, or not numeric where ``kind`` says numeric.
    """
    if kind == "numeric":
        ref, cur = _finite(reference, name, "reference"), _finite(current, name, "current")
        return _numeric_drift(ref, cur, name)
    ref_counts = _counts(reference, name, "reference")
    cur_counts = _counts(current, name, "current")
    small = ref_counts.sum() <= SMALL_REFERENCE_ROWS
    return _categorical_drift(ref_counts, cur_counts, small, name)


def performance_drift(
    reference_labels: np.ndarray | pd.Series,
    reference_scores: np.ndarray | pd.Series,
    current_labels: np.ndarray | pd.Series,
    current_scores: np.ndarray | pd.Series,
    metric: Literal["roc_auc", "accuracy"] = "roc_auc",
    max_drop: float = 0.10,
    min_labels: int = 100,
    decision_threshold: float = 0.5,
) -> PerformanceDrift:
    """Compare the model's quality on the labelled rows of both windows.

    Scores are the positive-class probabilities; rows whose label is still missing (NaN) are
    ignored. Drift when ``reference - current > max_drop`` for ``metric``; no decision (not
    drifted, with the reason) below ``min_labels`` labelled rows in a window or when a window
    holds one class only (ROC AUC undefined).

    Raises:
        ConfigurationError: labels and scores differ in length, or a label is not 0/1/NaN.
    """
    sides = {}
    for side, labels, scores in (
        ("reference", reference_labels, reference_scores),
        ("current", current_labels, current_scores),
    ):
        y = np.asarray(labels, dtype=float)
        s = np.asarray(scores, dtype=float)
        if y.shape != s.shape:
            raise ConfigurationError(f"{side} window: {y.shape[0]} labels but {s.shape[0]} scores")
        known = ~np.isnan(y)
        if not np.isin(y[known], (0.0, 1.0)).all():
            raise ConfigurationError(
                f"{side} window: labels must be 0 or 1 (or NaN: not yet known)"
            )
        sides[side] = (y[known].astype(np.int64), s[known])
    details = {
        side: _classification_metrics(y, s, decision_threshold) for side, (y, s) in sides.items()
    }
    n_ref, n_cur = len(sides["reference"][0]), len(sides["current"][0])
    ref_value, cur_value = details["reference"][metric], details["current"][metric]
    drop = ref_value - cur_value
    if min(n_ref, n_cur) < min_labels:
        reason = f"not enough labelled rows ({n_ref} reference, {n_cur} current < {min_labels})"
        drifted = False
    elif np.isnan(drop):
        reason = f"{metric} undefined: a window holds a single class"
        drifted = False
    else:
        drifted = bool(drop > max_drop)
        verb = "dropped" if drop >= 0 else "rose"
        reason = f"{metric} {verb} by {abs(drop):.3f} ({ref_value:.3f} -> {cur_value:.3f})"
        reason += f"; limit {max_drop:.3f}"
    return PerformanceDrift(
        metric=metric,
        reference=ref_value,
        current=cur_value,
        drop=drop,
        max_drop=max_drop,
        drifted=drifted,
        n_reference=n_ref,
        n_current=n_cur,
        reason=reason,
        details=details,
    )


def _finite(values: pd.Series, name: str, side: Side) -> np.ndarray:
    """A numeric column without NaN and +-inf (Evidently's cleaning); empty cannot be judged.

    Unsigned integers become signed (or floats beyond int64): differences of unsigned arrays
    wrap around.
    """
    if not ptypes.is_numeric_dtype(values.dtype):
        raise ColumnDataError(ColumnProblem(name, side, f"is not numeric ({values.dtype})"))
    if not isinstance(values.dtype, np.dtype):  # nullable pandas dtypes: pd.NA becomes NaN
        arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        arr = values.to_numpy()
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "u":
        wide = len(arr) > 0 and int(arr.max()) > np.iinfo(np.int64).max
        arr = arr.astype(np.float64 if wide else np.int64)
    elif arr.dtype.kind != "i":
        arr = arr.astype(np.float64, copy=False)
        finite = np.isfinite(arr)
        if not finite.all():
            arr = arr[finite]
    if len(arr) == 0:
        raise ColumnDataError(ColumnProblem(name, side, "has no value"))
    return arr


def _counts(values: pd.Series, name: str, side: Side) -> pd.Series:
    """Counts of each value, NaN and +-inf left out; ``bincount`` for small non-negative ints."""
    counts: pd.Series | None = None
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":
        arr = values.to_numpy()
        if len(arr) and arr.min() >= 0 and arr.max() < 4 * len(arr) + 1_024:
            bins = np.bincount(arr)
            present = np.flatnonzero(bins)
            counts = pd.Series(bins[present], index=present)
    if counts is None:
        counts = values.value_counts(sort=False, dropna=True)
        infinite = [k for k in counts.index if isinstance(k, float) and np.isinf(k)]
        counts = counts.drop(infinite) if infinite else counts
    if counts.sum() == 0:
        raise ColumnDataError(ColumnProblem(name, side, "has no value"))
    return counts


def _numeric_drift(ref: np.ndarray, cur: np.ndarray, name: str) -> ColumnDrift:
    small = len(ref) <= SMALL_REFERENCE_ROWS
    counted = _integer_counts(ref, cur)
    if counted is not None:
        values, ref_n, cur_n = counted
        if len(values) <= FEW_VALUES:
            ref_counts, cur_counts = pd.Series(ref_n, index=values), pd.Series(cur_n, index=values)
            return _categorical_drift(ref_counts, cur_counts, small, name, kind="numeric")
        if small:
            return _ks(ref, cur, name)
        distance_ = _wasserstein_counts(values, ref_n, cur_n)
    else:
        if not small and len(ref) + len(cur) >= _BINNED_MIN_VALUES and _many_values(ref):
            decided = _binned_wasserstein(ref, cur, name)
            if decided is not None:
                return decided
        ref_sorted, cur_sorted = np.sort(ref), np.sort(cur)
        n_values = _union_size(_sorted_unique(ref_sorted), _sorted_unique(cur_sorted))
        if n_values <= FEW_VALUES:
            ref_counts = pd.Series(ref_sorted).value_counts(sort=False)
            cur_counts = pd.Series(cur_sorted).value_counts(sort=False)
            return _categorical_drift(ref_counts, cur_counts, small, name, kind="numeric")
        if small:
            return _ks(ref, cur, name)
        distance_ = _wasserstein_sorted(ref_sorted, cur_sorted)
    score = distance_ / max(float(np.std(ref)), 0.001)
    return ColumnDrift(
        name, "numeric", "wasserstein", score, DISTANCE_THRESHOLD, score >= DISTANCE_THRESHOLD
    )


def _many_values(values: np.ndarray) -> bool:
    """True when a prefix already holds more than five distinct values (cheap, no full sort)."""
    return len(np.unique(values[:1_000])) > FEW_VALUES


def _binned_wasserstein(ref: np.ndarray, cur: np.ndarray, name: str) -> ColumnDrift | None:
    """The normalised Wasserstein decision from histograms, when certain; else ``None``.

    On ``_BINS`` equal bins over both samples, each CDF inside a bin lies between its values at
    the bin's edges, which bounds ``|F_ref - F_cur|`` there from below and above. The bounds on
    the distance (a few 1e-4 of the reference std on ordinary data) decide unless they straddle
    the threshold or leave the score loose (error above 0.002 and 1 %); the caller then computes
    the exact distance.
    """
    low = min(float(ref.min()), float(cur.min()))
    span = max(float(ref.max()), float(cur.max())) - low
    if not 0 < span < np.inf:
        return None
    scale = _BINS / span
    cdfs = []
    for values in (ref, cur):
        index = np.minimum(((values - low) * scale).astype(np.intp), _BINS - 1)
        right = np.cumsum(np.bincount(index, minlength=_BINS)) / len(values)
        cdfs.append((np.concatenate(([0.0], right[:-1])), right))
    (ref_left, ref_right), (cur_left, cur_right) = cdfs
    upper = float(np.maximum(ref_right - cur_left, cur_right - ref_left).sum())
    lower = float(np.maximum(np.maximum(ref_left - cur_right, cur_left - ref_right), 0.0).sum())
    width = span / _BINS
    norm = max(float(np.std(ref)), 0.001)
    # The margin covers values put one bin off by rounding at the edges.
    lower_score = (lower * width - 1e-9 * span) / norm
    upper_score = (upper * width + 1e-9 * span) / norm
    score = (lower_score + upper_score) / 2
    error = (upper_score - lower_score) / 2
    precise = error <= max(_MAX_SCORE_ERROR, 0.01 * score)
    if precise and (lower_score >= DISTANCE_THRESHOLD or upper_score < DISTANCE_THRESHOLD):
        drifted = lower_score >= DISTANCE_THRESHOLD
        return ColumnDrift(
            name, "numeric", "wasserstein", score, DISTANCE_THRESHOLD, drifted, error
        )
    return None


def _ks(ref: np.ndarray, cur: np.ndarray, name: str) -> ColumnDrift:
    p_value = float(stats.ks_2samp(ref, cur)[1])
    return ColumnDrift(name, "numeric", "ks", p_value, P_VALUE_THRESHOLD, p_value <= 0.05)


def _categorical_drift(
    ref_counts: pd.Series,
    cur_counts: pd.Series,
    small: bool,
    name: str,
    kind: Kind = "categorical",
) -> ColumnDrift:
    keys = ref_counts.index.union(cur_counts.index)
    ref = ref_counts.reindex(keys, fill_value=0).to_numpy(dtype=float)
    cur = cur_counts.reindex(keys, fill_value=0).to_numpy(dtype=float)
    n_ref, n_cur = ref.sum(), cur.sum()
    if not small:
        score = float(distance.jensenshannon(ref / n_ref, cur / n_cur))
        drifted = score >= DISTANCE_THRESHOLD
        return ColumnDrift(name, kind, "jensenshannon", score, DISTANCE_THRESHOLD, drifted)
    if len(keys) > 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            p_value = float(stats.chisquare(cur, ref * (n_cur / n_ref))[1])
        return ColumnDrift(name, kind, "chisquare", p_value, P_VALUE_THRESHOLD, p_value < 0.05)
    p_value = _z_test(ref, cur)
    return ColumnDrift(name, kind, "z", p_value, P_VALUE_THRESHOLD, p_value < 0.05)


def _z_test(ref: np.ndarray, cur: np.ndarray) -> float:
    """Two-proportion z-test on the share of the second value (Evidently's ``z``)."""
    if len(ref) == 1:
        return 1.0
    n1, n2 = ref.sum(), cur.sum()
    p1, p2 = ref[1] / n1, cur[1] / n2
    pooled = (ref[1] + cur[1]) / (n1 + n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - stats.norm.cdf(np.abs(z))))


def _sorted_unique(values: np.ndarray, limit: int = FEW_VALUES) -> np.ndarray | None:
    """Distinct values of a sorted array, or ``None`` when there are more than ``limit``."""
    if len(values) == 0:
        return values
    change = np.flatnonzero(values[1:] != values[:-1])
    if len(change) >= limit:
        return None
    return values[np.concatenate(([0], change + 1))]


def _union_size(a: np.ndarray | None, b: np.ndarray | None) -> int:
    if a is None or b is None:
        return FEW_VALUES + 1
    return len(np.union1d(a, b))


def _integer_counts(
    ref: np.ndarray, cur: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Distinct values and their counts on both sides for integers of a modest range, else None.

    Counting is linear where sorting is not: integer columns skip the sort entirely.
    """
    if ref.dtype.kind not in "iu" or cur.dtype.kind not in "iu":
        return None
    low = min(int(ref.min()), int(cur.min()))
    span = max(int(ref.max()), int(cur.max())) - low
    if span > 4 * (len(ref) + len(cur)) + 1_024:
        return None
    ref_bins = np.bincount((ref - low).astype(np.intp), minlength=span + 1)
    cur_bins = np.bincount((cur - low).astype(np.intp), minlength=span + 1)
    present = np.flatnonzero(ref_bins + cur_bins)
    return present + low, ref_bins[present], cur_bins[present]


def _wasserstein_counts(values: np.ndarray, ref: np.ndarray, cur: np.ndarray) -> float:
    """First Wasserstein distance of two samples given as counts over shared sorted values."""
    gap = np.abs(np.cumsum(ref)[:-1] / ref.sum() - np.cumsum(cur)[:-1] / cur.sum())
    return float(np.dot(gap, np.diff(values.astype(np.float64))))


def _wasserstein_sorted(ref: np.ndarray, cur: np.ndarray) -> float:
    """First Wasserstein distance of two sorted samples, as the integral of quantile differences.

    On the integer grid ``u * n * m`` the reference quantile steps at multiples of ``m`` and the
    current one at multiples of ``n``; merging both step lists is arithmetic, not a sort.
    """
    n, m = len(ref), len(cur)
    if n == m:
        return float(np.abs(ref - cur).mean())
    ref_idx, cur_idx, weights = _quantile_grid(n, m)
    return float(np.dot(np.abs(ref[ref_idx] - cur[cur_idx]), weights))


def _quantile_grid(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segments of the merged quantile grid: which order statistic each side uses, and lengths."""
    i = np.arange(1, n + 1, dtype=np.int64)
    j = np.arange(1, m + 1, dtype=np.int64)
    a = i * m  # reference steps
    b = j * n  # current steps
    # Position in the merged list: reference steps go before equal current steps.
    pos_a = (i - 1) + (a - 1) // n
    pos_b = (j - 1) + b // m
    points = np.empty(n + m, dtype=np.int64)
    points[pos_a] = a
    points[pos_b] = b
    lengths = np.diff(points, prepend=0)
    ref_idx = -(-points // m) - 1  # ceil(point / m) - 1
    cur_idx = -(-points // n) - 1
    return ref_idx, cur_idx, lengths / (n * m)


def _classification_metrics(y: np.ndarray, s: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = (s >= threshold).astype(np.int64)
    n = len(y)
    positives = int(y.sum())
    return {
        "roc_auc": _roc_auc(y, s),
        "accuracy": float((predicted == y).mean()) if n else float("nan"),
        "positive_rate": positives / n if n else float("nan"),
        "rows": float(n),
    }


def _roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic with tied scores ranked by their mean rank."""
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = stats.rankdata(s)
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))
