"""A local fake of the BigQuery REST API (v2) that runs GoogleSQL on DuckDB, for tests.

Serves what ``google-cloud-bigquery``'s ``Client.query(sql)`` then ``.result()`` /
``.to_arrow()`` call without the Storage API, over plain HTTP on 127.0.0.1:

- ``POST /bigquery/v2/projects/{p}/jobs`` (jobs.insert): the query is transpiled from GoogleSQL
  to DuckDB by SQLGlot and run at once over the tables the test loaded (:meth:`load`);
- ``GET .../jobs/{id}`` (jobs.get) and ``GET .../queries/{id}`` (jobs.getQueryResults, paged
  by ``maxResults`` / ``pageToken``), which is how the client (3.x) reads a query's rows when
  the Storage API is not used; it never asks for the result table (tables.get, tabledata.list).

A query naming a table the fake does not hold ends as BigQuery's does: the job is DONE with a
``notFound`` error result and reading its results answers 404; a table in :attr:`refused` gives
the error named there (403 ``accessDenied``, or ``rateLimitExceeded``, which BigQuery also
answers with 403). Values travel as BigQuery's JSON rows (``{"f": [{"v": ...}]}``, nested
for RECORD and REPEATED) with the schema typed from the DuckDB result. Clients must use
``AnonymousCredentials()`` and ``client_options={"api_endpoint": fake.url}``.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlglot import exp

from tasks.local_server import ThreadedApp

__all__ = ["BigQueryFake"]

_RESULTS = "_traceo_fake_results"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BigQueryFake(ThreadedApp):
    """``with BigQueryFake() as fake: fake.load("p.d.t", arrow); fake.url`` until the end."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, page_size: int = 3) -> None:
        self.page_size = page_size
        self.refused: dict[str, str] = {}  # full table name -> error reason of its queries
        self.queries: list[str] = []  # the GoogleSQL of every job, in order
        self._db = duckdb.connect()
        self._lock = threading.Lock()
        self._tables: dict[str, str] = {}  # "project.dataset.table" -> DuckDB table
        self._jobs: dict[str, dict[str, Any]] = {}
        self._results: dict[str, tuple[list[dict[str, Any]], list[list[Any]]]] = {}
        self._ids = itertools.count(1)
        super().__init__(self._build_app(), "bigquery-fake", host, port)

    def load(self, name: str, table: pa.Table) -> None:
        """Hold ``table`` as the BigQuery table ``project.dataset.table`` (replacing it)."""
        local = f"t{len(self._tables) + 1}"
        with self._lock:
            self._db.register("incoming", table)
            self._db.execute(f'CREATE OR REPLACE TABLE "{local}" AS SELECT * FROM incoming')
            self._db.unregister("incoming")
            old = self._tables.get(name)
            if old:
                self._db.execute(f'DROP TABLE "{old}"')
            self._tables[name] = local

    def stop(self) -> None:
        super().stop()
        self._db.close()

    # -- the API ---------------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="BigQuery fake", openapi_url=None, docs_url=None)
        root = "/bigquery/v2/projects/{project}"

        @app.post(root + "/jobs")
        async def insert_job(project: str, request: Request) -> Any:
            body = await request.json()
            return self._insert(project, body)

        @app.get(root + "/jobs/{job_id}")
        def get_job(project: str, job_id: str) -> Any:
            job = self._jobs.get(job_id)
            return job if job else _error(404, f"Not found: Job {project}:{job_id}")

        @app.get(root + "/queries/{job_id}")
        def query_results(project: str, job_id: str, request: Request) -> Any:
            job = self._jobs.get(job_id)
            if job is None:
                return _error(404, f"Not found: Job {project}:{job_id}")
            failed = job["status"].get("errorResult")
            if failed:
                return _error(_STATUS[failed["reason"]], failed["message"], failed["reason"])
            body = {
                "kind": "bigquery#getQueryResultsResponse",
                "jobReference": job["jobReference"],
                "jobComplete": True,
                "cacheHit": False,
            }
            return body | self._page(job_id, request)

        return app

    def _insert(self, project: str, body: dict[str, Any]) -> dict[str, Any]:
        reference = dict(body.get("jobReference") or {})
        job_id = reference.get("jobId") or f"fake_job_{next(self._ids)}"
        reference |= {"projectId": project, "jobId": job_id, "location": "US"}
        sql = body["configuration"]["query"]["query"]
        self.queries.append(sql)
        destination = {"projectId": project, "datasetId": _RESULTS, "tableId": job_id}
        job: dict[str, Any] = {
            "kind": "bigquery#job",
            "id": f"{project}:US.{job_id}",
            "jobReference": reference,
            "configuration": {
                "jobType": "QUERY",
                "query": {**body["configuration"]["query"], "destinationTable": destination},
            },
            "status": {"state": "DONE"},
            "statistics": {"creationTime": "0", "startTime": "0", "endTime": "0"},
        }
        try:
            self._results[job_id] = self._run(sql)
        except _QueryError as exc:
            error = {"reason": exc.reason, "message": str(exc), "location": "query"}
            job["status"] |= {"errorResult": error, "errors": [error]}
        self._jobs[job_id] = job
        return job

    def _page(self, key: str, request: Request) -> dict[str, Any]:
        schema, rows = self._results[key]
        params = request.query_params
        size = int(params.get("maxResults") or self.page_size)
        start = int(params.get("pageToken") or params.get("startIndex") or 0)
        micros = params.get("formatOptions.useInt64Timestamp", "").lower() == "true"
        body: dict[str, Any] = {"schema": {"fields": schema}, "totalRows": str(len(rows))}
        if size:  # maxResults=0 asks for the schema and the count only
            body["rows"] = [_row(schema, row, micros) for row in rows[start : start + size]]
        if size and start + size < len(rows):
            body["pageToken"] = str(start + size)
        return body

    def _run(self, sql: str) -> tuple[list[dict[str, Any]], list[list[Any]]]:
        try:
            tree = sqlglot.parse_one(sql, read="bigquery")
        except sqlglot.errors.ParseError as exc:
            raise _QueryError("invalidQuery", f"Syntax error: {exc}") from None
        ctes = {c.alias for c in tree.find_all(exp.CTE)}
        for node in list(tree.find_all(exp.Table)):
            if not node.db and node.name in ctes:
                continue
            name = ".".join(p for p in (node.catalog, node.db, node.name) if p)
            if name in self.refused:
                reason = self.refused[name]
                raise _QueryError(reason, _REFUSALS[reason].format(name=name))
            if name not in self._tables:
                raise _QueryError("notFound", f"Not found: Table {name} was not found in US")
            alias = node.alias or node.name
            node.replace(exp.to_table(self._tables[name]).as_(alias, quoted=True))
        for kind in list(tree.find_all(exp.DataType)):
            if kind.this in _EXACT and not kind.expressions:
                kind.replace(exp.DataType.build(_EXACT[kind.this], dialect="duckdb"))
        text = tree.sql(dialect="duckdb")
        with self._lock:
            try:
                result = self._db.sql(text).to_arrow_table()
            except duckdb.Error as exc:
                raise _QueryError("invalidQuery", str(exc).splitlines()[0]) from None
        schema = [_field(f) for f in result.schema]
        return schema, [list(r.values()) for r in result.to_pylist()]


class _QueryError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# BigQuery's NUMERIC is DECIMAL(38, 9); DuckDB's bare DECIMAL is (18, 3). BIGNUMERIC (76, 38)
# has no DuckDB equal: (38, 18) keeps what tests use.
_EXACT = {
    exp.DataType.Type.DECIMAL: "DECIMAL(38, 9)",
    exp.DataType.Type.BIGDECIMAL: "DECIMAL(38, 18)",
}
_STATUS = {"notFound": 404, "accessDenied": 403, "rateLimitExceeded": 403, "invalidQuery": 400}
_REFUSALS = {
    "accessDenied": (
        "Access Denied: Table {name}: User does not have permission to query table, or "
        "perhaps it does not exist."
    ),
    "rateLimitExceeded": "Exceeded rate limits: too many concurrent queries for {name}.",
}
_NAMES = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}


def _error(status: int, message: str, reason: str = "notFound") -> JSONResponse:
    detail = {"message": message, "domain": "global", "reason": reason}
    body = {"code": status, "message": message, "errors": [detail], "status": _NAMES[status]}
    return JSONResponse({"error": body}, status_code=status)


def _field(field: pa.Field) -> dict[str, Any]:
    kind = field.type
    mode = "NULLABLE"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        mode, kind = "REPEATED", kind.value_type
    out: dict[str, Any] = {"name": field.name, "type": _type(kind), "mode": mode}
    if pa.types.is_struct(kind):
        out["fields"] = [_field(kind.field(i)) for i in range(kind.num_fields)]
    return out


def _type(kind: pa.DataType) -> str:
    if pa.types.is_struct(kind):
        return "RECORD"
    if pa.types.is_decimal(kind):
        return "NUMERIC" if kind.scale <= 9 and kind.precision - kind.scale <= 29 else "BIGNUMERIC"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP" if kind.tz else "DATETIME"
    checks = (
        (pa.types.is_boolean, "BOOLEAN"),
        (pa.types.is_integer, "INTEGER"),
        (pa.types.is_floating, "FLOAT"),
        (pa.types.is_date, "DATE"),
        (pa.types.is_binary, "BYTES"),
    )
    for check, name in checks:
        if check(kind):
            return name
    return "STRING"


def _row(schema: list[dict[str, Any]], values: list[Any], micros: bool) -> dict[str, Any]:
    return {"f": [{"v": _value(f, v, micros)} for f, v in zip(schema, values, strict=True)]}


def _value(field: dict[str, Any], value: Any, micros: bool) -> Any:
    if value is None:
        return [] if field["mode"] == "REPEATED" else None
    if field["mode"] == "REPEATED":
        one = {**field, "mode": "NULLABLE"}
        return [{"v": _value(one, item, micros)} for item in value]
    if field["type"] == "RECORD":
        inner = field["fields"]
        return _row(inner, [value.get(f["name"]) for f in inner], micros)
    if field["type"] == "TIMESTAMP":
        delta = value - _EPOCH
        count = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return str(count) if micros else f"{Decimal(count) / 1_000_000}"
    if field["type"] == "DATETIME":
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
