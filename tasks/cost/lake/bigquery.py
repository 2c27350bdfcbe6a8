"""Cost queries on BigQuery: the statements transpiled to GoogleSQL over a table of lake rows.

The table is the :class:`blocks.cost_engines.BigQueryCostTable` block's; results come back as
Arrow (``QueryJob.to_arrow``). There is no cloud in tests: the SQL of every query is
snapshot-tested, and the engine runs against a local BigQuery fake (the block's
``api_endpoint``) that executes the GoogleSQL on DuckDB, where its answers must equal DuckDB's
own over the lake (``tests/cost/lake/test_bigquery_engine.py``).
"""

from __future__ import annotations

import pyarrow as pa

from blocks.cost_engines import BigQueryCostTable
from tasks.cost.lake.engines import EngineUnavailableError, WarehouseEngine
from tasks.errors import ConfigurationError

__all__ = ["BigQueryEngine"]


class BigQueryEngine(WarehouseEngine):
    """The block's BigQuery table behind ``cost_lines``."""

    name = "bigquery"
    block_type = BigQueryCostTable

    def run(self, sql: str) -> pa.Table:
        from google.api_core import exceptions

        try:
            result: pa.Table = self.client.query(sql).to_arrow()
        except exceptions.ClientError as exc:  # 4xx: no such table, no permission, bad SQL
            raise ConfigurationError(
                f"cost engine bigquery ({self.where}): query refused ({exc.message})"
            ) from None
        except (exceptions.GoogleAPIError, OSError) as exc:
            raise EngineUnavailableError(
                f"cost engine bigquery ({self.where}): unavailable ({type(exc).__name__})"
            ) from None
        return result
