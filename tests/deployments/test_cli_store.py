"""``traceo store status`` and ``traceo slo rebuild`` on the default (SQLite) store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import delete

from deployments.cli import main
from tasks.store import CheckRollup, get_engine
from tasks.store.check_results import upsert_check_results
from tasks.store.compaction import compact_check_results

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def write_results() -> None:
    upsert_check_results(
        get_engine(),
        [
            {
                "check_id": "api-health",
                "region": "eu-west-1",
                "scheduled_at": T0 + timedelta(minutes=m),
                "started_at": T0 + timedelta(minutes=m),
                "verdict": "pass",
                "duration_ms": 80.0,
            }
            for m in range(0, 180, 5)
        ],
    )


def status_rows() -> dict[str, list[str]]:
    result = CliRunner().invoke(main, ["store", "status"])
    assert result.exit_code == 0, result.output
    rows = {}
    for line in result.output.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 6:
            rows[cells[0]] = cells[1:]
    return rows


def test_status_prints_rows_and_retention_of_each_kind(monkeypatch) -> None:
    monkeypatch.setenv("TRACEO_RAW_RETENTION_DAYS", "7")
    write_results()

    rows = status_rows()

    assert rows["check_results"][0] == "36" and rows["check_results"][4] == "7 days"
    assert rows["rollups 1m"][0] == "36" and rows["rollups 1m"][4] == "35 days"
    assert rows["rollups 1h"][0] == "3" and rows["rollups 1h"][4] == "400 days"
    assert rows["rollups 1d"][1] == "2026-11-01 00:00"
    assert rows["check_results packed"][0] == "0"


def test_status_shows_packed_results_apart_from_hot_rows() -> None:
    write_results()
    compact_check_results(get_engine(), T0 + timedelta(hours=8), after_hours=6)

    rows = status_rows()

    assert rows["check_results"][0] == "12"  # 02:00 to 03:00 is still hot
    assert rows["check_results packed"][:3] == ["24", "2026-11-01 00:00", "2026-11-01 02:00"]


def test_rebuild_restores_rollups_and_refuses_an_empty_period() -> None:
    write_results()
    with get_engine().begin() as conn:
        conn.execute(delete(CheckRollup))
    runner = CliRunner()

    result = runner.invoke(main, ["slo", "rebuild", "--from", "2026-11-01", "--to", "2026-11-02"])

    assert result.exit_code == 0, result.output
    assert "rebuilt 36 minutes of rollups" in result.output
    assert status_rows()["rollups 1h"][0] == "3"
    bad = runner.invoke(main, ["slo", "rebuild", "--from", "2026-11-02", "--to", "2026-11-01"])
    assert bad.exit_code == 2 and "must be after --from" in bad.output
