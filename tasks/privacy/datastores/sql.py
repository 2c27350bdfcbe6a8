"""SQL datastores (PostgreSQL, MySQL/MariaDB, SQLite) through SQLAlchemy Core.

Tables are reflected once per process, so lookups bind values with the column's type (a
customer id given as text still matches an integer column) and exports carry every column.
Lookups are ``IN`` queries in batches of :data:`~tasks.privacy.datastores.base.BATCH` on the
identity / reference columns (index them); each erase or update runs in one transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from tasks.errors import PermanentError
from tasks.privacy.datamap import Collection
from tasks.privacy.datastores.base import Datastore, Row, batches, masked_changes

__all__ = ["SqlDatastore"]

_TABLES: dict[tuple[str, str], sa.Table] = {}
_LOCK = threading.Lock()


def _coerce(column: sa.Column[Any], value: Any) -> Any:
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is int and isinstance(value, str):
        return int(value) if value.lstrip("-").isdigit() else None
    if python_type is str and not isinstance(value, str) and value is not None:
        return str(value)
    return value


class SqlDatastore(Datastore):
    transient = (OperationalError, DisconnectionError, InterfaceError, ConnectionError)

    def _table(self, col: Collection) -> sa.Table:
        assert col.table is not None
        cache_key = (self.client.url.render_as_string(hide_password=False), col.table)
        with _LOCK:
            table = _TABLES.get(cache_key)
        if table is None:
            schema, _, name = col.table.rpartition(".")
            try:
                table = sa.Table(
                    name, sa.MetaData(), autoload_with=self.client, schema=schema or None
                )
            except sa.exc.NoSuchTableError:
                raise PermanentError(
                    f"datastore {self.name!r}: table {col.table!r} does not exist"
                ) from None
            with _LOCK:
                _TABLES[cache_key] = table
        return table

    def _column(self, table: sa.Table, field: str) -> sa.Column[Any]:
        if field not in table.c:
            raise PermanentError(f"datastore {self.name!r}: {table.name} has no column {field!r}")
        return table.c[field]

    def _key_clause(self, table: sa.Table, col: Collection, keys: list[Any]) -> Any:
        pk = [self._column(table, f) for f in col.primary_key]
        if len(pk) == 1:
            return pk[0].in_([_coerce(pk[0], k[0]) for k in keys])
        return sa.tuple_(*pk).in_(
            [tuple(_coerce(c, v) for c, v in zip(pk, k, strict=True)) for k in keys]
        )

    def find(self, col: Collection, field: str, values: Iterable[Any]) -> list[Row]:
        with self.guard():
            table = self._table(col)
            column = self._column(table, field)
            wanted = sorted({v for v in (_coerce(column, x) for x in values) if v is not None})
            rows: list[Row] = []
            with self.client.connect() as conn:
                for chunk in batches(wanted):
                    result = conn.execute(sa.select(table).where(column.in_(chunk)))
                    rows.extend(dict(r._mapping) for r in result)
            return rows

    def key_of(self, col: Collection, row: Row) -> Any:
        return [_jsonable(row[f]) for f in col.primary_key]

    def fetch(self, col: Collection, keys: list[Any]) -> list[Row]:
        with self.guard():
            table = self._table(col)
            rows: list[Row] = []
            with self.client.connect() as conn:
                for chunk in batches(keys):
                    query = sa.select(table).where(self._key_clause(table, col, chunk))
                    rows.extend(dict(r._mapping) for r in conn.execute(query))
            return rows

    def erase(self, col: Collection, keys: list[Any], hash_key: bytes) -> int:
        if col.erase == "delete":
            with self.guard(), self.client.begin() as conn:
                table = self._table(col)
                return sum(
                    conn.execute(
                        sa.delete(table).where(self._key_clause(table, col, chunk))
                    ).rowcount
                    for chunk in batches(keys)
                )
        rows = self.fetch(col, keys)
        return self._write(
            col, [(self.key_of(col, r), masked_changes(col, r, hash_key)) for r in rows]
        )

    def update(self, col: Collection, keys: list[Any], changes: dict[str, Any]) -> int:
        return self._write(col, [(k, changes) for k in keys])

    def _write(self, col: Collection, updates: list[tuple[Any, dict[str, Any]]]) -> int:
        """Apply per-row ``changes`` in one transaction; rows updated."""
        done = 0
        with self.guard(), self.client.begin() as conn:
            table = self._table(col)
            for key, changes in updates:
                if not changes:
                    continue
                values = {f: _coerce(self._column(table, f), v) for f, v in changes.items()}
                where = self._key_clause(table, col, [key])
                done += conn.execute(sa.update(table).where(where).values(values)).rowcount
        return done

    def purge_older(
        self, col: Collection, cutoff: datetime, region: str | None, all_regions: bool
    ) -> int:
        assert col.timestamp_field is not None
        with self.guard(), self.client.begin() as conn:
            table = self._table(col)
            stamp = self._column(table, col.timestamp_field)
            if not getattr(stamp.type, "timezone", False):
                cutoff = cutoff.astimezone(UTC).replace(tzinfo=None)
            where = stamp < cutoff
            if col.region_field and not all_regions:
                where = sa.and_(where, self._column(table, col.region_field) == region)
            return conn.execute(sa.delete(table).where(where)).rowcount


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
