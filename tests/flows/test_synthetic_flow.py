from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from flows.synthetic import synthetic_probes
from tasks.store import CheckResult, get_engine, session_scope

pytestmark = pytest.mark.engine

SLOT = datetime(2026, 11, 28, 12, 5, tzinfo=UTC)  # minute 5: the 5-minute journey is due too


def _rows():
    with session_scope(get_engine()) as session:
        return session.scalars(select(CheckResult).order_by(CheckResult.check_id)).all()


def test_probe_flow_records_each_due_check_with_its_region(prefect_server, shop):
    counts = synthetic_probes(region="eu-west-1", scheduled_at=SLOT)
    rows = _rows()
    assert counts == {"pass": 7, "degraded": 0, "fail": 0, "error": 0}
    assert len(rows) == 7
    assert {r.region for r in rows} == {"eu-west-1"}
    assert {r.scheduled_at for r in rows} == {SLOT}
    assert all(r.flow_run_id for r in rows)
    assert "shop-order-journey" in {r.check_id for r in rows}


def test_rerunning_the_same_slot_replaces_results_instead_of_adding(prefect_server, shop):
    synthetic_probes(region="us-east-1", scheduled_at=SLOT)
    shop.set_faults(error_rate=1.0)
    counts = synthetic_probes(region="us-east-1", scheduled_at=SLOT)
    assert counts["fail"] == 7
    with session_scope(get_engine()) as session:
        total = session.scalar(select(func.count()).select_from(CheckResult))
    assert total == 7
    assert {r.verdict for r in _rows()} == {"fail"}


def test_off_slot_run_skips_checks_that_are_not_due(prefect_server, shop):
    counts = synthetic_probes(region="ap-northeast-1", scheduled_at=SLOT.replace(minute=6))
    assert sum(counts.values()) == 5  # the two 5-minute order checks wait for minute 10
