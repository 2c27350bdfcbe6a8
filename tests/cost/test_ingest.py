"""Idempotent ingestion on SQLite and PostgreSQL: replacement by scope, failures write nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tasks.cost.focus import CostDataError
from tasks.cost.ingest import ingest_source
from tasks.cost.sources.aws_cost_explorer import CostExplorerSource
from tasks.cost.sources.focus_files import FocusFileSource
from tasks.cost.sources.snapshot import CostExplorerSnapshot, StaticCostSource
from tasks.store import CostIngestion, CostLine, CostTagTotal
from tests.cost.helpers import (
    SAMPLE,
    ce_day,
    ce_group,
    ce_page,
    focus_row,
    lake_rows,
    sample_totals,
    write_csv,
)

SEPTEMBER = (date(2024, 9, 1), date(2024, 10, 1))


def _totals(engine, source: str | None = None) -> dict[str, tuple[int, Decimal]]:
    query = select(CostLine.provider_name, CostLine.billed_cost)
    if source:
        query = query.where(CostLine.source == source)
    totals: dict[str, tuple[int, Decimal]] = {}
    for provider, cost in lake_rows(query):
        rows, total = totals.get(provider, (0, Decimal(0)))
        totals[provider] = (rows + 1, total + cost)
    return totals


def _days(engine, source: str) -> Counter:
    starts = lake_rows(select(CostLine.charge_period_start).where(CostLine.source == source))
    return Counter(s.day for (s,) in starts)


def _count(engine, model) -> int:
    if model is CostLine:
        return lake_rows(select(func.count()).select_from(CostLine))[0][0]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_the_real_sample_is_stored_exactly_and_a_rerun_changes_nothing(store_engine):
    source = FocusFileSource("focus-sample", str(SAMPLE))
    first = ingest_source(store_engine, source, *SEPTEMBER)
    stored_once = _totals(store_engine)
    second = ingest_source(store_engine, source, *SEPTEMBER)

    expected = sample_totals()
    assert stored_once == expected
    assert _totals(store_engine) == expected
    assert _count(store_engine, CostLine) == 1000
    assert {t.provider_name: (t.rows, t.billed_total) for t in second.provider_totals()} == expected
    assert [s.checksum for s in first.scopes] == [s.checksum for s in second.scopes]
    assert [s.replaced_rows for s in second.scopes] == [s.rows for s in first.scopes]
    with store_engine.connect() as conn:
        runs = conn.execute(select(CostIngestion).order_by(CostIngestion.id)).all()
    assert len(runs) == 6  # two runs x three billing accounts
    assert {r.status for r in runs} == {"succeeded"}
    assert all(r.finished_at >= r.started_at for r in runs)
    aws = [r for r in runs if r.provider_name == "AWS"]
    assert [r.billed_total for r in aws] == [expected["AWS"][1]] * 2


def test_a_narrower_rerun_replaces_exactly_its_days(store_engine):
    month = StaticCostSource("s", [focus_row(day=d) for d in range(1, 11)])
    ingest_source(store_engine, month, *SEPTEMBER)
    fix = StaticCostSource("s", [focus_row(day=d, BilledCost="99") for d in (5, 6, 7)] * 2)
    report = ingest_source(store_engine, fix, date(2024, 9, 5), date(2024, 9, 8))

    days = _days(store_engine, "s")
    assert days == Counter({d: 1 for d in (1, 2, 3, 4, 8, 9, 10)} | {5: 2, 6: 2, 7: 2})
    assert report.scopes[0].replaced_rows == 3
    fixed = lake_rows(select(func.count()).where(CostLine.billed_cost == Decimal("99")))
    assert fixed == [(6,)]


def test_rows_outside_the_period_are_skipped_not_stored(store_engine):
    source = StaticCostSource("s", [focus_row(day=d) for d in (1, 15, 29)])
    report = ingest_source(store_engine, source, date(2024, 9, 10), date(2024, 9, 20))
    assert (report.rows, report.skipped_rows) == (1, 2)
    assert _days(store_engine, "s") == Counter({15: 1})


def test_an_account_the_source_no_longer_reports_is_emptied(store_engine):
    both = [focus_row(BillingAccountId="a"), focus_row(BillingAccountId="b")]
    ingest_source(store_engine, StaticCostSource("s", both), *SEPTEMBER)
    report = ingest_source(store_engine, StaticCostSource("s", both[:1]), *SEPTEMBER)
    assert {s.billing_account_id: (s.rows, s.replaced_rows) for s in report.scopes} == {
        "a": (1, 1),
        "b": (0, 1),
    }
    assert lake_rows(select(CostLine.billing_account_id)) == [("a",)]


def test_sources_own_their_rows(store_engine):
    rows = [focus_row(day=d) for d in (1, 2)]
    ingest_source(store_engine, StaticCostSource("one", rows), *SEPTEMBER)
    ingest_source(store_engine, StaticCostSource("two", rows), *SEPTEMBER)
    ingest_source(store_engine, StaticCostSource("one", rows[:1]), *SEPTEMBER)
    assert sum(_days(store_engine, "one").values()) == 1
    assert sum(_days(store_engine, "two").values()) == 2


def test_money_keeps_its_digits_on_every_backend(store_engine):
    # The lake keeps decimal128(38, 12) exactly, whatever the store's backend.
    amounts = ["0.00000080000", "123.45678901234", "-4.5", "99999.0000000001"]
    amounts.append("12345678901234.123456789012")
    rows = [focus_row(day=i + 1, BilledCost=a) for i, a in enumerate(amounts)]
    ingest_source(store_engine, StaticCostSource("m", rows), *SEPTEMBER)
    stored = lake_rows(select(CostLine.billed_cost).order_by(CostLine.charge_period_start))
    assert [Decimal(v) for (v,) in stored] == [Decimal(a) for a in amounts]


def test_a_bad_file_writes_nothing_and_the_failed_run_is_recorded(store_engine, tmp_path):
    write_csv(tmp_path / "a.csv", [focus_row(day=d) for d in (1, 2, 3)])
    source = FocusFileSource("files", str(tmp_path))
    ingest_source(store_engine, source, *SEPTEMBER)
    write_csv(tmp_path / "a.csv", [focus_row(day=d, BilledCost="5") for d in (1, 2, 3)])
    write_csv(tmp_path / "b.csv", [focus_row(day=4), focus_row(day=5, ChargePeriodStart="soon")])

    with pytest.raises(CostDataError) as caught:
        ingest_source(store_engine, source, *SEPTEMBER)

    assert str(caught.value) == (
        f"{tmp_path / 'b.csv'}: row 2: column ChargePeriodStart: unparseable date-time: 'soon'"
    )
    assert _totals(store_engine) == {"AWS": (3, Decimal("31.50"))}  # the first run, untouched
    with store_engine.connect() as conn:
        failed = conn.execute(select(CostIngestion).where(CostIngestion.status == "failed")).one()
    assert failed.rows == 0
    assert "b.csv: row 2: column ChargePeriodStart" in failed.error


def test_a_currency_mix_across_files_fails_before_anything_changes(store_engine, tmp_path):
    write_csv(tmp_path / "a.csv", [focus_row(day=1)])
    write_csv(tmp_path / "b.csv", [focus_row(day=2, BillingCurrency="EUR")])
    with pytest.raises(CostDataError) as caught:
        ingest_source(store_engine, FocusFileSource("f", str(tmp_path)), *SEPTEMBER)
    issue = caught.value.issues[0]
    assert (issue.file, issue.row, issue.column) == (str(tmp_path / "b.csv"), 1, "BillingCurrency")
    assert _count(store_engine, CostLine) == 0


def test_estimated_numbers_are_replaced_by_final_ones(store_engine):
    estimated = StaticCostSource("s", [focus_row(day=1, BilledCost="10")], estimated=True)
    first = ingest_source(store_engine, estimated, *SEPTEMBER)
    final = StaticCostSource("s", [focus_row(day=1, BilledCost="12")])
    second = ingest_source(store_engine, final, *SEPTEMBER)
    assert (first.scopes[0].estimated, second.scopes[0].estimated) == (True, False)
    assert lake_rows(select(CostLine.billed_cost, CostLine.estimated)) == [(Decimal("12"), False)]


def test_tag_totals_are_stored_apart_and_replaced(store_engine):
    pages = {
        "SERVICE,LINKED_ACCOUNT": [
            ce_page([ce_day("2024-09-01", [ce_group(["EC2", "111"], "3")])])
        ],
        "TAG:team": [
            ce_page(
                [ce_day("2024-09-01", [ce_group(["team$shop"], "2"), ce_group(["team$"], "1")])]
            )
        ],
    }
    source = CostExplorerSource("aws", CostExplorerSnapshot(pages), billing_account_id="999")
    for _ in range(2):
        report = ingest_source(store_engine, source, date(2024, 9, 1), date(2024, 9, 2))
    assert (report.scopes[0].rows, report.scopes[0].tag_rows) == (1, 2)
    with store_engine.connect() as conn:
        tags = conn.execute(
            select(CostTagTotal.tag_value, CostTagTotal.billed_cost).order_by(
                CostTagTotal.tag_value
            )
        ).all()
    assert tags == [("", Decimal("1")), ("shop", Decimal("2"))]
    assert _count(store_engine, CostLine) == 1


def test_an_empty_period_is_refused(store_engine):
    with pytest.raises(ValueError, match="empty period"):
        ingest_source(store_engine, StaticCostSource("s", []), date(2024, 9, 2), date(2024, 9, 1))
