"""``json_text``: one tag value's JSON text, the same on SQLite, PostgreSQL and DuckDB."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select

from tasks.cost.lake import compile_for_duckdb
from tasks.store.sql import json_text

ROWS = [
    {"k": "prod"},
    {"k": 5},
    {"k": True},
    {"k": None},
    {"k": ""},
    {"k": [1, "a"]},
    {"k": 'quote " and é'},
    {"other": "x"},
    None,
    ["k"],
]
EXPECTED = ['"prod"', "5", "true", "null", '""']  # then a list, a quote, three absent


def _decoded(texts: list[str | None]) -> list[object]:
    return [None if t is None else json.loads(t) for t in texts]


def _table() -> Table:
    return Table(
        "json_text_probe", MetaData(), Column("id", Integer, primary_key=True), Column("t", JSON)
    )


def test_each_backend_gives_the_json_text_of_the_key(store_url) -> None:
    from sqlalchemy import create_engine

    table = _table()
    engine = create_engine(store_url)
    with engine.begin() as conn:
        table.create(conn)
        try:
            conn.execute(insert(table), [{"id": i, "t": row} for i, row in enumerate(ROWS)])
            found = conn.execute(select(json_text(table.c.t, "k")).order_by(table.c.id))
            texts = [row[0] for row in found]
        finally:
            table.drop(conn)
    engine.dispose()
    assert _decoded(texts[:5]) == _decoded(EXPECTED[:5])
    assert json.loads(texts[5]) == [1, "a"]
    assert json.loads(texts[6]) == 'quote " and é'
    assert texts[7:] == [None, None, None]


def test_duckdb_gives_what_sqlite_gives() -> None:
    import duckdb

    table = _table()
    sql, params = compile_for_duckdb(select(json_text(table.c.t, "k")).order_by(table.c.id))
    con = duckdb.connect()
    con.execute("CREATE TABLE json_text_probe (id INTEGER, t VARCHAR)")
    con.executemany(
        "INSERT INTO json_text_probe VALUES (?, ?)",
        [[i, None if row is None else json.dumps(row)] for i, row in enumerate(ROWS)],
    )
    texts = [row[0] for row in con.execute(sql, params).fetchall()]
    assert _decoded(texts[:5]) == _decoded(EXPECTED[:5])
    assert json.loads(texts[5]) == [1, "a"]
    assert json.loads(texts[6]) == 'quote " and é'
    assert texts[7:] == [None, None, None]


@pytest.mark.parametrize("key", ['a"b', "a\\b"])
def test_keys_that_cannot_be_a_path_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="quote or a backslash"):
        json_text(_table().c.t, key)


def test_a_key_with_an_apostrophe_is_quoted(store_url) -> None:
    from sqlalchemy import create_engine

    table = _table()
    engine = create_engine(store_url)
    with engine.begin() as conn:
        table.create(conn)
        try:
            conn.execute(insert(table), [{"id": 1, "t": {"it's": "ok"}}])
            found = conn.execute(select(json_text(table.c.t, "it's"))).scalar()
        finally:
            table.drop(conn)
    engine.dispose()
    assert found == '"ok"'


def test_a_statement_on_another_key_is_not_served_from_the_statement_cache(store_url) -> None:
    from sqlalchemy import create_engine

    table = _table()
    engine = create_engine(store_url)
    with engine.begin() as conn:
        table.create(conn)
        try:
            conn.execute(insert(table), [{"id": 1, "t": {"a": "first", "b": "second"}}])
            found = [conn.scalar(select(json_text(table.c.t, key))) for key in ("a", "b")]
        finally:
            table.drop(conn)
    assert found == ['"first"', '"second"']
