"""Which engine runs the cost queries: embedded DuckDB by default, Spark, BigQuery or Athena.

Every query over cost lines is one SQLAlchemy Core statement (the store runs it too). An engine
takes the statement and returns the aggregate as Arrow or pandas, nothing else:

==========  ==============================================  ==================================
engine      reads                                           module
==========  ==============================================  ==================================
duckdb      the lake's current files, in process            :mod:`tasks.cost.lake.query`
spark       the same files, local mode or Spark Connect      :mod:`tasks.cost.lake.spark`
bigquery    a table of lake rows (``traceo-bigquery-...``)   :mod:`tasks.cost.lake.bigquery`
athena      a table of lake rows (``traceo-athena-...``)     :mod:`tasks.cost.lake.athena`
==========  ==============================================  ==================================

``TRACEO_COST_ENGINE`` chooses (``TRACEO_SPARK_REMOTE``: the Spark Connect URL;
``TRACEO_COST_ENGINE_BLOCK``: the BigQuery or Athena block). DuckDB runs the statement's SQL as
compiled; the others run it transpiled by SQLGlot (:mod:`tasks.cost.lake.sql`, which says why
SQLGlot and not Ibis). Errors name the engine in one line: :class:`EngineUnavailableError` when
it is down or unreachable (transient), a :class:`~tasks.errors.ConfigurationError` when its
library is not installed or it is not configured.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

from sqlalchemy.sql import Select

from tasks.errors import ConfigurationError, ServiceUnavailableError
from tasks.extras import MissingExtraError, require_extras

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from prefect.blocks.core import Block

    from tasks.cost.lake.storage import Lake

__all__ = [
    "ENGINES",
    "EngineUnavailableError",
    "LakeEngine",
    "TranspiledEngine",
    "WarehouseEngine",
    "open_engine",
    "require_engine",
]

ENGINES = ("duckdb", "spark", "bigquery", "athena")


class EngineUnavailableError(ServiceUnavailableError):
    """The cost engine is down or unreachable (a later attempt may find it up)."""


class LakeEngine(Protocol):
    """Runs statements over ``cost_lines`` of some billing periods; a context manager."""

    name: str

    def frame(self, stmt: Select[Any]) -> pd.DataFrame: ...

    def arrow(self, stmt: Select[Any]) -> pa.Table: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


def require_engine(name: str) -> None:
    """Raise a one-line :class:`ConfigurationError` naming the engine if its extra is missing."""
    try:
        require_extras(name)
    except MissingExtraError as exc:
        raise ConfigurationError(f"cost engine {name}: {exc}") from None


class TranspiledEngine(ABC):
    """An engine that runs the statements as SQL transpiled to its dialect (not DuckDB)."""

    name: str

    def __init__(self, periods: Iterable[str] | None) -> None:
        self.periods = None if periods is None else sorted(set(periods))

    def sql(self, stmt: Select[Any]) -> str:
        """The SQL text this engine runs for ``stmt``."""
        from tasks.cost.lake.sql import table, transpile

        parts, period_column = self.source()
        return transpile(stmt, self.name, table(*parts), period_column, self.periods)

    @abstractmethod
    def source(self) -> tuple[tuple[str, ...], str | None]:
        """The table of lake rows (its name's parts) and its billing-period column, if any."""

    @abstractmethod
    def run(self, sql: str) -> pa.Table:
        """Run SQL text; the result as Arrow."""

    def arrow(self, stmt: Select[Any]) -> pa.Table:
        return self.run(self.sql(stmt))

    def frame(self, stmt: Select[Any]) -> pd.DataFrame:
        frame: pd.DataFrame = self.arrow(stmt).to_pandas()
        return frame

    @abstractmethod
    def close(self) -> None:
        """Release what the engine holds (a view, a client)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WarehouseEngine(TranspiledEngine):
    """An engine over the table a block names (``table_parts()``, ``billing_period_column``)."""

    block_type: ClassVar[type[Block]]

    def __init__(self, block: Any, periods: Iterable[str] | None = None) -> None:
        super().__init__(periods)
        self.block = block
        self.where = ".".join(block.table_parts())
        self._client: Any = None

    @classmethod
    def load(cls, block_name: str, periods: Iterable[str] | None = None) -> Self:
        """The engine over the table of the saved block ``block_name``."""
        return cls(cls.block_type.load(block_name), periods)

    def source(self) -> tuple[tuple[str, ...], str | None]:
        return tuple(self.block.table_parts()), self.block.billing_period_column

    @property
    def client(self) -> Any:
        """The block's client, made on first use."""
        if self._client is None:
            self._client = self.block.get_client()
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def open_engine(periods: Iterable[str] | None = None, lake: Lake | None = None) -> LakeEngine:
    """The configured engine over the billing periods ``periods`` (None: all).

    ``lake`` (default: the configured lake) is what DuckDB and Spark read; BigQuery and Athena
    read the table of their block.

    Raises:
        ConfigurationError: the engine's library is not installed, or its block is not named.
        EngineUnavailableError: the engine cannot be reached.
    """
    from tasks.cost.lake.storage import Lake
    from tasks.settings import get_settings

    settings = get_settings()
    name = settings.cost_engine
    wanted = None if periods is None else sorted(set(periods))
    if name == "duckdb":
        from tasks.cost.lake.query import LakeQuery

        return LakeQuery(lake or Lake.from_settings(), wanted)
    require_engine(name)
    if name == "spark":
        from tasks.cost.lake.spark import SparkQuery

        return SparkQuery(lake or Lake.from_settings(), wanted, settings.spark_remote)
    if not settings.cost_engine_block:
        raise ConfigurationError(
            f"cost engine {name}: set TRACEO_COST_ENGINE_BLOCK to the saved block of its table"
        )
    if name == "bigquery":
        from tasks.cost.lake.bigquery import BigQueryEngine

        return BigQueryEngine.load(settings.cost_engine_block, wanted)
    from tasks.cost.lake.athena import AthenaEngine

    return AthenaEngine.load(settings.cost_engine_block, wanted)
