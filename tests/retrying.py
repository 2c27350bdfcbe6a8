"""Retry a failed flow run through the API, as ``prefect flow-run retry ID --entrypoint`` does.

The run is set back to Scheduled on the server and executed again in this process with the
parameters the server stored: the same flow run (same id, run count + 1), so tasks whose results
are reused in a retry (tasks/results.py) return them instead of running again.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID


def retry_flow_run(flow: Any, flow_run_id: UUID) -> Any:
    """Retry the failed run ``flow_run_id`` of ``flow``; returns its final state."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.responses import SetStateStatus
    from prefect.flow_engine import run_flow
    from prefect.states import Scheduled

    with get_client(sync_client=True) as client:
        answer = client.set_flow_run_state(flow_run_id, Scheduled(message="retry"), force=True)
        assert answer.status == SetStateStatus.ACCEPT, answer.details
        flow_run = client.read_flow_run(flow_run_id)
    return run_flow(flow, flow_run=flow_run, parameters=flow_run.parameters, return_type="state")
