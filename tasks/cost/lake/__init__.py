"""The cost lake: cost lines as Parquet in FOCUS 1.2 columns, queried by embedded DuckDB."""

from tasks.cost.lake.layout import LAKE_SCHEMA, PartitionKey, months, to_lake
from tasks.cost.lake.query import AccountTotals, LakeQuery, account_totals, compile_for_duckdb
from tasks.cost.lake.storage import Lake, LakeConflictError, LakeDataError, Manifest

__all__ = [
    "LAKE_SCHEMA",
    "AccountTotals",
    "Lake",
    "LakeConflictError",
    "LakeDataError",
    "LakeQuery",
    "Manifest",
    "PartitionKey",
    "account_totals",
    "compile_for_duckdb",
    "months",
    "to_lake",
]
