"""Cost queries on Apache Spark: in local mode in the worker, or on a cluster via Spark Connect.

The lake's current files of the requested billing periods (the manifests' files, every one's
columns checked as for DuckDB) are read as Parquet with the lake's schema into a temporary view;
the statement runs transpiled to Spark SQL (:mod:`tasks.cost.lake.sql`) and comes back as Arrow.
Money stays exact: the lake's ``decimal128(38, 12)`` is Spark's ``DECIMAL(38, 12)``, and sums
come back as the same Arrow type. The session runs in UTC.

One session per process (:func:`spark_session`): ``local[2]`` without ``TRACEO_SPARK_REMOTE``,
else ``SparkSession.builder.remote(url)``. In local mode a result is written as Parquet under
``$TRACEO_HOME/spark-results`` and read back, not collected: collecting holds the whole result in
the driver's heap several times over, and chargeback's can have a row per resource (10M rows ran
a 4 GB driver out of memory). A cluster streams its result as Arrow over Spark Connect; it reads
the lake's files by their paths, so its lake must be one it can reach (``s3://`` is read as
``s3a://``, which needs the cluster's S3 configuration): a local directory only works locally.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs

from tasks.cost.lake.engines import EngineUnavailableError, TranspiledEngine
from tasks.cost.lake.layout import LAKE_SCHEMA
from tasks.cost.lake.storage import Lake, LakeDataError
from tasks.errors import ConfigurationError

__all__ = ["SparkQuery", "spark_session", "stop_spark_sessions"]

LOCAL_MASTER = "local[2]"
_LOCAL_CONFIG = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",  # read back as UTC instants
    # local mode talks to itself only: on loopback, whatever the host name resolves to
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


_sessions: dict[str | None, Any] = {}


def spark_session(remote: str | None = None) -> Any:
    """This process's Spark session: local mode, or Spark Connect at ``remote``.

    Raises:
        ConfigurationError: local mode without Java.
        EngineUnavailableError: the Spark Connect server does not answer, or Spark fails to start.
    """
    if remote not in _sessions:
        _sessions[remote] = _start(remote)
    return _sessions[remote]


def stop_spark_sessions() -> None:
    """Stop the sessions :func:`spark_session` started (the next call starts a new one)."""
    while _sessions:
        _sessions.popitem()[1].stop()


def _start(remote: str | None) -> Any:
    from pyspark.sql import SparkSession

    where = remote or LOCAL_MASTER
    builder: Any  # the Connect client's builder, or local mode's
    if remote:
        _check_reachable(remote)
        # The Connect client's own class: pyspark's generic builder refuses a remote session in a
        # process that has started local mode, which this engine allows (one session per URL).
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        builder = ConnectSession.builder.remote(remote)
    else:
        if shutil.which("java") is None:
            raise ConfigurationError(
                f"cost engine spark ({where}): no Java found (Spark needs Java 17+ on PATH)"
            )
        # read by the JVM before any configuration: keeps its address lookup on loopback too
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = SparkSession.builder.master(LOCAL_MASTER).appName("traceo")
        for key, value in _LOCAL_CONFIG.items():
            builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
        session.conf.set("spark.sql.session.timeZone", "UTC")
    except Exception as exc:  # py4j / gRPC errors: many types, none a TraceoError
        raise EngineUnavailableError(
            f"cost engine spark ({where}): cannot start a session ({_first_line(exc)})"
        ) from None
    if not remote:
        session.sparkContext.setLogLevel("ERROR")
    return session


def _check_reachable(remote: str) -> None:
    """Fail fast on an unreachable Spark Connect URL (its client would retry for minutes)."""
    parts = urlsplit(remote)
    if parts.scheme != "sc" or not parts.hostname:
        raise ConfigurationError(
            f"cost engine spark: TRACEO_SPARK_REMOTE {remote!r} is not a Spark Connect URL "
            "(sc://host:15002)"
        )
    try:
        with socket.create_connection((parts.hostname, parts.port or 15002), timeout=5):
            pass
    except OSError as exc:
        raise EngineUnavailableError(
            f"cost engine spark ({remote}): unreachable ({exc.strerror or exc})"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class SparkQuery(TranspiledEngine):
    """Spark with the lake's files of some periods behind a temporary view."""

    name = "spark"

    def __init__(
        self, lake: Lake, periods: Iterable[str] | None = None, remote: str | None = None
    ) -> None:
        from pyspark.sql.pandas.types import from_arrow_schema

        super().__init__(periods)
        self.lake = lake
        self.where = remote or LOCAL_MASTER
        self.remote = remote
        self.session = spark_session(remote)
        files = [self._url(path) for path in lake.dataset(lake.partitions(self.periods)).files]
        schema = from_arrow_schema(LAKE_SCHEMA)
        reader = self.session.read.schema(schema)
        rows = reader.parquet(*files) if files else self.session.createDataFrame([], schema)
        self.view = f"traceo_lake_{uuid.uuid4().hex}"
        rows.createOrReplaceTempView(self.view)

    def source(self) -> tuple[tuple[str, ...], str | None]:
        return (self.view,), None  # the view holds the periods' files only

    def _url(self, path: str) -> str:
        if isinstance(self.lake.fs, pafs.LocalFileSystem):
            return f"file://{path}"
        return f"s3a://{path}"

    def run(self, sql: str) -> pa.Table:
        try:
            result = self.session.sql(sql)
            if self.remote:
                table: pa.Table = result.toArrow()
                return table
            return self._through_files(result)
        except Exception as exc:  # AnalysisException, Py4JJavaError, gRPC errors
            raise LakeDataError(
                f"cost engine spark ({self.where}) over cost lake {self.lake.display}: query "
                f"failed ({_first_line(exc)})"
            ) from None

    def _through_files(self, result: Any) -> pa.Table:
        """Local mode: the result written as Parquet by the tasks, read back in part order (a
        sorted result's parts are in sort order)."""
        import pyarrow.parquet as pq

        from tasks.settings import get_settings

        scratch = get_settings().home / "spark-results"
        scratch.mkdir(parents=True, exist_ok=True)
        out = tempfile.mkdtemp(dir=scratch)
        try:
            result.write.mode("overwrite").parquet(f"file://{out}")
            return pq.read_table(out)
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def close(self) -> None:
        # After the engine failed (its JVM gone), dropping the view fails too: the first error
        # is the one to report, not this one.
        with contextlib.suppress(Exception):
            self.session.catalog.dropTempView(self.view)
