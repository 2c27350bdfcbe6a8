"""The fast drift engine: Evidently's decisions, the scenarios it catches, and bad input."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance

from tasks.errors import ConfigurationError, NotFoundError
from tasks.ml import dataset
from tasks.ml.column_types import Kind
from tasks.ml.drift import (
    ColumnProblem,
    DriftResult,
    detect_drift,
    performance_drift,
    prediction_drift,
)
from tasks.ml.drift import _wasserstein_sorted as wasserstein_sorted
from tasks.ml.evidently_report import run_report, write_report
from tasks.ml.monitor import FEATURE_KINDS

NUMERIC = ["wide", "six_values", "five_values", "three_values", "binary_num", "constant", "gaps"]
CATEGORICAL = ["category", "yes_no", "new_level"]
KINDS: dict[str, Kind] = {
    **dict.fromkeys(NUMERIC, "numeric"),
    **dict.fromkeys(CATEGORICAL, "categorical"),
}
MONDAY = datetime(2026, 1, 5, tzinfo=UTC)


def _columns(n: int, seed: int, shift: float) -> pd.DataFrame:
    """Every column type Evidently distinguishes; ``shift`` moves each by a different amount."""
    rng = np.random.default_rng(seed)
    gaps = rng.normal(10 + 2 * shift, 3, n)
    gaps[rng.random(n) < 0.06] = np.nan
    gaps[rng.random(n) < 0.01] = np.inf
    levels = np.array(list("abcdefgh"))
    weights = np.linspace(1, 1 + shift * 3, 8)
    new_level = np.where(rng.random(n) < 0.02 * shift, "z", rng.choice(["p", "q", "r"], n))
    return pd.DataFrame(
        {
            "wide": rng.normal(shift * 0.15, 1.0, n),
            "six_values": rng.binomial(5, 0.5 + 0.04 * shift, n),
            "five_values": rng.binomial(4, 0.4 + 0.05 * shift, n),
            "three_values": rng.choice(
                [1.5, 2.5, 3.5], n, p=[0.5 - 0.05 * shift, 0.3, 0.2 + 0.05 * shift]
            ),
            "binary_num": (rng.random(n) < 0.3 + 0.08 * shift).astype(np.int64),
            "constant": np.full(n, 7.0),
            "gaps": gaps,
            "category": rng.choice(levels, n, p=weights / weights.sum()),
            "yes_no": np.where(rng.random(n) < 0.5 + 0.02 * shift, "yes", "no"),
            "new_level": new_level,
        }
    )


# Reference sizes on both sides of Evidently's 1,000-row switch ("gaps" loses ~7 % to NaN/inf,
# so at 1,001 rows it stays on the small-reference tests while the others switch).
CASES = [(1_000, 0.0), (1_000, 1.0), (1_001, 0.0), (1_001, 1.0), (3_000, 0.6)]


# Evidently costs ~10 s to import and ~1 s per report: its tests run under the slow marker.
# Its chi-square divides by zero for unseen levels and its web stack warns on import.
EVIDENTLY_MARKS = (
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
)


def slow_evidently(test: Callable[..., None]) -> Callable[..., None]:
    for mark in EVIDENTLY_MARKS:
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def agreement() -> list[tuple[DriftResult, DriftResult]]:
    """Ours and Evidently's decisions on every case, computed once (Evidently is slow)."""
    pairs = []
    for index, (rows, shift) in enumerate(CASES):
        reference = _columns(rows, seed=index, shift=0.0)
        current = _columns(700, seed=100 + index, shift=shift)
        ours = detect_drift(reference, current, kinds=KINDS)
        evidently = run_report(reference, current, kinds=KINDS).decisions()
        pairs.append((ours, evidently))
    return pairs


@slow_evidently
def test_engine_decisions_equal_evidently_on_every_column_type(
    agreement: list[tuple[DriftResult, DriftResult]],
) -> None:
    for ours, evidently in agreement:
        assert [c.column for c in ours.columns] == [c.column for c in evidently.columns]
        for mine, theirs in zip(ours.columns, evidently.columns, strict=True):
            assert (mine.method, mine.threshold, mine.drifted, mine.kind) == (
                theirs.method,
                theirs.threshold,
                theirs.drifted,
                theirs.kind,
            ), mine.column
            assert mine.score == pytest.approx(theirs.score, rel=1e-9, abs=1e-12), mine.column
        assert ours.drifted_share == pytest.approx(evidently.drifted_share)
        assert ours.dataset_drift == evidently.dataset_drift


@slow_evidently
def test_agreement_cases_cover_both_sides_of_the_switch_and_both_decisions(
    agreement: list[tuple[DriftResult, DriftResult]],
) -> None:
    small = {c.method for c in agreement[0][0].columns}
    large = {c.method for c in agreement[2][0].columns}
    assert small == {"ks", "chisquare", "z"}
    assert large == {"wasserstein", "jensenshannon", "ks"}  # ks: "gaps" after dropping NaN/inf
    decisions = {c.drifted for ours, _ in agreement for c in ours.columns}
    assert decisions == {True, False}
    assert {ours.dataset_drift for ours, _ in agreement} == {True, False}
    assert agreement[1][0].column("new_level").drifted  # a level unseen in the reference


@slow_evidently
def test_engine_matches_evidently_stattests_on_random_columns() -> None:
    from evidently.legacy.calculations.stattests.registry import get_stattest
    from evidently.legacy.core import ColumnType

    rng = np.random.default_rng(42)
    for case in range(200):
        n_ref = int(rng.choice([20, 400, 999, 1_000, 1_001, 1_500]))
        n_cur = int(rng.integers(10, 1_200))
        n_values = int(rng.choice([1, 2, 3, 5, 6, 40]))
        shift = rng.normal(0, 0.3)
        ref_codes = rng.integers(0, n_values, n_ref)
        cur_codes = np.minimum(rng.integers(0, n_values, n_cur) + (rng.random(n_cur) < shift), 40)
        if case % 3 == 0:  # integers take the counting path
            ref, cur = pd.Series(ref_codes * 7 - 3), pd.Series(cur_codes * 7 - 3)
        elif case % 3 == 1:  # floats with ties take the sorting path
            ref, cur = pd.Series(ref_codes * 1.5), pd.Series(cur_codes * 1.5)
        else:  # continuous floats
            ref = pd.Series(ref_codes + rng.normal(0, 0.01, n_ref))
            cur = pd.Series(cur_codes + rng.normal(shift, 0.01, n_cur))
        for kind, column_type in (
            ("numeric", ColumnType.Numerical),
            ("categorical", ColumnType.Categorical),
        ):
            ours = detect_drift(ref.to_frame("x"), cur.to_frame("x"), kinds={"x": kind}).columns[0]
            test = get_stattest(ref, cur, column_type, None)
            result = test(ref, cur, column_type, None)
            assert (ours.method, ours.drifted) == (test.name, result.drifted), (case, kind)
            assert ours.score == pytest.approx(result.drift_score, rel=1e-9, abs=1e-12)


def test_wasserstein_on_sorted_samples_equals_scipy_with_ties_and_unequal_sizes() -> None:
    rng = np.random.default_rng(3)
    for n, m in [(1, 1), (1, 9), (7, 3), (1_000, 1_001), (2_500, 700), (64, 64)]:
        a = np.round(rng.normal(0, 1, n), 1)
        b = np.round(rng.normal(0.4, 2, m), 1)
        assert wasserstein_sorted(np.sort(a), np.sort(b)) == pytest.approx(
            wasserstein_distance(a, b), rel=1e-12, abs=1e-15
        )


def test_dataset_drifts_when_exactly_half_of_the_columns_drift() -> None:
    reference = pd.DataFrame({"moved": np.arange(2_000.0), "still": np.arange(2_000.0)})
    current = pd.DataFrame({"moved": np.arange(2_000.0) + 500, "still": np.arange(2_000.0)})

    result = detect_drift(reference, current)

    assert result.drifted_columns == ["moved"]
    assert result.drifted_share == 0.5
    assert result.dataset_drift
    assert not detect_drift(reference, current, drift_share=0.6).dataset_drift


def test_missing_empty_and_non_numeric_features_are_reported_and_the_rest_judged() -> None:
    reference = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "c": [np.nan, np.inf]})
    current = pd.DataFrame({"a": [1.0, 3.0], "b": ["x", "x"], "c": [1.0, 2.0]})
    kinds: dict[str, Kind] = {"a": "numeric", "b": "numeric", "c": "numeric", "zz": "numeric"}

    result = detect_drift(reference, current, columns=["a", "b", "c", "zz"], kinds=kinds)

    assert result.judged_columns == ["a"]
    assert result.partial
    assert result.problems == [
        ColumnProblem("zz", "reference", "is missing"),
        ColumnProblem("zz", "current", "is missing"),
        ColumnProblem("b", "reference", "is not numeric (object)"),
        ColumnProblem("c", "reference", "has no value"),
    ]
    assert result.problems[3].describe() == "feature 'c' has no value in the reference window"
    assert result.drifted_share == float(result.column("a").drifted)
    with pytest.raises(NotFoundError, match="'nope'"):
        result.column("nope")


def test_a_feature_missing_from_the_current_window_leaves_the_others_judged() -> None:
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"a": rng.normal(0, 1, 2_000), "b": rng.normal(0, 1, 2_000)})
    current = pd.DataFrame({"a": rng.normal(1, 1, 2_000)})

    result = detect_drift(reference, current)

    assert result.judged_columns == ["a"]
    assert result.dataset_drift  # 1 of 1 judged feature drifted
    assert [p.describe() for p in result.problems] == [
        "feature 'b' is missing in the current window"
    ]


def test_unknown_kind_is_refused_with_the_column_named() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(ConfigurationError, match="column 'a': kind 'number' is not one of"):
        detect_drift(frame, frame, kinds={"a": "number"})  # type: ignore[dict-item]


def test_prediction_drift_for_probabilities_and_classes() -> None:
    rng = np.random.default_rng(0)
    stable = prediction_drift(rng.beta(1, 20, 5_000), rng.beta(1, 20, 2_000))
    moved = prediction_drift(rng.beta(1, 20, 5_000), rng.beta(2, 10, 2_000))
    classes = prediction_drift(
        rng.random(800) < 0.05, rng.random(800) < 0.2, categorical=True, name="predicted"
    )

    assert (stable.method, stable.drifted) == ("wasserstein", False)
    assert (moved.method, moved.drifted) == ("wasserstein", True)
    assert (classes.column, classes.method, classes.drifted) == ("predicted", "z", True)


def test_performance_drift_decides_on_the_metric_drop() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(2_000) < 0.1).astype(float)
    good = np.clip(y * 0.5 + rng.random(2_000) * 0.6, 0, 1)
    noise = rng.random(2_000)

    same = performance_drift(y, good, y, good)
    worse = performance_drift(y, good, y, noise)
    accuracy = performance_drift(y, good, y, noise, metric="accuracy", max_drop=0.01)

    assert not same.drifted and same.drop == 0
    assert worse.drifted and worse.reference > 0.9 and worse.current < 0.6
    assert "roc_auc dropped by" in worse.reason
    assert accuracy.metric == "accuracy" and accuracy.drifted


def test_performance_drift_waits_for_labels_and_two_classes() -> None:
    rng = np.random.default_rng(2)
    y = (rng.random(500) < 0.2).astype(float)
    scores = rng.random(500)
    pending = y.copy()
    pending[50:] = np.nan  # labels not arrived yet

    waiting = performance_drift(y, scores, pending, scores)
    one_class = performance_drift(y, scores, np.zeros(500), scores)

    assert not waiting.drifted and waiting.n_current == 50
    assert "not enough labelled rows" in waiting.reason
    assert not one_class.drifted and "single class" in one_class.reason
    with pytest.raises(ConfigurationError, match="current window: 500 labels but 3 scores"):
        performance_drift(y, scores, y, scores[:3])
    with pytest.raises(ConfigurationError, match="reference window: labels must be 0 or 1"):
        performance_drift(y * 2, scores, y, scores)


@pytest.fixture(scope="module")
def monitored() -> dict[str, dict[str, Any]]:
    """Each scenario's drift from week 3 on, judged against week 2 with a model fit on week 1."""
    from sklearn.linear_model import LogisticRegression

    def features(frame: pd.DataFrame) -> np.ndarray:
        """A linear model's view: logs of the skewed amounts, one-hot levels and hours."""
        numeric = np.column_stack(
            [
                np.log(frame["amount"]),
                np.log1p(frame["distance_from_home_km"]),
                np.log1p(frame["account_age_days"]),
                frame["declines_7d"],
                frame["merchant_risk_score"],
                frame["is_foreign"],
            ]
        )
        levels = ["merchant_category", "channel", "card_type", "hour_of_day"]
        onehot = [(frame[c].to_numpy()[:, None] == np.unique(history[c])[None, :]) for c in levels]
        return np.hstack([numeric, *onehot]).astype(float)

    drift_start = MONDAY + timedelta(days=14)
    history = dataset.generate(MONDAY, 14, 800)  # every scenario equals "none" before its start
    train = history[history[dataset.TIMESTAMP] < pd.Timestamp(MONDAY + timedelta(days=7))]
    reference = history.drop(train.index)
    model = LogisticRegression(max_iter=2_000).fit(features(train), train[dataset.LABEL])
    ref_scores = model.predict_proba(features(reference))[:, 1]
    frames = {s: dataset.generate(drift_start, 7, 800, s) for s in dataset.SCENARIOS}
    results = {}
    for scenario, current in frames.items():
        scores = model.predict_proba(features(current))[:, 1]
        results[scenario] = {
            "features": detect_drift(reference, current, dataset.FEATURES, FEATURE_KINDS),
            "label": detect_drift(
                reference, current, [dataset.LABEL], {dataset.LABEL: "categorical"}
            ),
            "prediction": prediction_drift(ref_scores, scores),
            "performance": performance_drift(
                reference[dataset.LABEL], ref_scores, current[dataset.LABEL], scores
            ),
        }
    return results


def test_stable_weeks_raise_no_drift(monitored: dict[str, dict[str, Any]]) -> None:
    none = monitored["none"]
    assert none["features"].drifted_columns == []
    assert not none["label"].dataset_drift
    assert not none["prediction"].drifted
    assert not none["performance"].drifted


def test_covariate_shift_is_dataset_drift(monitored: dict[str, dict[str, Any]]) -> None:
    result = monitored["covariate_shift"]["features"]
    assert result.dataset_drift
    assert {"amount", "channel", "is_foreign"} <= set(result.drifted_columns)


def test_prior_shift_is_label_and_prediction_drift(monitored: dict[str, dict[str, Any]]) -> None:
    prior = monitored["prior_shift"]
    assert prior["label"].dataset_drift
    assert prior["prediction"].drifted


def test_concept_drift_shows_only_in_performance(monitored: dict[str, dict[str, Any]]) -> None:
    concept = monitored["concept_drift"]
    assert not concept["features"].dataset_drift
    assert not concept["prediction"].drifted
    assert concept["performance"].drifted
    assert concept["performance"].drop > 0.15


@slow_evidently
def test_evidently_report_is_written_as_html(tmp_path: Path) -> None:
    reference = _columns(300, seed=1, shift=0.0)
    current = _columns(300, seed=2, shift=1.0)

    path = write_report(
        reference, current, tmp_path / "reports" / "drift.html", ["wide", "category"]
    )

    assert path == tmp_path / "reports" / "drift.html"
    html = path.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") or "<html" in html[:500].lower()
    assert "Value Drift for column wide" in html
    assert "Value Drift for column category" in html


def test_report_module_does_not_import_evidently_until_used() -> None:
    code = (
        "import sys, tasks.ml.evidently_report, tasks.ml.drift; print('evidently' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("case", "binned"),
    [
        ("stable", True),
        ("slight", True),
        ("strong", True),
        ("at_threshold", False),
        ("outlier", False),
    ],
)
def test_large_windows_decide_on_histograms_only_when_certain(case: str, binned: bool) -> None:
    rng = np.random.default_rng(11)
    reference = rng.lognormal(3, 0.8, 150_000)
    shift = {"slight": 0.03, "strong": 0.3}.get(case, 0.0) * reference.std()
    current = rng.lognormal(3, 0.8, 120_000) + shift
    if case == "at_threshold":  # the same sample moved by just over 0.1 std: bounds straddle
        current = reference + 0.1 * reference.std() * (1 + 1e-6)
    if case == "outlier":  # one extreme value widens the bins until the bounds cannot decide
        current[0] = 1e12
    exact = wasserstein_distance(reference, current) / reference.std()

    result = prediction_drift(reference, current, name="amount")

    assert result.method == "wasserstein"
    assert result.drifted == (exact >= 0.1)
    assert (result.score_error > 0) == binned
    assert abs(result.score - exact) <= max(result.score_error, 1e-9 * exact)
    assert result.score_error < 0.01


def test_bench_windows_cover_fifty_columns_of_both_large_reference_methods() -> None:
    from deployments.bench.drift_check import make_windows

    reference, current, kinds = make_windows(3_000)
    result = detect_drift(reference, current, kinds=kinds)

    assert reference.shape == current.shape == (3_000, 52)
    assert result.not_judged == {"event_time": "datetime", "customer_id": "text"}
    methods = [c.method for c in result.columns]
    assert methods.count("wasserstein") == methods.count("jensenshannon") == 25
    assert 0 < len(result.drifted_columns) < 50
