"""deployments/automations.py: the failure automation's trigger, action and message template."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import jinja2

from deployments.automations import FAILURE_BODY, FAILURE_SUBJECT, failure_automation


def test_any_failed_or_crashed_flow_run_sends_one_notification_through_the_block() -> None:
    block_id = uuid4()
    automation = failure_automation(block_id)
    trigger = automation.trigger
    assert automation.name == "traceo-flow-run-failed" and automation.enabled
    assert trigger.expect == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
    assert trigger.match.root == {"prefect.resource.id": "prefect.flow-run.*"}
    assert (trigger.posture, trigger.threshold, trigger.within) == ("Reactive", 1, timedelta(0))
    (action,) = automation.actions
    assert action.type == "send-notification" and action.block_document_id == block_id


def test_the_notice_names_the_run_its_state_message_and_the_retry_command() -> None:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["ui_url"] = lambda run: f"http://prefect/runs/flow-run/{run['id']}"
    state = {"name": "Failed", "message": "ServiceUnavailableError: CE 503", "timestamp": "t"}
    context = {
        "flow": {"name": "cost-ingestion"},
        "flow_run": {"id": "abc-123", "name": "brave-otter", "state": state},
        "deployment": {"name": "cost-ingestion-aws"},
    }
    subject = env.from_string(FAILURE_SUBJECT).render(context)
    body = env.from_string(FAILURE_BODY).render(context)
    assert subject == "Traceo: cost-ingestion run brave-otter Failed"
    assert "State message: ServiceUnavailableError: CE 503" in body
    assert "Deployment: cost-ingestion-aws" in body
    assert "prefect flow-run retry abc-123" in body
    assert "http://prefect/runs/flow-run/abc-123" in body
    without = env.from_string(FAILURE_BODY).render({**context, "deployment": None})
    assert "Deployment:" not in without
