from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from flows.synthetic import synthetic_probes
from tasks.local_server import ThreadedApp, free_port
from tasks.store import CheckResult, get_engine, session_scope
from tests.services import chromium_available, require_chromium, services_required

pytestmark = pytest.mark.engine

# Minute 5: the seven 1-minute checks (5 HTTP, 1 TCP, 1 browser; deployments/checks) plus
# the 5-minute order journey; the other 5-minute check runs in minute 4 of its interval.
# Without Chromium (a newcomer's machine) the flow runs the other types, as the demo does; CI
# requires the browser.
SLOT = datetime(2026, 11, 28, 12, 5, tzinfo=UTC)
ALL_TYPES = ["browser", "http", "multistep", "tcp"]
TYPES, DUE_AT_SLOT = (ALL_TYPES, 8) if chromium_available() else (ALL_TYPES[1:], 7)


@pytest.fixture(autouse=True)
def _browser_in_ci() -> None:
    if services_required():
        require_chromium()


def _rows():
    with session_scope(get_engine()) as session:
        return session.scalars(select(CheckResult).order_by(CheckResult.check_id)).all()


def test_probe_flow_records_each_due_check_with_its_region(prefect_server, shop):
    counts = synthetic_probes(region="eu-west-1", scheduled_at=SLOT, check_types=TYPES)
    rows = _rows()
    # A loaded machine can make a check slow enough to be degraded; none may fail.
    assert counts["pass"] + counts["degraded"] == DUE_AT_SLOT
    assert len(rows) == DUE_AT_SLOT
    assert {r.region for r in rows} == {"eu-west-1"}
    assert {r.scheduled_at for r in rows} == {SLOT}
    assert all(r.flow_run_id for r in rows)
    assert "shop-order-journey" in {r.check_id for r in rows}


def test_rerunning_the_same_slot_replaces_results_instead_of_adding(prefect_server, shop):
    synthetic_probes(region="us-east-1", scheduled_at=SLOT, check_types=TYPES)
    shop.set_faults(error_rate=1.0)
    counts = synthetic_probes(region="us-east-1", scheduled_at=SLOT, check_types=TYPES)
    assert counts["fail"] == DUE_AT_SLOT - 1  # the TCP connect still succeeds
    with session_scope(get_engine()) as session:
        total = session.scalar(select(func.count()).select_from(CheckResult))
    assert total == DUE_AT_SLOT
    assert {r.verdict for r in _rows() if r.check_id != "shop-port"} == {"fail"}


def test_off_slot_run_skips_checks_that_are_not_due(prefect_server, shop):
    counts = synthetic_probes(
        region="ap-northeast-1", scheduled_at=SLOT.replace(minute=6), check_types=TYPES
    )
    assert sum(counts.values()) == DUE_AT_SLOT - 1  # the journey waits for minute 10


def test_a_run_whose_checks_all_error_ends_failed_with_a_keyed_failure_report(
    prefect_server, tmp_path, monkeypatch
):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from tasks.outcome import JobFailedError

    monkeypatch.delenv("TRACEO_TEST_UNSET_HOST", raising=False)
    checks = tmp_path / "checks.yaml"
    checks.write_text(
        "checks:\n"
        "  - {id: unfillable, service: shop-api, frequency: 1m,\n"
        "     request: {url: 'http://${TRACEO_TEST_UNSET_HOST}/health'}}\n"
    )
    state = synthetic_probes(
        region="eu-west-1", checks_path=str(checks), scheduled_at=SLOT, return_state=True
    )
    assert state.is_failed() and "every check errored (1 of 1)" in state.message
    assert state.result(raise_on_failure=False).summary["error"] == 1
    with pytest.raises(JobFailedError, match=r"^every check errored \(1 of 1\)"):
        state.result()  # what a direct call of the flow raises: the problem, not a TypeError
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
            )
        )
    report = next(a for a in artifacts if a.key == "failure-synthetic-probes")
    assert "every check errored" in report.data


class _CountingTarget(ThreadedApp):
    """An HTTP target that counts the checks it answers."""

    def __init__(self) -> None:
        from starlette.applications import Starlette
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route

        self.hits = 0

        def ping(request):  # type: ignore[no-untyped-def]
            self.hits += 1
            return PlainTextResponse("pong")

        super().__init__(Starlette(routes=[Route("/ping", ping)]), "counting-target")


def test_a_retry_after_the_store_was_down_records_without_probing_again(
    prefect_server, tmp_path, monkeypatch
):
    from tasks.probes.tasks import record_results
    from tasks.settings import get_settings
    from tests.retrying import retry_flow_run

    monkeypatch.setattr(record_results, "retries", 0)
    with _CountingTarget() as target:
        checks = tmp_path / "checks.yaml"
        checks.write_text(
            "checks:\n  - {id: ping, service: shop-api, frequency: 1m,\n"
            f"     request: {{url: '{target.url}/ping'}}}}\n"
        )
        down = f"postgresql+psycopg://traceo@127.0.0.1:{free_port()}/traceo"  # nothing listens
        monkeypatch.setenv("TRACEO_DATABASE_URL", down)
        get_settings.cache_clear()
        failed = synthetic_probes(
            region="eu-west-1", checks_path=str(checks), scheduled_at=SLOT, return_state=True
        )
        assert failed.is_failed() and target.hits == 1

        monkeypatch.delenv("TRACEO_DATABASE_URL")  # the store is back
        get_settings.cache_clear()
        retried = retry_flow_run(synthetic_probes, failed.state_details.flow_run_id)
    assert retried.is_completed(), retried.message
    assert target.hits == 1  # the completed batch was reused, not probed again
    assert [(r.check_id, r.verdict) for r in _rows()] == [("ping", "pass")]
