"""Spark answers as DuckDB does on the same lake: series, root causes, chargeback.

One JVM serves the whole module (starting one takes seconds): the local-mode session, with a
Spark Connect server running in it, which the Connect test reaches as a cluster is reached (a
client session over gRPC, with a token). Series are doubles cast from exact decimal sums by each
engine; chargeback's inputs are the exact decimal sums.
"""

from __future__ import annotations

import csv
import os
import socket
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from tasks.chargeback import (
    CostColumns,
    allocate,
    lines_from_lake,
    load_chargeback_config,
    load_usage_csv,
    needed_columns,
    period_bounds,
)
from tasks.chargeback.tasks import DEFAULT_CONFIG_DIR
from tasks.cost.anomaly.series import load_breakdown, load_charges, load_monitor_series
from tasks.cost.ingest import ingest_source
from tasks.cost.lake import EngineUnavailableError, Lake, LakeDataError, LakeQuery, open_engine
from tasks.cost.sources.focus_files import FocusFileSource
from tasks.cost.sources.snapshot import StaticCostSource
from tasks.errors import ConfigurationError
from tasks.extras import EXTRA_MODULES
from tasks.settings import get_settings
from tasks.store import get_engine
from tests.cost.anomaly.helpers import (
    EC2_US,
    EVERY_DIMENSION,
    START,
    cost_line,
    insert_lines,
    monitor,
)
from tests.cost.anomaly.helpers import scenario as seasonal
from tests.cost.helpers import SAMPLE, focus_row
from tests.services import require_spark

SEPTEMBER = (date(2024, 9, 1), date(2024, 10, 1))
MONITORS = EVERY_DIMENSION


_TOKEN = "traceo-test-token"


@pytest.fixture(scope="module")
def spark():
    """The local session, started with a Spark Connect server in its JVM."""
    require_spark()
    from pyspark.sql import SparkSession

    from tasks.cost.lake.spark import spark_session, stop_spark_sessions

    port = _free_port()
    before = os.environ.get("SPARK_CONNECT_AUTHENTICATE_TOKEN")
    os.environ["SPARK_CONNECT_AUTHENTICATE_TOKEN"] = _TOKEN  # read by the JVM at launch
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        builder = SparkSession.builder.master("local[2]")
        connect = {
            "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(port),
        }
        for key, value in connect.items():
            builder = builder.config(key, value)
        builder.getOrCreate()
        yield spark_session()  # the engine's own start: it finds the session above
    finally:
        stop_spark_sessions()
        if before is None:
            os.environ.pop("SPARK_CONNECT_AUTHENTICATE_TOKEN", None)
        else:
            os.environ["SPARK_CONNECT_AUTHENTICATE_TOKEN"] = before


@pytest.fixture
def connect_url(spark):
    """The Spark Connect server in the module's JVM (localhost: the token goes without TLS)."""
    return f"sc://localhost:{spark.conf.get('spark.connect.grpc.binding.port')}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def use_spark(spark, monkeypatch):
    monkeypatch.setenv("TRACEO_COST_ENGINE", "spark")
    get_settings.cache_clear()


@pytest.fixture
def lake_lines():
    rows = seasonal(days=40, spikes={(EC2_US, 35): 900.0})
    fee = dict(charge_frequency="Recurring", service_name="Support")
    rows.append(cost_line(START, 100.0, EC2_US, category="Purchase", **fee))
    rows.append(cost_line(START + timedelta(days=3), 55.5, EC2_US, span_days=30))
    engine = get_engine()
    insert_lines(engine, rows)
    return engine


@pytest.mark.parametrize("spec", MONITORS, ids=lambda m: m.name)
def test_series_charges_and_root_causes_on_spark_equal_duckdb(lake_lines, spec, use_spark):
    last = START + timedelta(days=39)
    with LakeQuery(Lake.from_settings()) as duckdb:
        on_spark = load_monitor_series(lake_lines, spec, START, last)  # the configured engine
        on_duckdb = load_monitor_series(lake_lines, spec, START, last, lines=duckdb)
        assert on_spark.keys and on_spark.keys == on_duckdb.keys
        assert (on_spark.currencies, on_spark.start) == (on_duckdb.currencies, on_duckdb.start)
        np.testing.assert_array_equal(on_spark.values, on_duckdb.values)

        charges = load_charges(lake_lines, spec, START, last)
        pd.testing.assert_frame_equal(
            charges.reset_index(drop=True),
            load_charges(lake_lines, spec, START, last, lines=duckdb).reset_index(drop=True),
        )
        assert not charges.empty

        for value, currency in zip(on_spark.values_of, on_spark.currencies, strict=True):
            got = load_breakdown(lake_lines, spec, value, currency, START, last)
            want = load_breakdown(lake_lines, spec, value, currency, START, last, lines=duckdb)
            assert got.labels and (got.labels, got.account_names) == (
                want.labels,
                want.account_names,
            )
            np.testing.assert_array_equal(got.values, want.values)


def test_chargeback_inputs_on_spark_equal_duckdb_to_the_cent(spark):
    ingest_source(
        get_engine(), FocusFileSource("sample", str(SAMPLE)), date(2024, 9, 1), date(2024, 10, 1)
    )
    config = load_chargeback_config(
        DEFAULT_CONFIG_DIR / "teams.yaml", DEFAULT_CONFIG_DIR / "ratecard.yaml"
    )
    usage = load_usage_csv(DEFAULT_CONFIG_DIR / "usage.csv", "2024-09")
    start, end = period_bounds("2024-09")
    from tasks.cost.lake.spark import SparkQuery

    with SparkQuery(Lake.from_settings(), ["2024-09"]) as engine:
        for keys in (needed_columns(config), None):
            on_spark = lines_from_lake(start, end, keys, engine=engine)
            on_duckdb = lines_from_lake(start, end, keys)
            assert _rows(on_spark) == _rows(on_duckdb)
            for metric in ("BilledCost", "EffectiveCost"):
                got = allocate(on_spark, config, usage, "2024-09", metric)
                want = allocate(on_duckdb, config, usage, "2024-09", metric)
                assert (got.statements, got.unallocated) == (want.statements, want.unallocated)
    with SAMPLE.open(newline="") as file:
        rows = CostColumns.from_rows(csv.DictReader(file))
    assert allocate(on_spark, config, usage, "2024-09").statements == (
        allocate(rows, config, usage, "2024-09").statements
    )


def _rows(columns: CostColumns) -> list[str]:
    return sorted(repr(sorted(row.items())) for row in columns.table.to_pylist())


def test_periods_without_files_give_an_empty_answer_with_the_columns(spark):
    start, end = period_bounds("2031-01")
    from tasks.cost.lake.spark import SparkQuery

    with SparkQuery(Lake.from_settings(), ["2031-01"]) as engine:
        assert len(lines_from_lake(start, end, engine=engine)) == 0


def test_an_unreachable_spark_connect_url_is_one_line_naming_the_engine(monkeypatch):
    require_spark()
    url = f"sc://127.0.0.1:{_free_port()}"  # a port nothing listens on
    monkeypatch.setenv("TRACEO_COST_ENGINE", "spark")
    monkeypatch.setenv("TRACEO_SPARK_REMOTE", url)
    get_settings.cache_clear()
    with pytest.raises(EngineUnavailableError) as caught:
        open_engine(["2024-09"])
    assert str(caught.value).startswith(f"cost engine spark ({url}): unreachable (")
    assert "\n" not in str(caught.value)


def test_an_engine_not_installed_is_one_line_naming_it(monkeypatch):
    monkeypatch.setitem(EXTRA_MODULES, "spark", ("no_such_pyspark",))
    monkeypatch.setenv("TRACEO_COST_ENGINE", "spark")
    get_settings.cache_clear()
    with pytest.raises(ConfigurationError) as caught:
        open_engine(["2024-09"])
    assert str(caught.value) == (
        "cost engine spark: no_such_pyspark not installed: pip install 'traceo-jobs[spark]'"
    )


def test_the_chargeback_spark_bench_allocates_identical_cents(spark, tmp_path):
    from deployments.bench import WORKLOADS
    from deployments.bench.chargeback_spark import compare

    result = compare(20_000, tmp_path)
    assert result["identical"] and result["differing"] == 0
    assert result["keys"] > 100 and result["cents"] != 0
    assert result["groups"][0] == result["groups"][1] > 0
    assert WORKLOADS["chargeback_spark"] == "deployments.bench.chargeback_spark"


def test_a_truncated_lake_file_is_named_before_spark_reads_it(spark):
    ingest_source(get_engine(), StaticCostSource("s", [focus_row()]), *SEPTEMBER)
    lake = Lake.from_settings()
    [path] = lake.files(lake.partitions(["2024-09"]))
    with open(path, "rb+") as file:
        file.truncate(len(file.read()) // 2)
    from tasks.cost.lake.spark import SparkQuery

    with pytest.raises(LakeDataError, match=r"billing_period=2024-09/part-.*unreadable Parquet"):
        SparkQuery(lake, ["2024-09"])


def test_a_failing_spark_query_is_one_line_naming_the_engine(spark):
    from tasks.cost.lake.spark import SparkQuery

    with SparkQuery(Lake.from_settings(), []) as engine, pytest.raises(LakeDataError) as caught:
        engine.run("SELECT no_such_column FROM cost_lines_nowhere")
    message = str(caught.value)
    assert message.startswith("cost engine spark (local[2]) over cost lake ")
    assert "query failed (" in message and "\n" not in message


def test_a_cluster_through_spark_connect_answers_as_duckdb(connect_url, monkeypatch):
    store = get_engine()
    insert_lines(store, seasonal(days=20))
    monkeypatch.setenv("TRACEO_COST_ENGINE", "spark")
    monkeypatch.setenv("TRACEO_SPARK_REMOTE", connect_url)
    get_settings.cache_clear()
    spec = monitor("services", "service")
    last = START + timedelta(days=19)
    start, end = period_bounds(f"{START:%Y-%m}")
    with LakeQuery(Lake.from_settings()) as duckdb:
        on_spark = load_monitor_series(store, spec, START, last)  # through Spark Connect
        on_duckdb = load_monitor_series(store, spec, START, last, lines=duckdb)
        assert on_spark.keys and on_spark.keys == on_duckdb.keys
        np.testing.assert_array_equal(on_spark.values, on_duckdb.values)
        value, currency = on_spark.values_of[0], on_spark.currencies[0]
        got = load_breakdown(store, spec, value, currency, START, last)
        want = load_breakdown(store, spec, value, currency, START, last, lines=duckdb)
        assert got.labels and got.labels == want.labels
        np.testing.assert_array_equal(got.values, want.values)
        keys = ["billing_currency", "service_name", "sub_account_id", "tags"]
        cluster = lines_from_lake(start, end, keys)
        embedded = lines_from_lake(start, end, keys, engine=duckdb)
    assert len(cluster) > 0
    assert _rows(cluster) == _rows(embedded)
