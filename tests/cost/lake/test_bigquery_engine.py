"""The BigQuery engine runs the lake's queries for real (on the local fake) and answers as DuckDB.

The fake holds the lake's rows as one BigQuery table with a ``billing_period`` column; every
statement goes through :class:`BigQueryEngine` (transpiled to GoogleSQL, sent with the real
client, transpiled back to DuckDB by the fake). The SQL snapshots in ``test_engine_sql.py``
stay: they pin the text; this pins the answers.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from blocks.cost_engines import BigQueryCostTable
from tasks.chargeback import lines_from_lake, period_bounds
from tasks.cost.anomaly.series import load_breakdown, load_charges, load_monitor_series
from tasks.cost.lake import Lake, LakeQuery
from tasks.cost.lake.bigquery import BigQueryEngine
from tasks.errors import ConfigurationError
from tasks.store import get_engine
from tests.cost.anomaly.helpers import (
    EC2_US,
    EVERY_DIMENSION,
    START,
    cost_line,
    insert_lines,
    scenario,
)

LAST = START + timedelta(days=20)
TABLE = ("acme-billing", "finops", "cost_lines")
MONITORS = EVERY_DIMENSION


@pytest.fixture
def warehouse(bigquery_fake):
    """The lake's lines in the fake's ``acme-billing.finops.cost_lines``; the store's engine."""
    store = get_engine()
    rows = scenario(days=21, spikes={(EC2_US, 15): 900.0})
    rows.append(cost_line(START, 100.0, EC2_US, category="Purchase", charge_frequency="One-Time"))
    insert_lines(store, rows)
    lake = Lake.from_settings()
    parts = []
    for key in lake.partitions():
        part = lake.read([key])
        period = pa.array([key.billing_period] * part.num_rows, pa.string())
        parts.append(part.append_column("billing_period", period))
    bigquery_fake.load(".".join(TABLE), pa.concat_tables(parts))
    return store, bigquery_fake


def _bigquery(fake, table: str = TABLE[2]) -> BigQueryEngine:
    block = BigQueryCostTable(
        project=TABLE[0],
        dataset=TABLE[1],
        table=table,
        billing_period_column="billing_period",
        api_endpoint=fake.url,
    )
    return BigQueryEngine(block, ["2026-07"])


@pytest.mark.parametrize("spec", MONITORS, ids=lambda m: m.name)
def test_anomaly_queries_on_bigquery_answer_as_on_duckdb(warehouse, spec):
    store, fake = warehouse
    with _bigquery(fake) as bigquery, LakeQuery(Lake.from_settings()) as duckdb:
        got = load_monitor_series(store, spec, START, LAST, lines=bigquery)
        want = load_monitor_series(store, spec, START, LAST, lines=duckdb)
        assert (got.keys, got.currencies, got.start) == (want.keys, want.currencies, want.start)
        np.testing.assert_array_equal(got.values, want.values)
        pd.testing.assert_frame_equal(
            load_charges(store, spec, START, LAST, lines=bigquery).reset_index(drop=True),
            load_charges(store, spec, START, LAST, lines=duckdb).reset_index(drop=True),
        )
        value, currency = want.values_of[0], want.currencies[0]
        got_b = load_breakdown(store, spec, value, currency, START, LAST, lines=bigquery)
        want_b = load_breakdown(store, spec, value, currency, START, LAST, lines=duckdb)
        assert (got_b.labels, got_b.account_names) == (want_b.labels, want_b.account_names)
        np.testing.assert_array_equal(got_b.values, want_b.values)
    assert len(fake.queries) == 3  # the series, the purchases, the breakdown
    assert all("`acme-billing`.`finops`.`cost_lines`" in sql for sql in fake.queries)
    assert all("billing_period IN ('2026-07')" in sql for sql in fake.queries)


def test_chargeback_inputs_on_bigquery_are_the_same_cents(warehouse):
    _store, fake = warehouse
    start, end = period_bounds("2026-07")
    keys = ["billing_currency", "service_name", "tags", "sub_account_id"]
    with _bigquery(fake) as bigquery, LakeQuery(Lake.from_settings()) as duckdb:
        got = lines_from_lake(start, end, keys, engine=bigquery)  # type: ignore[arg-type]
        want = lines_from_lake(start, end, keys, engine=duckdb)  # type: ignore[arg-type]
    order = [*keys, "charge_period_start"]
    got_rows = got.table.sort_by([(k, "ascending") for k in order]).to_pylist()
    want_rows = want.table.sort_by([(k, "ascending") for k in order]).to_pylist()
    assert got_rows == want_rows
    assert len(got_rows) > 0


def test_a_missing_table_is_refused_naming_the_engine_and_table(warehouse):
    _store, fake = warehouse
    start, end = period_bounds("2026-07")
    with _bigquery(fake, "no_such_table") as bigquery, pytest.raises(ConfigurationError) as caught:
        lines_from_lake(start, end, engine=bigquery)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("cost engine bigquery (acme-billing.finops.no_such_table): ")
    assert "Not found: Table acme-billing.finops.no_such_table" in message
