"""The cost demo's ingestion half and the cost_ingest benchmark's data (no timings asserted)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyarrow.parquet as pq
from sqlalchemy import func, select

from deployments.bench.cost_ingest import PERIOD, generate_focus_parquet
from infra.sandbox.cost_demo import ACCOUNTS, SERVICES, cost_explorer_history, run_cost_demo
from tasks.cost.ingest import ingest_source
from tasks.cost.sources.focus_files import FocusFileSource
from tasks.store import CostLine, CostTagTotal, get_engine
from tests.cost.helpers import lake_rows


def test_the_simulated_history_pages_like_cost_explorer():
    pages = cost_explorer_history(date(2026, 11, 28), days=90, spike_day=date(2026, 11, 25))
    assert [p.get("NextPageToken") for p in pages] == ["page-2", "page-3", None, None, None]
    days = [d for p in pages[:3] for d in p["ResultsByTime"]]
    assert len(days) == 90 and len(days[0]["Groups"]) == len(SERVICES) * len(ACCOUNTS)
    assert [d["Estimated"] for d in days[-3:]] == [False, True, True]
    fees = [(d["TimePeriod"]["Start"], d["Groups"]) for d in pages[4]["ResultsByTime"]]
    assert [day for day, groups in fees if groups] == ["2026-09-01", "2026-10-01", "2026-11-01"]
    assert fees[2][1][0]["Keys"] == ["Support", "AWS Support (Business)"]


def test_the_demo_ingests_the_sample_and_a_history_with_a_visible_spike(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    printed: list[str] = []
    result = run_cost_demo(printed.append, engine, today=date(2026, 11, 28))

    spike = result["spike"]
    assert result["periods"] == {
        "aws-ce": (date(2026, 8, 30), date(2026, 11, 28)),
        "focus-sample": (date(2024, 9, 1), date(2024, 10, 1)),
    }
    assert spike["day"] == date(2026, 11, 25)
    assert result["reports"]["focus-sample"].rows == 1000
    fees = 3  # the support fee on 1 September, October and November
    assert result["reports"]["aws-ce"].rows == 90 * len(SERVICES) * len(ACCOUNTS) + fees
    assert any("SIMULATED" in line for line in printed)

    def ec2_ml(day: date) -> Decimal:
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return lake_rows(
            select(func.sum(CostLine.billed_cost))
            .where(CostLine.service_name == spike["service"])
            .where(CostLine.sub_account_id == spike["sub_account_id"])
            .where(CostLine.charge_period_start >= midnight)
            .where(CostLine.charge_period_start < midnight + timedelta(days=1))
        )[0][0]

    before = ec2_ml(spike["day"] - timedelta(days=7))
    assert ec2_ml(spike["day"]) - before > Decimal("800")
    with engine.connect() as conn:
        teams = conn.execute(select(func.count()).select_from(CostTagTotal)).scalar_one()
    assert teams == 90 * 4


def test_the_benchmark_data_is_deterministic_valid_focus(tmp_path):
    first = generate_focus_parquet(tmp_path / "a.parquet", 2_000)
    second = generate_focus_parquet(tmp_path / "b.parquet", 2_000)
    assert pq.read_table(first).equals(pq.read_table(second))
    engine = get_engine(f"sqlite:///{tmp_path / 'bench.db'}")
    report = ingest_source(engine, FocusFileSource("bench", str(first)), *PERIOD)
    assert report.rows == 2_000
    assert {s.billing_currency for s in report.scopes} == {"USD", "EUR"}
