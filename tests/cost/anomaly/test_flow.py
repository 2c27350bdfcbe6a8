"""The cost-anomalies flow on a real (test) Prefect server: store, alert once, table artifact."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock

from flows.cost import detect_cost_anomalies
from infra.sandbox.webhook_sink import WebhookSink
from tasks.cost.anomaly.store import list_anomalies
from tasks.store import get_engine

from .helpers import EC2_US, THROUGH, insert_lines, scenario

pytestmark = pytest.mark.engine

MONITORS = """
monitors:
  - {name: total, dimension: total, immediate_impact: 1000, targets: [custom-webhook/finops]}
  - {name: services, dimension: service, targets: [custom-webhook/finops]}
"""


@pytest.fixture
def sink_block(prefect_server):
    with WebhookSink() as sink:
        CustomWebhookNotificationBlock(
            name="anomaly-flow-test",
            url=sink.url,
            json_data={"subject": "{{subject}}", "text": "{{body}}"},
            headers=None,
            cookies=None,
        ).save("anomaly-flow-test", overwrite=True)
        yield sink


def _table_artifact() -> list[dict]:
    import json

    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["cost-anomalies"])),
        )
    latest = max(artifacts, key=lambda a: a.created)
    data = latest.data
    return json.loads(data) if isinstance(data, str) else data


def test_flow_stores_alerts_once_and_publishes_root_causes(tmp_path: Path, sink_block):
    insert_lines(get_engine(), scenario(spikes={(EC2_US, 98): 2500.0}))
    monitors = tmp_path / "monitors.yaml"
    monitors.write_text(MONITORS, encoding="utf-8")
    run = {
        "monitors_path": str(monitors),
        "through": THROUGH,
        "notify_via": "custom-webhook/anomaly-flow-test",
    }
    summary = detect_cost_anomalies(**run)
    assert summary == {"anomalies": 2, "new": 2, "notices": 2, "undelivered": 0}
    subjects = sorted(m["subject"] for m in sink_block.received)
    assert subjects[0].startswith("[COST ANOMALY] total / total: +2,")
    assert subjects[1].startswith("[COST DIGEST] 1 new cost anomaly on ")
    rows = _table_artifact()
    assert {r["key"] for r in rows} == {"total", "Amazon Elastic Compute Cloud"}
    assert all("us-east-1 / 111111111111 / BoxUsage:m5.xlarge" in r["root_causes"] for r in rows)

    again = detect_cost_anomalies(**run)
    assert again == {"anomalies": 2, "new": 0, "notices": 0, "undelivered": 0}
    assert len(sink_block.received) == 2
    assert len(list_anomalies(get_engine())) == 2
