"""Posting to the chargeback ledger (SQLite and PostgreSQL): reconcile, rerun, correct."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tasks.chargeback.ledger import post_allocation
from tasks.store import ChargebackRun, LedgerEntry, session_scope
from tasks.store.chargeback_models import ImmutableLedgerError
from tests.chargeback.ledger.fakes import FakeReconciliationError, allocation


def _entries(engine) -> list[LedgerEntry]:
    with session_scope(engine) as session:
        return list(session.execute(select(LedgerEntry).order_by(LedgerEntry.id)).scalars())


def _runs(engine) -> list[ChargebackRun]:
    with session_scope(engine) as session:
        return list(session.execute(select(ChargebackRun).order_by(ChargebackRun.id)).scalars())


def test_first_post_records_every_tier_and_charges_only_hard_teams(store_engine):
    result = post_allocation(store_engine, allocation())

    entries = _entries(store_engine)
    assert result.status == "posted"
    assert len(entries) == len(result.postings) == 7
    assert {(e.team, e.tier, e.charged) for e in entries} == {
        ("shop", "hard", True),
        ("ml", "showback", False),
    }
    assert not any(e.correction for e in entries)
    assert sum((e.amount for e in entries), Decimal("0")) == Decimal("201.75")
    ec2 = next(e for e in entries if e.item == "Amazon EC2")
    assert (ec2.amount, ec2.quantity, ec2.unit) == (Decimal("100.00"), Decimal("720"), "Hours")
    [run] = _runs(store_engine)
    assert (run.status, run.entries_posted, run.unallocated_total) == ("posted", 7, Decimal("5"))
    assert run.statement_totals == {"shop": "154.00", "ml": "47.75"}
    assert run.source_total == Decimal("185.50")
    assert result.metric == run.metric == "EffectiveCost"


def test_a_run_charging_billed_cost_records_it_and_changes_the_checksum(store_engine):
    amortised = post_allocation(store_engine, allocation(), dry_run=True)
    billed = post_allocation(store_engine, allocation(metric="BilledCost"))

    assert billed.checksum != amortised.checksum
    assert [(r.status, r.metric) for r in _runs(store_engine)] == [("posted", "BilledCost")]


def test_posting_the_same_allocation_twice_posts_nothing_the_second_time(store_engine):
    first = post_allocation(store_engine, allocation())
    second = post_allocation(store_engine, allocation())

    assert second.status == "unchanged"
    assert second.postings == ()
    assert second.checksum == first.checksum
    assert len(_entries(store_engine)) == 7
    assert [r.status for r in _runs(store_engine)] == ["posted", "unchanged"]


def test_a_reconciliation_failure_fails_the_run_and_posts_nothing(store_engine):
    with pytest.raises(FakeReconciliationError):
        post_allocation(store_engine, allocation(source_total="999.00"))

    assert _entries(store_engine) == []
    [run] = _runs(store_engine)
    assert run.status == "failed"
    assert "FakeReconciliationError" in (run.error or "")


def test_a_restated_line_posts_only_corrections_and_leaves_old_entries_untouched(store_engine):
    post_allocation(store_engine, allocation("100.00"))
    before = [(e.id, e.entry_key, e.amount, e.correction) for e in _entries(store_engine)]

    result = post_allocation(store_engine, allocation("112.34"))

    assert result.status == "posted"
    assert [(p.team, p.item, p.amount, p.correction) for p in result.postings] == [
        ("shop", "Amazon EC2", Decimal("12.34"), True)
    ]
    after = _entries(store_engine)
    assert [(e.id, e.entry_key, e.amount, e.correction) for e in after[:7]] == before
    assert len(after) == 8 and after[-1].correction and after[-1].charged
    ec2 = [e.amount for e in after if e.item == "Amazon EC2"]
    assert sum(ec2, Decimal("0")) == Decimal("112.34")
    # and a rerun on the restated data is idempotent again
    assert post_allocation(store_engine, allocation("112.34")).postings == ()


def test_an_item_that_disappears_is_reversed_by_a_correction(store_engine):
    post_allocation(store_engine, allocation())
    smaller = allocation()
    shop = smaller.statements["shop"]
    shop.lines[:] = [line for line in shop.lines if line.item != "Amazon S3"]
    restated = type(smaller)(
        smaller.period,
        smaller.currency,
        smaller.source_total - Decimal("20.50"),
        smaller.statements,
        smaller.unallocated,
    )

    result = post_allocation(store_engine, restated)

    assert [(p.item, p.amount, p.correction) for p in result.postings] == [
        ("Amazon S3", Decimal("-20.50"), True)
    ]
    s3 = [e.amount for e in _entries(store_engine) if e.item == "Amazon S3"]
    assert sum(s3, Decimal("0")) == 0


def test_a_dry_run_computes_the_postings_and_writes_nothing(store_engine):
    result = post_allocation(store_engine, allocation(), dry_run=True)

    assert result.status == "dry_run"
    assert len(result.postings) == 7
    assert result.posted_total == Decimal("201.75")
    assert _entries(store_engine) == [] and _runs(store_engine) == []


def test_a_failed_reconciliation_in_a_dry_run_writes_nothing_either(store_engine):
    with pytest.raises(FakeReconciliationError):
        post_allocation(store_engine, allocation(source_total="1.00"), dry_run=True)
    assert _runs(store_engine) == []


def test_posted_entries_cannot_be_updated_or_deleted_through_the_orm(store_engine):
    post_allocation(store_engine, allocation())
    with pytest.raises(ImmutableLedgerError), session_scope(store_engine) as session:
        entry = session.execute(select(LedgerEntry).limit(1)).scalar_one()
        entry.amount = Decimal("0")
    with pytest.raises(ImmutableLedgerError), session_scope(store_engine) as session:
        session.delete(session.execute(select(LedgerEntry).limit(1)).scalar_one())
    with session_scope(store_engine) as session:
        total = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    assert total == 7


def test_periods_are_posted_independently(store_engine):
    post_allocation(store_engine, allocation(period="2024-09"))
    result = post_allocation(store_engine, allocation(period="2024-10"))
    assert result.status == "posted" and not any(p.correction for p in result.postings)
    assert len(_entries(store_engine)) == 14
