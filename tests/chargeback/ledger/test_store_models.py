"""The chargeback tables on SQLite and PostgreSQL: migration 0004 matches the models."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, insert
from sqlalchemy.exc import IntegrityError

from tasks.store import Base, ChargebackRun, LedgerEntry

TABLES = ("chargeback_runs", "ledger_entries")


def _about_chargeback_tables(item) -> bool:
    """Whether an autogenerate diff item concerns one of our tables (others are not ours)."""
    if isinstance(item, list):
        return any(_about_chargeback_tables(i) for i in item)
    kind, target = item[0], item[1]
    if kind.endswith("_table"):
        return target.name in TABLES
    if kind.endswith(("_index", "_constraint")):
        return target.table.name in TABLES
    return item[2] in TABLES


def test_migration_0004_creates_exactly_the_modelled_chargeback_tables(store_engine):
    mine = MetaData()
    for name in TABLES:
        Base.metadata.tables[name].to_metadata(mine)
    with store_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, mine)
    assert [d for d in diff if _about_chargeback_tables(d)] == []


def test_an_entry_key_is_posted_once_and_amounts_keep_their_cents(store_engine):
    now = datetime(2024, 10, 1, tzinfo=UTC)
    with store_engine.begin() as conn:
        run_id = conn.execute(
            insert(ChargebackRun).returning(ChargebackRun.id),
            {
                "run_id": "r1",
                "period": "2024-09",
                "dry_run": False,
                "status": "posted",
                "metric": "BilledCost",
                "statement_totals": {},
                "entries_posted": 1,
                "started_at": now,
            },
        ).scalar_one()
    entry = {
        "entry_key": "k" * 64,
        "run_id": run_id,
        "period": "2024-09",
        "team": "sre",
        "category": "direct",
        "item": "EC2",
        "amount": Decimal("123456789012345.67"),
        "currency": "USD",
        "tier": "hard",
        "charged": True,
        "correction": False,
        "posted_at": now,
    }
    with store_engine.begin() as conn:
        conn.execute(insert(LedgerEntry), entry)
    with pytest.raises(IntegrityError), store_engine.begin() as conn:
        conn.execute(insert(LedgerEntry), entry)
    with store_engine.connect() as conn:
        amount = conn.execute(LedgerEntry.__table__.select()).one().amount
    assert amount == Decimal("123456789012345.67")
