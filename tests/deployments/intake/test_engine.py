"""One engine test: the fulfilment deployment started through a real Prefect API (slow)."""

from __future__ import annotations

import pytest
from prefect import flow

from deployments.intake.starter import PrefectStarter, dsr_deployment, start_fulfilment
from tasks.privacy.requests import create_request, load_request, parse_new_request
from tasks.store import get_engine


@flow(name="data-subject-request")
def stand_in_fulfilment(request_id: str) -> str:
    """Stands in for flows/privacy.py:fulfil_request (only its name and parameter matter)."""
    return request_id


@pytest.mark.slow
def test_request_starts_one_flow_run_whose_only_parameter_is_the_request_id(
    tmp_path, prefect_server
):
    from prefect.client.orchestration import get_client

    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    new = parse_new_request(
        {
            "source": "generic",
            "ticket_id": "T-1",
            "request_type": "erasure",
            "jurisdiction": "GDPR",
            "identities": {"email": "jane@example.com", "phone": "+4420 7946 0958"},
        }
    )
    request_id = create_request(engine, new).public_id
    stand_in_fulfilment.to_deployment(name="fulfil-data-subject-request").apply()
    starter = PrefectStarter()
    flow_run_id = start_fulfilment(engine, starter, request_id)
    assert flow_run_id is not None
    assert load_request(engine, request_id).flow_run_id == flow_run_id
    # Starting the same request again (a sweep racing the webhook) returns the same run.
    again = starter.start(dsr_deployment(), {"request_id": request_id}, f"dsr-{request_id}")
    assert again == flow_run_id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        runs = [r for r in client.read_flow_runs() if r.parameters == run.parameters]
    assert run.parameters == {"request_id": request_id}
    assert len(runs) == 1
    assert "jane" not in run.model_dump_json() and "7946" not in run.model_dump_json()
