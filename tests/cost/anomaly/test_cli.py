"""``traceo cost anomalies`` and ``traceo cost feedback``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from click.testing import CliRunner

from deployments.cli import main
from tasks.cost.anomaly.store import AnomalyRecord, get_anomaly, save_anomalies
from tasks.store import get_engine

NOW = datetime(2026, 10, 13, 8, 0, tzinfo=UTC)
CAUSES = [
    {
        "service": "Amazon EC2",
        "region": "us-east-1",
        "sub_account": "111111111111",
        "usage": "BoxUsage:m5.xlarge",
        "impact": "1200.5",
        "share": 0.8,
    },
    {
        "service": "Amazon S3",
        "region": "us-east-1",
        "sub_account": "111111111111",
        "usage": None,
        "impact": "300.1",
        "share": 0.2,
    },
]


def record(
    monitor: str, key: str, day: date, impact: str, pct: float | None = 75.0
) -> AnomalyRecord:
    return AnomalyRecord(
        monitor=monitor,
        dimension="service",
        key=key,
        value=key,
        currency="USD",
        start_date=day,
        end_date=day,
        expected_total=Decimal("2000"),
        actual_total=Decimal("2000") + Decimal(impact),
        total_impact=Decimal(impact),
        max_impact=Decimal(impact),
        impact_pct=pct,
        score=8.25,
        root_causes=CAUSES,
    )


@pytest.fixture
def ids() -> list[int]:
    records = [
        record("services", "Amazon EC2", date(2026, 10, 12), "1500.6"),
        record("accounts", "111111111111", date(2026, 9, 1), "250", pct=None),
    ]
    created = save_anomalies(get_engine(), records, NOW).created
    return sorted(created)


def run(*args: str):
    return CliRunner().invoke(main, ["cost", *args])


def test_anomalies_are_listed_newest_first_with_root_causes(ids):
    result = run("anomalies")
    assert result.exit_code == 0, result.output
    first, second = result.output.strip().split("\n\n")
    assert first.splitlines()[0].startswith("#2  services / Amazon EC2  2026-10-12")
    assert "impact +1,500.60 USD (+75.0%)" in first and "score 8.2" in first
    assert (
        "80%     +1,200.50 USD  Amazon EC2 / us-east-1 / 111111111111 / BoxUsage:m5.xlarge" in first
    )
    assert "20%       +300.10 USD  Amazon S3 / us-east-1 / 111111111111 / -" in first
    assert second.startswith("#1  accounts / 111111111111  2026-09-01") and "(new spend)" in second


def test_anomalies_filter_by_monitor_and_since(ids):
    by_monitor = run("anomalies", "--monitor", "accounts")
    assert (
        "111111111111  2026-09-01" in by_monitor.output
        and "Amazon EC2  2026" not in by_monitor.output
    )
    since = run("anomalies", "--since", "2026-10-01")
    assert "services / Amazon EC2" in since.output and "accounts /" not in since.output
    assert run("anomalies", "--monitor", "nope").output.strip() == "No cost anomalies."
    assert run("anomalies", "--since", "yesterday").exit_code == 2


def test_feedback_is_recorded_and_shown(ids):
    result = run("feedback", str(ids[1]), "planned")
    assert result.exit_code == 0, result.output
    assert (
        result.output.strip()
        == f"#{ids[1]} services / Amazon EC2 from 2026-10-12: feedback planned"
    )
    assert get_anomaly(get_engine(), ids[1]).feedback == "planned"
    assert "[feedback planned]" in run("anomalies").output


def test_feedback_on_an_unknown_id_fails_clearly(ids):
    result = run("feedback", "999", "yes")
    assert result.exit_code == 2
    assert "error: no cost anomaly with id 999" in result.output


def test_feedback_value_must_be_yes_no_or_planned(ids):
    result = run("feedback", str(ids[0]), "maybe")
    assert result.exit_code == 2
    assert "'maybe' is not one of 'yes', 'no', 'planned'" in result.output
    assert get_anomaly(get_engine(), ids[0]).feedback is None
