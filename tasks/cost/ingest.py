"""Idempotent cost writes: a source's charge period is replaced exactly.

The natural key of cost is the *scope* ``(source, billing account, charge period range)``.
Cost lines go to the cost lake (:mod:`tasks.cost.lake`): :func:`write_chunks` streams every new
row into a new version of each partition it touches, carries over the rows of other sources and
other days, and switches each partition in one step. Billing accounts the source no longer
reports are emptied too. A rerun therefore never duplicates and never leaves a gap, and
provisional (``Estimated``) numbers are simply replaced by the next run's final ones. The
records (tag totals, ingestion runs) are written to the store in one transaction around it;
lines an older install kept in the store for the scope are deleted there (``traceo cost
migrate-to-lake`` moves the others). Concurrent runs of one source are serialised (an advisory
lock on PostgreSQL; SQLite has one writer at a time); runs of different sources replacing one
partition at once make the later fail with a conflict naming it.

Each scope gets a ``cost_ingestions`` row (rows, BilledCost total, checksum of the rows, estimated
flag, start/finish). Any error (a malformed later file, a currency mix, the store going away)
rolls the whole run back and records one ``failed`` row instead: nothing is half-written.
Memory stays bounded by a few chunks (a Parquet row group or CSV block each: the one written, the
next one read ahead, the lake writer's buffers), not by the file. Each chunk is handled whole, in
columns: one DuckDB scan gives every billing account's rows, money and fingerprint; one grouping
splits it by partition.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import cast

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, text
from sqlalchemy.exc import OperationalError

from tasks.cost.arrow_pool import use_jemalloc
from tasks.cost.bulk import write_rows
from tasks.cost.focus import TIMESTAMP, CostDataError
from tasks.cost.lake import AccountTotals, Lake, account_totals, months, to_lake
from tasks.cost.lake.layout import partition_keys
from tasks.cost.normalise import currency_conflicts
from tasks.cost.readahead import ReadAhead
from tasks.cost.sources.base import CostChunk, CostSource
from tasks.errors import ServiceUnavailableError, TraceoError
from tasks.store.cost_models import CostIngestion, CostLine, CostTagTotal

__all__ = ["IngestReport", "ProviderTotal", "ScopeSummary", "ingest_source", "write_chunks"]

log = logging.getLogger(__name__)
_ZERO = Decimal("0")
_TAGS = cast(Table, CostTagTotal.__table__)


@dataclass(frozen=True)
class ScopeSummary:
    """What one scope (a billing account of a source over the period) now holds."""

    ingestion_id: int
    billing_account_id: str
    provider_name: str | None
    billing_currency: str | None
    rows: int
    tag_rows: int
    billed_total: Decimal
    effective_total: Decimal
    estimated: bool
    checksum: str
    replaced_rows: int


@dataclass(frozen=True)
class ProviderTotal:
    """Rows and BilledCost per provider and currency (what the CLI and the artifact show)."""

    provider_name: str
    billing_currency: str
    rows: int
    billed_total: Decimal
    estimated: bool


@dataclass(frozen=True)
class IngestReport:
    """The outcome of one ingestion run of one source over ``[start, end)``."""

    run_id: str
    source: str
    start: date
    end: date
    origins: tuple[str, ...]
    scopes: tuple[ScopeSummary, ...]
    skipped_rows: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.scopes)

    def provider_totals(self) -> list[ProviderTotal]:
        totals: dict[tuple[str, str], ProviderTotal] = {}
        for s in self.scopes:
            if not s.rows:
                continue
            key = (s.provider_name or "?", s.billing_currency or "?")
            old = totals.get(key) or ProviderTotal(key[0], key[1], 0, _ZERO, False)
            totals[key] = ProviderTotal(
                key[0],
                key[1],
                old.rows + s.rows,
                old.billed_total + s.billed_total,
                old.estimated or s.estimated,
            )
        return [totals[k] for k in sorted(totals)]


def ingest_source(
    engine: Engine,
    source: CostSource,
    start: date,
    end: date,
    *,
    flow_run_id: str | None = None,
    lake: Lake | None = None,
) -> IngestReport:
    """Fetch ``source``'s cost for ``[start, end)`` and replace that period in the lake.

    ``lake`` defaults to the configured one (``TRACEO_COST_LAKE``).

    Raises:
        CostDataError: the input is malformed (nothing written; a ``failed`` run is recorded).
        TransientError: the provider or the store is unavailable or throttling (same).
    """
    if end <= start:
        raise ValueError(f"empty period: {start} .. {end} (the end is exclusive)")
    run_id = str(uuid.uuid4())
    started = datetime.now(UTC)
    use_jemalloc()  # mimalloc spent a third of the ingestion's CPU in the kernel (arrow_pool)
    try:
        # Fetch the first chunk (all of an API source's) before the transaction opens, so API
        # calls and their backoff do not hold it; files stream chunk by chunk inside it, the
        # next one read while the current one is written.
        fetched = iter(source.fetch(start, end))
        first = next(fetched, None)
        with ReadAhead(fetched) as ahead:
            report = write_chunks(
                engine,
                source.name,
                start,
                end,
                ahead if first is None else itertools.chain([first], ahead),
                run_id=run_id,
                started_at=started,
                flow_run_id=flow_run_id,
                lake=lake,
            )
    except Exception as exc:
        _record_failure(engine, source.name, (start, end), (run_id, started), exc, flow_run_id)
        raise
    log.info(
        "Ingested %s rows from %s for %s..%s (%s scope(s))",
        report.rows,
        source.name,
        start,
        end,
        len(report.scopes),
    )
    return report


def write_chunks(
    engine: Engine,
    source: str,
    start: date,
    end: date,
    chunks: Iterable[CostChunk],
    *,
    run_id: str | None = None,
    started_at: datetime | None = None,
    flow_run_id: str | None = None,
    lake: Lake | None = None,
) -> IngestReport:
    """Replace ``source``'s cost in ``[start, end)`` with ``chunks`` (lines in the lake)."""
    run = (run_id or str(uuid.uuid4()), started_at or datetime.now(UTC), flow_run_id)
    window = (_midnight(start), _midnight(end))
    lake = lake or Lake.from_settings()
    try:
        with engine.begin() as conn:
            _lock(conn, source)
            writer = _ScopeWriter(conn, lake, source, window, run)
            try:
                for chunk in chunks:
                    writer.add(chunk)
            except BaseException as exc:
                writer.abort(exc)
                raise
            summaries = writer.finish()
    except OperationalError as exc:
        raise ServiceUnavailableError(
            f"store unavailable while writing {source} ({type(exc.orig).__name__})"
        ) from None
    return IngestReport(
        run_id=run[0],
        source=source,
        start=start,
        end=end,
        origins=tuple(dict.fromkeys(writer.origins)),
        scopes=tuple(summaries),
        skipped_rows=writer.skipped,
        seconds=(datetime.now(UTC) - run[1]).total_seconds(),
        notes=tuple(writer.notes),
    )


class _Scope:
    """Running totals of one scope while its rows stream in."""

    def __init__(self) -> None:
        self.rows = 0
        self.billed = _ZERO
        self.effective = _ZERO
        self.estimated = False
        self.provider: str | None = None
        self.currency: str | None = None
        self.digest = hashlib.sha256()
        self.fingerprint = 0  # of the lines: order-independent, summed chunk by chunk
        self.tags: list[pa.Table] = []

    def add(self, totals: AccountTotals) -> None:
        self.rows += totals.rows
        self.fingerprint += totals.fingerprint
        self.billed += totals.billed
        self.effective += totals.effective
        self.estimated |= totals.estimated
        self.provider = self.provider or totals.provider_name
        self.currency = self.currency or totals.billing_currency


class _ScopeWriter:
    """Streams one run's lines into new lake partition versions, then switches them in.

    Tag totals get ids above the ones that existed when the run took its lock, so the old rows
    of a scope are deleted after the new ones are in (``id <= before``) without touching them.
    """

    def __init__(
        self,
        conn: Connection,
        lake: Lake,
        source: str,
        window: tuple[datetime, datetime],
        run: tuple[str, datetime, str | None],
    ) -> None:
        self.conn, self.source, self.window, self.run = conn, source, window, run
        self.before = {model: _max_id(conn, model) for model in (CostLine, CostTagTotal)}
        self.stored = _stored_accounts(conn, source, window)
        self.lake = lake
        self.parts = lake.writer()
        for key in lake.partitions(months(*window)):
            manifest = lake.manifest(key)
            if manifest is not None and source in manifest.sources:
                self.parts.touch(key)  # rewritten: the source's old lines there go
                self.stored.add(key.billing_account)
        self.scopes: dict[str, _Scope] = {}
        self.currencies: dict[str, tuple[str, str]] = {}
        self.origins: list[str] = []
        self.notes: list[str] = []
        self.skipped = 0

    def add(self, chunk: CostChunk) -> None:
        self.origins.append(chunk.origin)
        self.notes.extend(chunk.notes)
        issues = currency_conflicts(chunk.lines, chunk.origin, self.currencies, chunk.first_row)
        if issues:
            raise CostDataError(issues)
        lines = _in_window(chunk.lines, self.window)
        self.skipped += chunk.lines.num_rows - lines.num_rows
        for totals in account_totals(lines):
            self.scopes.setdefault(totals.billing_account_id, _Scope()).add(totals)
        for key, rows in partition_keys(to_lake(lines, self.source)):
            self.parts.write(key, rows)
        if chunk.tag_totals is not None:
            tags = _in_window(chunk.tag_totals, self.window)
            for account in sorted(set(pc.unique(tags["billing_account_id"]).to_pylist())):
                scope = self.scopes.setdefault(account, _Scope())
                scope.tags.append(_rows_of(tags, account))

    def abort(self, error: BaseException) -> None:
        self.parts.abort()

    def finish(self) -> list[ScopeSummary]:
        """Switch the lake partitions, replace tag totals and write the run records."""
        owned = (pc.field("x_Source") == self.source) & (
            pc.field("ChargePeriodStart") >= pa.scalar(self.window[0], TIMESTAMP)
        )
        owned &= pc.field("ChargePeriodStart") < pa.scalar(self.window[1], TIMESTAMP)
        replaced_in_lake: dict[str, int] = {}
        for key in self.parts.keys:
            old = self.lake.dataset([key]).count_rows(filter=owned)
            account = key.billing_account
            replaced_in_lake[account] = replaced_in_lake.get(account, 0) + old
        self.parts.commit(keep=~owned)
        for account in self.stored - set(self.scopes):
            self.scopes[account] = _Scope()  # no longer reported by the source: emptied
        run_id, started, flow_run_id = self.run
        finished = datetime.now(UTC)
        summaries = []
        for account, scope in sorted(self.scopes.items()):
            replaced = replaced_in_lake.get(account, 0) + self._delete_old(account)
            tags = pa.concat_tables(scope.tags) if scope.tags else None
            tag_rows = 0
            if tags is not None:
                constants = {"source": self.source}
                tag_rows = write_rows(self.conn, _TAGS, tags, constants, scope.digest)
                scope.estimated |= bool(tag_rows and pc.any(tags["estimated"]).as_py())
            scope.digest.update(f"{scope.rows}:{scope.fingerprint}".encode())
            checksum = scope.digest.hexdigest()
            ingestion_id = self.conn.execute(
                insert(CostIngestion)
                .values(
                    run_id=run_id,
                    source=self.source,
                    provider_name=scope.provider,
                    billing_account_id=account,
                    period_start=self.window[0],
                    period_end=self.window[1],
                    rows=scope.rows,
                    tag_rows=tag_rows,
                    billed_total=scope.billed,
                    effective_total=scope.effective,
                    billing_currency=scope.currency,
                    checksum=checksum,
                    estimated=scope.estimated,
                    status="succeeded",
                    started_at=started,
                    finished_at=finished,
                    flow_run_id=flow_run_id,
                    detail={"replaced_rows": replaced, "skipped_rows": self.skipped},
                )
                .returning(CostIngestion.id)
            ).scalar_one()
            summaries.append(
                ScopeSummary(
                    ingestion_id=ingestion_id,
                    billing_account_id=account,
                    provider_name=scope.provider,
                    billing_currency=scope.currency,
                    rows=scope.rows,
                    tag_rows=tag_rows,
                    billed_total=scope.billed,
                    effective_total=scope.effective,
                    estimated=scope.estimated,
                    checksum=checksum,
                    replaced_rows=replaced,
                )
            )
        return summaries

    def _delete_old(self, account: str) -> int:
        """Delete the scope's old tag totals, and lines an older install kept in the store."""
        replaced = 0
        for model in (CostLine, CostTagTotal):
            result = self.conn.execute(
                delete(model)
                .where(model.source == self.source, model.billing_account_id == account)
                .where(model.charge_period_start >= self.window[0])
                .where(model.charge_period_start < self.window[1])
                .where(model.id <= self.before[model])
            )
            replaced += result.rowcount if model is CostLine else 0
        return replaced


def _max_id(conn: Connection, model: type[CostLine] | type[CostTagTotal]) -> int:
    return int(conn.execute(select(func.coalesce(func.max(model.id), 0))).scalar_one())


def _in_window(table: pa.Table, window: tuple[datetime, datetime]) -> pa.Table:
    """Rows charged in the window (no copy when all are)."""
    starts = table["charge_period_start"]
    low, high = pa.scalar(window[0], starts.type), pa.scalar(window[1], starts.type)
    mask = pc.and_(pc.greater_equal(starts, low), pc.less(starts, high))
    return table if pc.all(mask).as_py() is not False else table.filter(mask)


def _rows_of(table: pa.Table, account: str) -> pa.Table:
    """``account``'s rows (no copy in the common case of one billing account per chunk)."""
    mask = pc.equal(table["billing_account_id"], account)
    return table if pc.all(mask).as_py() is not False else table.filter(mask)


def _lock(conn: Connection, source: str) -> None:
    """Serialise concurrent writers of one source (PostgreSQL; SQLite serialises all writers)."""
    if conn.dialect.name == "postgresql":
        key = f"traceo.cost_ingest:{source}"
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def _stored_accounts(conn: Connection, source: str, window: tuple[datetime, datetime]) -> set[str]:
    found: set[str] = set()
    for model in (CostLine, CostTagTotal):
        query = (
            select(model.billing_account_id)
            .where(model.source == source)
            .where(model.charge_period_start >= window[0], model.charge_period_start < window[1])
            .distinct()
        )
        found |= set(conn.execute(query).scalars())
    return found


def _record_failure(
    engine: Engine,
    source: str,
    period: tuple[date, date],
    run: tuple[str, datetime],
    exc: BaseException,
    flow_run_id: str | None,
) -> None:
    """Record a failed run (best effort: the store itself may be what failed)."""
    # Traceo errors are written to be safe to show; anything else is named by its type only.
    error = str(exc) if isinstance(exc, TraceoError) else type(exc).__name__
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(CostIngestion).values(
                    run_id=run[0],
                    source=source,
                    period_start=_midnight(period[0]),
                    period_end=_midnight(period[1]),
                    rows=0,
                    billed_total=_ZERO,
                    estimated=False,
                    status="failed",
                    error=error[:4000],
                    started_at=run[1],
                    finished_at=datetime.now(UTC),
                    flow_run_id=flow_run_id,
                    detail={"error_type": type(exc).__name__},
                )
            )
    except Exception:  # the original error matters more than the bookkeeping
        log.warning("Could not record the failed cost ingestion of %s", source)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
