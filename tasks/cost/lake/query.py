"""Queries over the cost lake, run by embedded DuckDB (the default engine, see
:mod:`tasks.cost.lake.engines`); Python receives the aggregates only.

The lake's current files of the billing periods a query touches (each file's footer checked
first: corrupt, truncated or drifted files are named) are read behind a view named
``cost_lines`` with the store's column names: by DuckDB's own Parquet reader for a local lake,
as an Arrow dataset for S3 (DuckDB's httpfs extension is downloaded at run time, which these
machines cannot do; Arrow's S3 filesystem needs nothing more). Either way DuckDB pushes
filters and projections into the scan. The queries are the SQLAlchemy Core statements
the store runs (written once against :class:`tasks.store.CostLine`), compiled to SQL with
positional parameters: the same statement runs on the store and on the lake, which is what the
differential tests compare.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.fs as pafs
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import Select

from tasks.cost.focus import STORE_SCHEMA
from tasks.cost.lake.layout import LAKE_SCHEMA, STORE_NAMES
from tasks.cost.lake.storage import Lake, LakeDataError
from tasks.errors import PermanentError

__all__ = ["AccountTotals", "LakeQuery", "account_totals", "compile_for_duckdb"]

_DIALECT = sqlite.dialect()  # qmark parameters and plain SQL types, as DuckDB takes them


def compile_for_duckdb(stmt: Select[Any]) -> tuple[str, list[Any]]:
    """``stmt`` as SQL text and its positional parameters."""
    compiled = stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    return str(compiled), params


@dataclass(frozen=True)
class AccountTotals:
    """What a table of lines holds for one billing account (see :func:`account_totals`)."""

    billing_account_id: str
    rows: int
    fingerprint: int
    billed: Decimal
    effective: Decimal
    estimated: bool
    provider_name: str
    billing_currency: str


@functools.cache
def _database() -> Any:
    """One in-memory DuckDB per process for these totals; each call takes its own cursor."""
    import duckdb

    return duckdb.connect()


def account_totals(lines: pa.Table) -> list[AccountTotals]:
    """Rows, money and a fingerprint per billing account of normalised ``lines``, in one scan.

    The fingerprint is order-independent: the sum of every row's hash (DuckDB's) over the
    :data:`~tasks.cost.focus.STORE_SCHEMA` columns, so chunks' sums add up to the whole's and a
    repeated row counts twice (a xor would cancel it).
    """
    if lines.num_rows == 0:
        return []
    columns = ", ".join(f'"{name}"' for name in STORE_SCHEMA.names)
    sql = f"""
        SELECT billing_account_id, count(*), sum(hash({columns})::HUGEINT),
               sum(billed_cost), sum(effective_cost), bool_or(estimated),
               min(provider_name), min(billing_currency)
        FROM lines GROUP BY billing_account_id ORDER BY billing_account_id
    """
    with _database().cursor() as con:
        con.register("lines", lines.select(STORE_SCHEMA.names))
        found = con.sql(sql).fetchall()
    return [
        AccountTotals(account, rows, int(hashes), billed, effective, estimated, provider, currency)
        for account, rows, hashes, billed, effective, estimated, provider, currency in found
    ]


class LakeQuery:
    """A DuckDB connection with ``cost_lines`` over the lake's partitions of some periods."""

    name = "duckdb"

    def __init__(self, lake: Lake, periods: Iterable[str] | None = None) -> None:
        import duckdb

        self.lake = lake
        from tasks.settings import get_settings

        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        # Large GROUP BYs and sorts spill here instead of failing (local disk, also for S3 lakes).
        spill = get_settings().home / "duckdb-spill"
        self.con.execute("SET temp_directory = ?", [str(spill)])
        self.con.execute("SET enable_progress_bar = false")
        dataset = lake.dataset(lake.partitions(periods))  # every file checked: corrupt, drift
        if isinstance(lake.fs, pafs.LocalFileSystem) and dataset.files:
            # DuckDB's own Parquet reader scans local files ~3x faster than through Arrow
            files = ", ".join("'" + path.replace("'", "''") + "'" for path in dataset.files)
            self.con.execute(f"CREATE VIEW lake_files AS SELECT * FROM read_parquet([{files}])")
        else:  # S3 (read by Arrow's filesystem: no httpfs extension here) or no files yet
            self.con.register("lake_files", dataset)
        columns = ", ".join(f'"{name}" AS "{STORE_NAMES[name]}"' for name in LAKE_SCHEMA.names)
        self.con.execute(f"CREATE VIEW cost_lines AS SELECT {columns} FROM lake_files")

    def frame(self, stmt: Select[Any]) -> pd.DataFrame:
        """Run a statement over ``cost_lines``; the result as a DataFrame."""
        frame: pd.DataFrame = self._run(stmt, lambda relation: relation.df())
        return frame

    def arrow(self, stmt: Select[Any]) -> pa.Table:
        """Run a statement over ``cost_lines``; the result as an Arrow table."""
        table: pa.Table = self._run(stmt, lambda relation: relation.to_arrow_table())
        return table

    def _run(self, stmt: Select[Any], fetch: Callable[[Any], Any]) -> Any:
        import duckdb

        sql, params = compile_for_duckdb(stmt)
        try:
            return fetch(self.con.sql(sql, params=params))
        except duckdb.OutOfMemoryException as exc:
            raise PermanentError(
                f"cost lake {self.lake.display}: DuckDB ran out of memory even spilling to disk "
                f"({exc})"
            ) from None
        except duckdb.Error as exc:
            raise LakeDataError(f"cost lake {self.lake.display}: query failed ({exc})") from None

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> LakeQuery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
