"""The store-retention flow as its deployment runs it: raw results, evidence and rollups go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from flows.store import enforce_store_retention
from tasks.probes.evidence import LocalEvidenceStore, evidence_key
from tasks.store import CheckResult, get_engine
from tasks.store.check_results import upsert_check_results
from tasks.store.raw_reads import read_raw
from tasks.store.rollup_reads import read_rollups

pytestmark = pytest.mark.engine

NOW = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)


def test_the_flow_removes_what_retention_lets_go_and_a_rerun_removes_nothing(
    prefect_server, traceo_home, monkeypatch
) -> None:
    monkeypatch.setenv("TRACEO_RAW_RETENTION_DAYS", "2")
    monkeypatch.setenv("TRACEO_MINUTE_ROLLUP_RETENTION_DAYS", "3")
    monkeypatch.setenv("TRACEO_ROLLUP_RETENTION_DAYS", "4")
    from tasks.settings import get_settings

    get_settings.cache_clear()
    slots = [NOW - timedelta(days=d, minutes=7) for d in range(6)]
    upsert_check_results(
        get_engine(),
        [
            {
                "check_id": "web-shop",
                "region": "eu-west-1",
                "scheduled_at": at,
                "started_at": at,
                "verdict": "fail",
                "duration_ms": 900.0,
            }
            for at in slots
        ],
    )
    evidence = LocalEvidenceStore(traceo_home / "evidence")
    for at in slots:
        evidence.put(evidence_key("web-shop", "eu-west-1", at, 1, "screenshot.png"), b"png", "x")

    report = enforce_store_retention(now=NOW)

    assert report["raw_removed"] == 4  # days 2..5 are past the 2-day retention
    assert report["evidence_removed"] == 4
    assert report["rollups_removed"] == {"60": 3, "3600": 2, "86400": 2}
    with get_engine().connect() as conn:
        # one still hot, one packed (older than the compaction age): read as one store
        assert len(read_raw(conn, None, None, None)) == 2
        assert conn.execute(select(func.count()).select_from(CheckResult)).scalar_one() == 1
        whole = [(0, 2**40)]
        held = read_rollups(conn, ["web-shop"], {60: whole, 3600: whole, 86400: whole})
        assert len(held) == 3 * 6 - 7  # hot rows and the minutes of packed hours
    assert len(list((traceo_home / "evidence").rglob("*.png"))) == 2

    again = enforce_store_retention(now=NOW + timedelta(minutes=1))
    assert (again["raw_removed"], again["evidence_removed"]) == (0, 0)
