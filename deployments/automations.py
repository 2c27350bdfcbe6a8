"""The failure automation: a notification through a Prefect notification block on every failed run.

Created through Prefect's API (``prefect.automations``), so the server's automation services do
the watching; nothing home-made polls runs. Applying it again updates the one automation of that
name instead of adding another, so ``traceo failure-alerts --block ...`` can run on every deploy.

The notification names the flow, the run, the state message, the retry command and the run's
page, where the flow's own failure report (tasks/failure.py) lists the failed task runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from tasks.errors import ConfigurationError

__all__ = [
    "FAILURE_AUTOMATION",
    "FAILURE_BODY",
    "FAILURE_SUBJECT",
    "AppliedAutomation",
    "apply_failure_automation",
    "failure_automation",
]

FAILURE_AUTOMATION = "traceo-flow-run-failed"
FAILED_EVENTS = ("prefect.flow-run.Failed", "prefect.flow-run.Crashed")

# Jinja, rendered by the server with the flow run, its flow and deployment in context.
FAILURE_SUBJECT = "Traceo: {{ flow.name }} run {{ flow_run.name }} {{ flow_run.state.name }}"
FAILURE_BODY = """\
{{ flow.name }} run {{ flow_run.name }} ended {{ flow_run.state.name }} \
at {{ flow_run.state.timestamp }}.
{% if deployment %}Deployment: {{ deployment.name }}
{% endif %}State message: {{ flow_run.state.message }}
Run: {{ flow_run|ui_url }}
The run's failure report (its log and artifact) names the failed task runs.
Retry it: prefect flow-run retry {{ flow_run.id }}  (or Retry on the run's page); completed task \
runs are reused, only what failed runs again.
"""


@dataclass(frozen=True)
class AppliedAutomation:
    """The automation as the server holds it, and whether this call created it."""

    id: str
    name: str
    created: bool


def failure_automation(block_document_id: Any, name: str = FAILURE_AUTOMATION) -> Any:
    """The automation (not yet saved): any flow run Failed or Crashed -> one notification.

    Args:
        block_document_id: the saved notification block that delivers it.
        name: the automation's name, the key that makes applying it idempotent.
    """
    from prefect.automations import Automation, EventTrigger, Posture, SendNotification

    return Automation(
        name=name,
        description="Notify on-call when a Traceo flow run fails (deployments/automations.py).",
        enabled=True,
        trigger=EventTrigger(
            match={"prefect.resource.id": "prefect.flow-run.*"},
            expect=set(FAILED_EVENTS),
            posture=Posture.Reactive,
            threshold=1,
            within=timedelta(0),
        ),
        actions=[
            SendNotification(
                block_document_id=block_document_id,
                subject=FAILURE_SUBJECT,
                body=FAILURE_BODY,
            )
        ],
    )


def _block_document_id(block: str) -> Any:
    from prefect.blocks.core import Block

    try:
        loaded = cast(Any, Block.load(block))
    except ValueError as exc:
        raise ConfigurationError(
            f"notification block {block!r} is not saved on the Prefect server: {exc}"
        ) from None
    if not hasattr(loaded, "notify"):
        raise ConfigurationError(f"block {block!r} is not a notification block")
    return loaded._block_document_id


def apply_failure_automation(block: str, name: str = FAILURE_AUTOMATION) -> AppliedAutomation:
    """Create the failure automation, or update the one of that name to send through ``block``.

    Args:
        block: a notification block slug, e.g. ``slack-webhook/sre-alerts`` or
            ``custom-webhook/oncall`` (see tasks/notify.py).
        name: the automation's name.

    Raises:
        ConfigurationError: the block does not exist or cannot notify.
    """
    from prefect.automations import Automation

    wanted = failure_automation(_block_document_id(block), name)
    try:
        existing = cast(Automation, Automation.read(name=name))
    except ValueError:  # "Automation with name ... not found"
        created = wanted.create()
        return AppliedAutomation(str(created.id), name, created=True)
    wanted.id = existing.id
    wanted.update()
    return AppliedAutomation(str(existing.id), name, created=False)
