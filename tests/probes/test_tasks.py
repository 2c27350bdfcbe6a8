from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from tasks.probes.tasks import record_results, run_check_batch
from tasks.store import CheckResult, get_engine, session_scope
from tests.probes.helpers import SLOT, http_check


def test_batch_task_runs_checks_and_record_task_upserts(target: str, tmp_path: Path) -> None:
    checks = [http_check(f"{target}/json", id=f"c-{i}") for i in range(5)]
    checks.append(http_check(f"{target}/status/500", id="broken"))
    results = run_check_batch.fn(checks, "ap-northeast-1", SLOT)
    assert [r.verdict for r in results] == ["pass"] * 5 + ["fail"]

    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert record_results.fn(results, flow_run_id="run-1", database_url=url) == 6
    assert record_results.fn(results, flow_run_id="run-2", database_url=url) == 6  # a rerun
    with session_scope(get_engine(url)) as session:
        assert session.scalar(select(func.count()).select_from(CheckResult)) == 6
        rows = session.scalars(select(CheckResult).order_by(CheckResult.check_id)).all()
    assert {r.flow_run_id for r in rows} == {"run-2"}
    assert rows[0].check_id == "broken" and rows[0].verdict == "fail"
