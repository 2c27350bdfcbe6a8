"""Cost queries on Apache Spark: in local mode in the worker, or on a cluster via Spark Connect.

The lake's current files of the requested billing periods (the manifests' files, every one's
columns checked as for DuckDB) are read as Parquet with the lake's schema into a temporary view;
the statement runs transpiled to Spark SQL (:mod:`tasks.cost.lake.sql`) and comes back as Arrow.
Money stays exact: the lake's ``decimal128(38, 12)`` is Spark's ``DECIMAL(38, 12)``, and sums
come back as the same Arrow type. The session runs in UTC.

One session per process (:func:`spark_session`): ``local[2]`` without ``TRACEO_SPARK_REMOTE``,
else ``SparkSession.builder.remote(url)``. A cluster reads the files by their paths, so its lake
must be one it can reach (``s3://`` is read as ``s3a://``, which needs the cluster's S3
configuration); a local directory only works in local mode.
"""

from __future__ import annotations

import functools
import shutil
import socket
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

__all__ = ["SparkQuery", "spark_session"]

LOCAL_MASTER = "local[2]"
_LOCAL_CONFIG = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.session.timeZone": "UTC",
}


@functools.cache
def spark_session(remote: str | None = None) -> Any:
    """This process's Spark session: local mode, or Spark Connect at ``remote``.

    Raises:
        ConfigurationError: local mode without Java.
        EngineUnavailableError: the Spark Connect server does not answer, or Spark fails to start.
    """
    from pyspark.sql import SparkSession

    where = remote or LOCAL_MASTER
    if remote:
        _check_reachable(remote)
        builder = SparkSession.builder.remote(remote)
    else:
        if shutil.which("java") is None:
            raise ConfigurationError(
                f"cost engine spark ({where}): no Java found (Spark needs Java 17+ on PATH)"
            )
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
            table: pa.Table = self.session.sql(sql).toArrow()
        except Exception as exc:  # AnalysisException, Py4JJavaError, gRPC errors
            raise LakeDataError(
                f"cost engine spark ({self.where}) over cost lake {self.lake.display}: query "
                f"failed ({_first_line(exc)})"
            ) from None
        return table

    def close(self) -> None:
        self.session.catalog.dropTempView(self.view)
