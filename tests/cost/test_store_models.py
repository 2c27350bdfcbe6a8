"""The cost tables on SQLite and PostgreSQL: migration 0002 matches the models; constraints hold."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, insert
from sqlalchemy.exc import IntegrityError

from tasks.store import Base, CostAnomaly

COST_TABLES = ("cost_lines", "cost_ingestions", "cost_tag_totals", "cost_anomalies")


def test_migration_0002_creates_exactly_the_modelled_cost_tables(store_engine):
    mine = MetaData()
    for name in COST_TABLES:
        Base.metadata.tables[name].to_metadata(mine)
    with store_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, mine)
    assert [d for d in diff if _about_cost_tables(d)] == []


def _about_cost_tables(item) -> bool:
    """Whether an autogenerate diff item concerns one of the cost tables (others are not ours)."""
    if isinstance(item, list):  # modify_* items come grouped per column
        return any(_about_cost_tables(i) for i in item)
    kind, target = item[0], item[1]
    if kind.endswith("_table"):
        return target.name in COST_TABLES
    if kind.endswith(("_index", "_constraint")):
        return target.table.name in COST_TABLES
    return item[2] in COST_TABLES  # add/remove/modify column: (kind, schema, table, ...)


def _anomaly(**overrides):
    row = {
        "monitor": "services",
        "dimension": "service",
        "key": "Amazon EC2",
        "start_date": date(2024, 9, 10),
        "end_date": date(2024, 9, 11),
        "expected_total": Decimal("100.5"),
        "actual_total": Decimal("250.25"),
        "total_impact": Decimal("149.75"),
        "max_impact": Decimal("149.75"),
        "impact_pct": 149.0,
        "score": 6.2,
        "currency": "USD",
        "root_causes": [{"service": "Amazon EC2", "contribution": 1.0}],
        "detected_at": datetime(2024, 9, 11, 8, tzinfo=UTC),
    }
    row.update(overrides)
    return row


def test_one_anomaly_per_monitor_key_and_start_day(store_engine):
    with store_engine.begin() as conn:
        conn.execute(insert(CostAnomaly).values(**_anomaly()))
        conn.execute(insert(CostAnomaly).values(**_anomaly(key="Amazon S3")))
    with pytest.raises(IntegrityError), store_engine.begin() as conn:
        conn.execute(insert(CostAnomaly).values(**_anomaly(score=9.0)))
