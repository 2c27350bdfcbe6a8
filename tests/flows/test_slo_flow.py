from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from sqlalchemy import select

from flows.slo import evaluate_slos
from infra.sandbox.webhook_sink import WebhookSink
from tasks.store import AlertEvent, SloEvaluation, get_engine, session_scope
from tasks.store.check_results import upsert_check_results

pytestmark = pytest.mark.engine

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
REGIONS = ("us-east-1", "eu-west-1", "ap-northeast-1")


def _seed(minutes: int, failing_last: int) -> None:
    """Per-minute results of the availability SLO's checks; the last minutes fail everywhere."""
    rows = []
    for m in range(1, minutes + 1):
        at = NOW - timedelta(minutes=m)
        for check in ("shop-health", "shop-products-list"):
            for region in REGIONS:
                rows.append(
                    {
                        "check_id": check,
                        "region": region,
                        "scheduled_at": at,
                        "started_at": at,
                        "verdict": "fail" if m <= failing_last else "pass",
                        "duration_ms": 120.0,
                        "attempts": 1,
                        "detail": {},
                    }
                )
    upsert_check_results(get_engine(), rows)


@pytest.fixture
def sink_block():
    with WebhookSink() as sink:
        CustomWebhookNotificationBlock(
            name="flow-test",
            url=sink.url,
            json_data={"subject": "{{subject}}"},
            headers=None,
            cookies=None,
        ).save("flow-test", overwrite=True)
        yield sink


def test_slo_flow_pages_once_and_a_rerun_sends_nothing_twice(prefect_server, sink_block):
    _seed(minutes=6 * 60, failing_last=10)
    summary = evaluate_slos(evaluated_at=NOW, notify_via="custom-webhook/flow-test")
    assert "shop-api-availability page:1h/5m" in summary["firing"]
    subjects = [m["subject"] for m in sink_block.received]
    assert "[PAGE] [FIRING] shop-api-availability: page:1h/5m" in subjects

    sent = len(sink_block.received)
    evaluate_slos(evaluated_at=NOW, notify_via="custom-webhook/flow-test")
    assert len(sink_block.received) == sent
    with session_scope(get_engine()) as session:
        evaluations = session.scalars(select(SloEvaluation.slo_id)).all()
        fired = session.scalars(select(AlertEvent).where(AlertEvent.kind == "fire")).all()
    assert sorted(evaluations) == sorted(set(evaluations))  # replaced, not duplicated
    assert all(e.delivered for e in fired)
