from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
from sqlalchemy import create_engine

from tasks.chargeback import CostColumns, allocate, lines_from_store, period_bounds
from tasks.chargeback.source import SCHEMA
from tasks.store.cost_models import CostLine
from tasks.store.models import Base
from tests.chargeback.helpers import config_from, row

TEAMS = """
teams: [{name: data}]
rules: [{team: data, tags: {business_unit: "*Data"}}]
"""


def _line(cost: str, day: int, month: int = 9, tags: dict | None = None) -> CostLine:
    start = datetime(2024, month, day, tzinfo=UTC)
    return CostLine(
        source="test",
        billed_cost=Decimal(cost),
        effective_cost=Decimal(cost) / 2,
        billing_account_id="1",
        billing_currency="USD",
        charge_category="Usage",
        charge_period_start=start,
        charge_period_end=start,
        provider_name="AWS",
        service_name="EC2",
        tags=tags,
    )


def test_lines_from_store_reads_the_period_columns_and_allocates(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    Base.metadata.create_all(engine, tables=[Base.metadata.tables["cost_lines"]])
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        session.add_all(
            [
                _line("1.25", 1, tags={"business_unit": "PeoriaData"}),
                _line("0.005", 30),
                _line("9.00", 1, month=10, tags={"business_unit": "PeoriaData"}),
            ]
        )
    columns = lines_from_store(
        engine, datetime(2024, 9, 1, tzinfo=UTC), datetime(2024, 10, 1, tzinfo=UTC)
    )
    assert isinstance(columns, CostColumns) and len(columns) == 2
    assert columns.table.column("billed_cost").to_pylist() == [Decimal("1.25"), Decimal("0.005")]
    billed = config_from(tmp_path, "cost_metric: billed\n" + TEAMS)  # as invoiced, on request
    allocation = allocate(columns, billed, [], "2024-09")
    assert allocation.metric == "BilledCost"
    assert allocation.statements["data"].total == Decimal("1.25")
    assert allocation.source_total == Decimal("1.255")
    assert allocation.cloud_total() == Decimal("1.26")  # half-even of 125.5 cents
    engine.dispose()


def test_an_empty_period_allocates_to_zero(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    Base.metadata.create_all(engine, tables=[Base.metadata.tables["cost_lines"]])
    columns = lines_from_store(
        engine, datetime(2024, 9, 1, tzinfo=UTC), datetime(2024, 10, 1, tzinfo=UTC)
    )
    allocation = allocate(columns, config_from(tmp_path, TEAMS), [], "2024-09")
    assert (allocation.source_total, allocation.statements["data"].total) == (0, 0)
    engine.dispose()


def test_lines_from_store_on_each_backend(store_engine, tmp_path: Path) -> None:
    """Lines written through the bulk path (COPY on PostgreSQL) come back exact, in the period."""
    from deployments.bench.chargeback_allocation import load_lines

    columns = CostColumns.from_rows(
        [
            row("0.625", "EC2", tags={"business_unit": "PeoriaData"}, billed="1.25"),
            row("0.000000000001", "S3", start="2024-09-30T23:00:00"),
            row("-0.5", "EC2", ChargeCategory="Credit", SubAccountId="acct-7"),
            row("9.00", "EC2", tags={"business_unit": "PeoriaData"}, start="2024-10-01T00:00:00"),
        ]
    )
    with store_engine.begin() as conn:
        assert load_lines(conn, columns) == 4
    start, end = period_bounds("2024-09")
    got = lines_from_store(store_engine, start, end)
    assert got.table.schema == SCHEMA and len(got) == 3
    table = got.table.sort_by("billed_cost")
    assert table.column("billed_cost").to_pylist() == [
        Decimal("-0.5"),
        Decimal("0.000000000001"),
        Decimal("1.25"),
    ]
    assert pc.sum(got.table.column("billed_cost")).as_py() == Decimal("0.750000000001")
    assert pc.sum(got.table.column("effective_cost")).as_py() == Decimal("0.125000000001")
    assert table.column("charge_category").to_pylist() == ["Credit", "Usage", "Usage"]
    assert table.column("sub_account_id").to_pylist() == ["acct-7", None, None]
    assert table.column("charge_period_start").to_pylist()[1] == datetime(
        2024, 9, 30, 23, tzinfo=UTC
    )
    tags = table.column("tags").to_pylist()
    assert tags[:2] == [None, None] and json.loads(tags[2]) == {"business_unit": "PeoriaData"}
    allocation = allocate(got, config_from(tmp_path, TEAMS), [], "2024-09")
    assert allocation.statements["data"].total == Decimal("0.63")  # EffectiveCost, half-even
    assert allocation.source_total == Decimal("0.125000000001")
