"""Spark through Spark Connect, as a cluster is used: a Connect server started in a child process
(local[2]) and the engine's client in this one; its answers equal DuckDB's on the same lake.

The server and this process share the machine, so the lake's local files are readable by both.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

import numpy as np
import pytest

from tasks.chargeback import lines_from_lake, period_bounds
from tasks.cost.anomaly.series import load_breakdown, load_monitor_series
from tasks.cost.lake import Lake, LakeQuery
from tasks.settings import get_settings
from tasks.store import get_engine
from tests.cost.anomaly.helpers import START, insert_lines, monitor, scenario
from tests.services import require_spark

_TOKEN = "traceo-test-token"
_SERVER = """
import sys, time
from pyspark.sql.connect.session import SparkSession
SparkSession._start_connect_server("local[2]", {
    "spark.connect.grpc.binding.address": "127.0.0.1",
    "spark.connect.grpc.binding.port": sys.argv[1],
    "spark.ui.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
})
print("ready", flush=True)
time.sleep(3600)
"""


@pytest.fixture(scope="module")
def connect_url():
    require_spark()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    before = os.environ.get("SPARK_CONNECT_AUTHENTICATE_TOKEN")
    os.environ["SPARK_CONNECT_AUTHENTICATE_TOKEN"] = _TOKEN  # the server's and the client's
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"},
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline() == b"ready\n", "the Spark Connect server did not start"
        yield f"sc://localhost:{port}"  # localhost: the client sends its token without TLS
    finally:
        from tasks.cost.lake.spark import stop_spark_sessions

        stop_spark_sessions()
        server.terminate()
        server.wait(timeout=60)
        if before is None:
            os.environ.pop("SPARK_CONNECT_AUTHENTICATE_TOKEN", None)
        else:
            os.environ["SPARK_CONNECT_AUTHENTICATE_TOKEN"] = before


def test_the_configured_cluster_answers_as_duckdb(connect_url, monkeypatch):
    store = get_engine()
    insert_lines(store, scenario(days=20))
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
    assert sorted(map(repr, cluster.table.to_pylist())) == sorted(
        map(repr, embedded.table.to_pylist())
    )
