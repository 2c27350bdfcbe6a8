"""`traceo cost migrate-to-lake`: the store's lines move into the lake, nothing lost, idempotent."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from click.testing import CliRunner
from sqlalchemy import func, insert, select

from deployments.cli import main
from tasks.cost.ingest import ingest_source
from tasks.cost.lake.migrate import migrate_store_lines
from tasks.cost.sources.snapshot import StaticCostSource
from tasks.store import CostLine
from tests.cost.anomaly.helpers import EC2_US, S3_US, cost_line
from tests.cost.helpers import focus_row, lake_rows

DAY = date(2024, 8, 30)


def _store_lines(engine, rows) -> None:
    keys = {k for r in rows for k in r}
    with engine.begin() as conn:
        conn.execute(insert(CostLine), [{k: r.get(k) for k in keys} for r in rows])


def _old_install(engine) -> list[dict]:
    rows = [
        cost_line(DAY + timedelta(days=i), 10.123456 + i, labels, tags={"team": "web"})
        for i in range(5)
        for labels in (EC2_US, S3_US)
    ]
    rows.append(cost_line(DAY, 3, EC2_US, source="other", account="acct-2", provider="GCP"))
    _store_lines(engine, rows)
    return rows


def _lake_lines() -> list[tuple]:
    return lake_rows(
        select(
            CostLine.source,
            CostLine.billing_account_id,
            CostLine.charge_period_start,
            CostLine.service_name,
            CostLine.billed_cost,
            CostLine.tags,
        ).order_by(CostLine.source, CostLine.charge_period_start, CostLine.service_name)
    )


def _store_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(CostLine)).scalar_one()


def test_every_line_moves_exactly_and_a_rerun_moves_nothing(store_engine):
    rows = _old_install(store_engine)
    moved = migrate_store_lines(store_engine)

    assert {(m.source, m.billing_period): m.rows for m in moved} == {
        ("other", "2024-08"): 1,
        ("test", "2024-08"): 4,
        ("test", "2024-09"): 6,
    }
    lines = _lake_lines()
    expected = sorted(
        (r["source"], r["billing_account_id"], r["charge_period_start"], r["service_name"])
        for r in rows
    )
    assert [line[:4] for line in lines] == expected
    assert sum(line.billed_cost for line in lines) == sum(r["billed_cost"] for r in rows)
    assert json.loads(lines[1].tags) == {"team": "web"}
    assert _store_count(store_engine) == 0
    assert migrate_store_lines(store_engine) == []
    assert _lake_lines() == lines


def test_a_move_interrupted_after_the_switch_is_not_added_twice(store_engine):
    rows = _old_install(store_engine)
    migrate_store_lines(store_engine)
    _store_lines(store_engine, rows)  # as if the store's delete had not happened
    migrate_store_lines(store_engine)
    assert len(_lake_lines()) == len(rows)


def test_lines_ingested_into_the_lake_since_the_upgrade_stay(store_engine):
    _old_install(store_engine)
    fresh = StaticCostSource(
        "test", [focus_row(day=d, BillingAccountId="999999999999") for d in (1, 2)]
    )
    ingest_source(store_engine, fresh, date(2024, 9, 1), date(2024, 9, 2))  # replaces Sept 1

    migrate_store_lines(store_engine)
    september_first = [line for line in _lake_lines() if line.charge_period_start.day == 1]
    assert [line.billed_cost for line in september_first] == [Decimal("10.50")]


def test_the_command_prints_what_moved(store_url, monkeypatch):
    from tasks.settings import get_settings
    from tasks.store import get_engine

    monkeypatch.setenv("TRACEO_DATABASE_URL", store_url)
    get_settings.cache_clear()
    _old_install(get_engine())
    result = CliRunner().invoke(main, ["cost", "migrate-to-lake"])
    assert result.exit_code == 0, result.output
    assert "test 2024-09: 6 line(s) moved" in result.output
    assert "11 cost line(s) moved into the lake" in result.output
