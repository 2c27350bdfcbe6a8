"""Starting deployments through the Prefect API: names, links, and an unreachable server."""

from __future__ import annotations

import pytest

from deployments.intake.starter import PrefectStarter, dsr_deployment, flow_run_url
from tasks.errors import ServiceUnavailableError


def test_deployment_name_is_configurable(monkeypatch):
    assert dsr_deployment() == "data-subject-request/fulfil-data-subject-request"
    monkeypatch.setenv("TRACEO_DSR_DEPLOYMENT", "data-subject-request/dsr-eu")
    assert dsr_deployment() == "data-subject-request/dsr-eu"


def test_flow_run_link_from_the_ui_url_or_the_api_url():
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: "http://prefect:4200/api"}):
        assert flow_run_url("abc") == "http://prefect:4200/runs/flow-run/abc"
    with temporary_settings({PREFECT_UI_URL: "https://prefect.example.org/"}):
        assert flow_run_url("abc") == "https://prefect.example.org/runs/flow-run/abc"


@pytest.mark.slow
def test_unreachable_prefect_api_is_a_transient_error():
    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    unreachable = {PREFECT_API_URL: "http://127.0.0.1:9/api", PREFECT_CLIENT_MAX_RETRIES: 0}
    with temporary_settings(unreachable), pytest.raises(ServiceUnavailableError, match="Connect"):
        PrefectStarter().start("data-subject-request/x", {"request_id": "r"}, "dsr-r")


def test_sweep_starts_old_pending_requests_and_leaves_fresh_ones(tmp_path):
    import threading
    from datetime import UTC, datetime, timedelta

    from deployments.intake.starter import sweep_pending
    from tasks.privacy.requests import create_request, parse_new_request, pending_starts
    from tasks.store import get_engine
    from tests.deployments.intake.conftest import FakeStarter

    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")

    def new(ticket: str):
        return parse_new_request(
            {
                "source": "cli",
                "ticket_id": ticket,
                "request_type": "access",
                "jurisdiction": "CCPA",
                "identities": {"customer_id": "C-1"},
            }
        )

    old = create_request(engine, new("OLD"), now=datetime.now(UTC) - timedelta(hours=1))
    fresh = create_request(engine, new("FRESH")).public_id
    starter, stop = FakeStarter(), threading.Event()
    stop.set()  # one sweep, then return
    sweep_pending(engine, starter, 60, stop)
    assert [call[1] for call in starter.calls] == [{"request_id": old.public_id}]
    assert pending_starts(engine) == [fresh]
