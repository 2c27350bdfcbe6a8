"""The lake path (DuckDB over Parquet) answers as the store path did, on both stores.

DuckDB and PostgreSQL sum exact decimals: their answers are identical. SQLite keeps money as
doubles and sums those, so its answers differ from the exact sums in the last bit (1e-12).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from tasks.cost.anomaly.detect import detect_anomalies
from tasks.cost.anomaly.series import load_breakdown, load_charges, load_monitor_series
from tests.cost.anomaly.helpers import (
    EC2_US,
    EVERY_DIMENSION,
    START,
    THROUGH,
    cost_line,
    insert_lines,
    scenario,
)

MONITORS = EVERY_DIMENSION


@pytest.fixture
def lines(store_engine):
    rows = scenario(spikes={(EC2_US, 95): 900.0})
    fee = dict(charge_frequency="Recurring", service_name="Support")
    for month_start in (START, START + timedelta(days=31), START + timedelta(days=62)):
        rows.append(cost_line(month_start, 100.0, EC2_US, category="Purchase", **fee))
    rows.append(cost_line(START + timedelta(days=3), 55.5, EC2_US, span_days=30))
    insert_lines(store_engine, rows)
    return store_engine


@pytest.mark.parametrize("spec", MONITORS, ids=lambda m: m.name)
def test_series_charges_and_breakdowns_match_the_store_path(lines, spec):
    rtol = 0 if lines.dialect.name == "postgresql" else 1e-12
    lake = load_monitor_series(lines, spec, START, THROUGH)
    store = load_monitor_series(lines, spec, START, THROUGH, lines=lines)
    assert (lake.keys, lake.currencies, lake.start) == (store.keys, store.currencies, store.start)
    np.testing.assert_allclose(lake.values, store.values, rtol=rtol, atol=0)

    charges = load_charges(lines, spec, START, THROUGH)
    expected = load_charges(lines, spec, START, THROUGH, lines=lines)
    pd.testing.assert_frame_equal(
        charges.reset_index(drop=True), expected.reset_index(drop=True), rtol=rtol or 1e-300
    )

    for value, currency in zip(lake.values_of, lake.currencies, strict=True):
        got = load_breakdown(lines, spec, value, currency, START, THROUGH)
        want = load_breakdown(lines, spec, value, currency, START, THROUGH, lines=lines)
        assert (got.labels, got.account_names) == (want.labels, want.account_names)
        np.testing.assert_allclose(got.values, want.values, rtol=rtol, atol=0)


def test_the_spike_is_found_on_the_lake(lines):
    detection = detect_anomalies(lines, MONITORS[:2], THROUGH, lookback_days=10)
    assert any(r.start_date == START + timedelta(days=95) for r in detection.records)
