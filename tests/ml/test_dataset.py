"""The generated fraud data set: shape, determinism, seasonality and drift scenarios."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from tasks.errors import ConfigurationError, NotFoundError
from tasks.ml import dataset

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
DRIFT = MONDAY + timedelta(days=7, hours=12)


def test_generate_returns_the_documented_columns_and_types() -> None:
    frame = dataset.generate(MONDAY, days=2, rows_per_day=300)

    assert list(frame.columns) == [dataset.ENTITY, dataset.TIMESTAMP, *dataset.FEATURES, "label"]
    assert len(frame) == 600
    assert str(frame[dataset.TIMESTAMP].dtype) == "datetime64[ns, UTC]"
    assert frame[dataset.TIMESTAMP].is_monotonic_increasing
    assert frame[dataset.TIMESTAMP].min() >= pd.Timestamp(MONDAY)
    assert frame[dataset.TIMESTAMP].max() < pd.Timestamp(MONDAY + timedelta(days=2))
    assert frame[dataset.ENTITY].dtype == "int64"
    assert set(frame[dataset.LABEL].unique()) <= {0, 1}
    assert set(dataset.FEATURES) == set(dataset.NUMERIC_FEATURES) | set(
        dataset.CATEGORICAL_FEATURES
    )
    for column in dataset.NUMERIC_FEATURES:
        assert pd.api.types.is_numeric_dtype(frame[column]), column
    assert set(frame["is_foreign"].unique()) <= {0, 1}
    assert frame["declines_7d"].between(0, 4).all()
    assert not frame.isna().any().any()


def test_same_seed_same_frame_and_another_seed_another_frame() -> None:
    first = dataset.generate(MONDAY, 3, 200, "covariate_shift", DRIFT - timedelta(days=6), seed=4)
    again = dataset.generate(MONDAY, 3, 200, "covariate_shift", DRIFT - timedelta(days=6), seed=4)
    other = dataset.generate(MONDAY, 3, 200, "covariate_shift", DRIFT - timedelta(days=6), seed=5)

    pd.testing.assert_frame_equal(first, again)
    assert not first["amount"].equals(other["amount"])


@pytest.mark.parametrize("scenario", dataset.SCENARIOS)
def test_a_day_is_the_same_whatever_window_generates_it(scenario: str) -> None:
    whole = dataset.generate(MONDAY, 10, 150, scenario, DRIFT)
    parts = pd.concat(
        [
            dataset.generate(MONDAY, 7, 150, scenario, DRIFT),
            dataset.generate(MONDAY + timedelta(days=7), 3, 150, scenario, DRIFT),
        ],
        ignore_index=True,
    )

    pd.testing.assert_frame_equal(whole, parts)


@pytest.mark.parametrize("scenario", dataset.SCENARIOS[1:])
def test_scenarios_leave_data_before_drift_start_untouched(scenario: str) -> None:
    stable = dataset.generate(MONDAY, 10, 200)
    drifted = dataset.generate(MONDAY, 10, 200, scenario, DRIFT)
    before = drifted[dataset.TIMESTAMP] < pd.Timestamp(DRIFT)

    pd.testing.assert_frame_equal(
        drifted[before].reset_index(drop=True),
        stable[stable[dataset.TIMESTAMP] < pd.Timestamp(DRIFT)].reset_index(drop=True),
    )
    after = drifted[~before]
    assert len(after) > 0
    assert not after.reset_index(drop=True).equals(
        stable[stable[dataset.TIMESTAMP] >= pd.Timestamp(DRIFT)].reset_index(drop=True)
    )


def test_covariate_shift_moves_inputs() -> None:
    stable = dataset.generate(MONDAY, 7, 1_000)
    moved = dataset.generate(MONDAY, 7, 1_000, "covariate_shift")

    assert moved["amount"].median() > 1.5 * stable["amount"].median()
    assert (moved["channel"] == "online").mean() > (stable["channel"] == "online").mean() + 0.2
    assert moved["is_foreign"].mean() > 2 * stable["is_foreign"].mean()


def test_prior_shift_lifts_the_fraud_rate_and_keeps_each_class() -> None:
    stable = dataset.generate(MONDAY, 7, 1_000)
    shifted = dataset.generate(MONDAY, 7, 1_000, "prior_shift")

    assert 0.02 < stable[dataset.LABEL].mean() < 0.07
    assert shifted[dataset.LABEL].mean() == pytest.approx(0.20, abs=0.005)
    for label in (0, 1):
        before = stable.loc[stable[dataset.LABEL] == label, "amount"].median()
        after = shifted.loc[shifted[dataset.LABEL] == label, "amount"].median()
        assert after == pytest.approx(before, rel=0.15)


def test_concept_drift_keeps_inputs_and_fraud_rate_but_moves_fraud_to_small_amounts() -> None:
    stable = dataset.generate(MONDAY, 7, 1_000)
    concept = dataset.generate(MONDAY, 7, 1_000, "concept_drift")

    pd.testing.assert_frame_equal(stable[dataset.FEATURES], concept[dataset.FEATURES])
    assert concept[dataset.LABEL].mean() == pytest.approx(stable[dataset.LABEL].mean(), abs=0.015)
    fraud_amount = concept.loc[concept[dataset.LABEL] == 1, "amount"].median()
    assert fraud_amount < stable.loc[stable[dataset.LABEL] == 1, "amount"].median() / 2


def test_daily_and_weekly_seasonality() -> None:
    frame = dataset.generate(MONDAY, 14, 1_000)
    night = frame["hour_of_day"] <= 5
    weekend = frame[dataset.TIMESTAMP].dt.weekday >= 5

    assert night.mean() < 0.08
    assert frame.loc[night, dataset.LABEL].mean() > 1.8 * frame.loc[~night, dataset.LABEL].mean()
    assert frame.loc[weekend, "amount"].mean() > 1.05 * frame.loc[~weekend, "amount"].mean()
    weekend_share = (frame.loc[weekend, "merchant_category"] == "restaurants").mean()
    assert weekend_share > (frame.loc[~weekend, "merchant_category"] == "restaurants").mean()


def test_naive_start_is_read_as_utc() -> None:
    naive = dataset.generate(datetime(2026, 1, 5, 15, 30), 1, 50)
    aware = dataset.generate(MONDAY, 1, 50)

    pd.testing.assert_frame_equal(naive, aware)


def test_unknown_scenario_is_rejected_by_name() -> None:
    with pytest.raises(NotFoundError, match="'gradual'"):
        dataset.generate(MONDAY, 1, 10, scenario="gradual")


@pytest.mark.parametrize(("days", "rows"), [(0, 10), (1, 0), (-3, 5)])
def test_empty_windows_are_rejected(days: int, rows: int) -> None:
    with pytest.raises(ConfigurationError, match="must be >= 1"):
        dataset.generate(MONDAY, days, rows)
