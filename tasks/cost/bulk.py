"""Bulk row writers for normalised cost tables: PostgreSQL COPY, SQLite executemany.

:class:`RowStream` writes inside the caller's transaction (a SQLAlchemy ``Connection``), so a
failure leaves nothing behind. On PostgreSQL one ``COPY ... FROM STDIN`` stays open for the whole
stream and receives Arrow's CSV rendering of each batch (money as decimal text, never a float;
date-times as naive UTC under ``SET LOCAL TIME ZONE 'UTC'``) from a writer thread, so the server
parses one batch while Arrow renders the next. The same bytes feed the caller's checksum, which is
therefore identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
from sqlalchemy import Connection, Table

__all__ = ["BATCH_ROWS", "RowStream", "write_rows"]

# Rows per rendered batch / executemany call: bounds the memory of one batch in flight.
BATCH_ROWS = 10_000
_CSV = pcsv.WriteOptions(include_header=False, batch_size=BATCH_ROWS)


class RowStream:
    """Append Arrow tables to ``table``: ``with RowStream(conn, table, cols, consts) as s: ...``.

    Args:
        conn: a connection inside the caller's transaction; issue no other statement on it
            until the stream is closed (PostgreSQL is in COPY mode meanwhile).
        table: the target table.
        columns: the Arrow columns written, in order (names of ``table``'s columns).
        constants: columns with one value for every row (e.g. ``source``), appended last.
    """

    def __init__(
        self,
        conn: Connection,
        table: Table,
        columns: Sequence[str],
        constants: dict[str, Any] | None = None,
    ) -> None:
        self.conn = conn
        self.table = table
        self.columns = list(columns)
        self.constants = dict(constants or {})
        unknown = [c for c in [*self.columns, *self.constants] if c not in table.c]
        if unknown:
            raise ValueError(f"columns not in {table.name}: {', '.join(unknown)}")
        self.rows = 0
        self._copy_cm: Any = None
        self._copy: Any = None
        self._cursor: Any = None

    def write(self, rows: pa.Table, digest: Any | None = None) -> int:
        """Append ``rows``; update ``digest`` (a hashlib object) with their canonical text."""
        rows = _naive_utc(rows.select(self.columns))
        copy = self.conn.dialect.name == "postgresql"
        for batch in rows.to_batches(max_chunksize=BATCH_ROWS):
            rendered = _render(_with_constants(batch, self.constants)) if copy or digest else b""
            if digest is not None:
                digest.update(rendered)
            if copy:
                self._copy_stream().write(rendered)
            else:
                self._insert(batch)
        self.rows += rows.num_rows
        return rows.num_rows

    def close(self, error: BaseException | None = None) -> None:
        """Finish the COPY (or abort it when ``error`` is given)."""
        if self._copy_cm is not None:
            cm, self._copy_cm, self._copy = self._copy_cm, None, None
            try:
                if error is None:
                    cm.__exit__(None, None, None)
                else:
                    cm.__exit__(type(error), error, error.__traceback__)
            finally:
                self._cursor.close()

    def __enter__(self) -> RowStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(exc)

    def _copy_stream(self) -> Any:
        if self._copy is None:
            from psycopg.copy import QueuedLibpqWriter

            names = ", ".join(f'"{c}"' for c in [*self.columns, *self.constants])
            statement = f'COPY "{self.table.name}" ({names}) FROM STDIN (FORMAT csv)'
            # Date-times are rendered as naive UTC (10x faster than with a zone): read them so.
            self.conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
            driver = self.conn.connection.driver_connection  # psycopg 3, same transaction
            if driver is None:
                raise RuntimeError("the connection is closed")
            self._cursor = driver.cursor()
            # A writer thread sends while Arrow renders the next batch (rendering drops the GIL).
            self._copy_cm = self._cursor.copy(statement, writer=QueuedLibpqWriter(self._cursor))
            self._copy = self._copy_cm.__enter__()
        return self._copy

    def _insert(self, batch: pa.RecordBatch) -> None:
        names = [*self.columns, *self.constants]
        marks = ", ".join("?" for _ in names)
        quoted = ", ".join(f'"{c}"' for c in names)
        values = [_sqlite_values(batch.column(i)) for i in range(batch.num_columns)]
        values += [[value] * batch.num_rows for value in self.constants.values()]
        self.conn.exec_driver_sql(
            f'INSERT INTO "{self.table.name}" ({quoted}) VALUES ({marks})',
            list(zip(*values, strict=True)),
        )


def write_rows(
    conn: Connection,
    table: Table,
    rows: pa.Table,
    constants: dict[str, Any] | None = None,
    digest: Any | None = None,
) -> int:
    """Insert ``rows`` (columns named like ``table``'s) plus constant columns in one go."""
    if rows.num_rows == 0:
        return 0
    with RowStream(conn, table, rows.column_names, constants) as stream:
        return stream.write(rows, digest)


def _naive_utc(rows: pa.Table) -> pa.Table:
    """Zoned timestamps as naive UTC wall time (same instants; Arrow renders them much faster)."""
    for index, field in enumerate(rows.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            naive = rows.column(index).cast(pa.timestamp(field.type.unit))
            rows = rows.set_column(index, field.name, naive)
    return rows


def _render(batch: pa.RecordBatch) -> bytes:
    sink = io.BytesIO()
    pcsv.write_csv(batch, sink, _CSV)
    return sink.getvalue()


def _with_constants(batch: pa.RecordBatch, constants: dict[str, Any]) -> pa.RecordBatch:
    arrays = list(batch.columns)
    names = list(batch.schema.names)
    for name, value in constants.items():
        arrays.append(pa.repeat(pa.scalar(value), batch.num_rows))
        names.append(name)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _sqlite_values(array: pa.Array) -> list[Any]:
    """Python values as SQLAlchemy's SQLite types store them (naive UTC text, decimal text)."""
    kind = array.type
    if pa.types.is_timestamp(kind):  # naive UTC here, rendered as SQLAlchemy's SQLite DateTime
        return array.cast(pa.timestamp("us")).cast(pa.string()).to_pylist()
    if pa.types.is_decimal(kind):
        return array.cast(pa.string()).to_pylist()
    if pa.types.is_boolean(kind):
        return array.cast(pa.int8()).to_pylist()
    return array.to_pylist()
