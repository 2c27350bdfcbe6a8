"""The cost lake: cost lines as Parquet in FOCUS 1.2 columns, queried by embedded DuckDB or
another engine (:mod:`tasks.cost.lake.engines`)."""

from tasks.cost.lake.engines import ENGINES, EngineUnavailableError, LakeEngine, open_engine
from tasks.cost.lake.layout import LAKE_SCHEMA, PartitionKey, months, to_lake
from tasks.cost.lake.query import AccountTotals, LakeQuery, account_totals, compile_for_duckdb
from tasks.cost.lake.storage import Lake, LakeConflictError, LakeDataError, Manifest

__all__ = [
    "ENGINES",
    "LAKE_SCHEMA",
    "AccountTotals",
    "EngineUnavailableError",
    "Lake",
    "LakeConflictError",
    "LakeDataError",
    "LakeEngine",
    "LakeQuery",
    "Manifest",
    "PartitionKey",
    "account_totals",
    "compile_for_duckdb",
    "months",
    "open_engine",
    "to_lake",
]
