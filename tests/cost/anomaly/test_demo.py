"""The anomaly step of the demo, over the same kind of seeded cost the ingestion demo stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect.blocks.notifications import CustomWebhookNotificationBlock

from infra.sandbox.anomaly_demo import last_cost_day, run_anomaly_demo
from infra.sandbox.webhook_sink import WebhookSink
from tasks.notify import BlockNotifier
from tasks.store import get_engine

from .helpers import EC2_US, THROUGH, insert_lines, scenario

NOW = datetime(2026, 10, 14, 9, 0, tzinfo=UTC)


def test_the_demo_scores_prints_and_alerts():
    engine = get_engine()
    empty = run_anomaly_demo(lambda _: None, engine)  # an empty store is not an error
    assert empty == {"anomalies": [], "notices": 0, "spike_found": None, "alerted_normal": []}
    insert_lines(engine, scenario(spikes={(EC2_US, 98): 2500.0}))
    assert last_cost_day() == THROUGH
    lines: list[str] = []
    with WebhookSink() as sink:
        block = CustomWebhookNotificationBlock(
            name="demo", url=sink.url, json_data={"subject": "{{subject}}"}
        )
        notifier = BlockNotifier({"custom-webhook/demo": block})
        result = run_anomaly_demo(
            lines.append,
            engine,
            notify_via="custom-webhook/demo",
            now=NOW,
            notifier=notifier,
            spike={"day": THROUGH - timedelta(days=1), "service": EC2_US[0]},
        )
    output = "\n".join(lines)
    assert len(result["anomalies"]) >= 3 and result["notices"] >= 1
    assert result["spike_found"] is True
    assert f"Injected spike ({EC2_US[0]}, {THROUGH - timedelta(days=1)}): found as #" in output
    assert "total-spend / total" in output
    assert "Amazon Elastic Compute Cloud / us-east-1 / 111111111111 / BoxUsage:m5.xlarge" in output
    assert "immediate notice for 1 anomalies to custom-webhook/demo: delivered" in output
    assert any(m["subject"].startswith("[COST ANOMALY] total-spend") for m in sink.received)


def test_the_demo_alerts_the_spike_and_not_the_fee_the_month_end_or_the_holiday():
    from datetime import date

    from infra.sandbox.cost_demo import run_cost_demo
    from tasks.store import get_engine as engine_for

    engine = engine_for()
    lines: list[str] = []
    cost = run_cost_demo(lines.append, engine, today=date(2026, 12, 7))

    result = run_anomaly_demo(
        lines.append, engine, now=NOW, spike=cost["spike"], normal=cost["normal"]
    )

    output = "\n".join(lines)
    assert cost["normal"] == {
        "fee": date(2026, 12, 1),
        "month_end": date(2026, 11, 30),
        "holiday": date(2026, 11, 26),
    }
    assert result["spike_found"] is True
    assert result["alerted_normal"] == []
    assert "Normal billing, support fee on the 1st (2026-12-01): not alerted (expected)" in output
    assert "Normal billing, US holiday traffic peak (2026-11-26): not alerted" in output
    assert "why: expected " in output
