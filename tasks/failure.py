"""What an on-call engineer reads when a flow run fails: what failed, and how to retry it.

:func:`report_failure` is an ``on_failure`` hook for every Traceo flow. It asks the Prefect API
which task runs of the flow run failed, then writes one message naming them, the error, and the
retry (``prefect flow-run retry <id>`` or the UI's Retry button) to the run's log (error level)
and as a markdown artifact on the run, keyed ``failure-<flow>`` so the Artifacts page lists the
latest failure of each flow (and its history). The failure automation
(deployments/automations.py) links to the run, where this message is the first thing shown.

Messages are redacted (tasks.redaction) and cut short; they carry names and ids, never data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tasks.console_logs import log_failed_run
from tasks.redaction import redact

__all__ = [
    "FailedTask",
    "FailureReport",
    "failure_artifact_key",
    "failure_message",
    "report_failure",
]

_MAX_ERROR = 300  # characters of an error message kept in the report
_MAX_TASKS = 10  # failed task runs listed by name


@dataclass(frozen=True)
class FailedTask:
    """One task run that ended Failed or Crashed, with the first line of its state message."""

    name: str
    error: str


@dataclass(frozen=True)
class FailureReport:
    """Everything the failure message says; built from the API by :func:`report_failure`."""

    flow_name: str
    flow_run_id: str
    flow_run_name: str
    error: str
    failed_tasks: Sequence[FailedTask] = field(default_factory=tuple)
    deployment: str | None = None
    entrypoint: str | None = None
    ui_url: str | None = None
    results_persisted: bool = True


def failure_artifact_key(flow_name: str) -> str:
    """``failure-<flow>`` in the characters Prefect allows in a key (lowercase, digits, dashes)."""
    slug = re.sub(r"[^a-z0-9]+", "-", flow_name.lower()).strip("-")
    return f"failure-{slug or 'flow'}"


def _first_line(text: str | None) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else "no message"
    line = redact(line)
    return line if len(line) <= _MAX_ERROR else line[: _MAX_ERROR - 1] + "…"


def failure_message(report: FailureReport) -> str:
    """The markdown message: what failed, then how to retry and what a retry does."""
    lines = [
        f"**{report.flow_name}** run `{report.flow_run_name}` failed: {_first_line(report.error)}",
        "",
    ]
    if report.failed_tasks:
        lines.append("Failed task runs:")
        shown = list(report.failed_tasks)[:_MAX_TASKS]
        lines += [f"- `{t.name}`: {_first_line(t.error)}" for t in shown]
        if len(report.failed_tasks) > len(shown):
            lines.append(f"- and {len(report.failed_tasks) - len(shown)} more")
    else:
        lines.append(
            "No task run failed: the flow itself failed (its parameters, its set-up, or what "
            "its job found: the message above says which)."
        )
    lines += ["", "To retry this run (same parameters, same scheduled time):"]
    if report.deployment:
        lines.append(f"- `prefect flow-run retry {report.flow_run_id}`")
    else:
        entry = report.entrypoint or "flows/<module>.py:<flow>"
        lines.append(f"- `prefect flow-run retry {report.flow_run_id} --entrypoint {entry}`")
    if report.ui_url:
        lines.append(f"- or the Retry button on {report.ui_url}")
    if report.results_persisted:
        lines.append(
            "Task runs that completed are reused from stored results; only the failed ones "
            "and what follows them run again."
        )
    else:
        lines.append("This flow does not persist results: a retry runs every task again.")
    return "\n".join(lines)


def _failed_tasks(client: Any, flow_run_id: Any) -> list[FailedTask]:
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    runs = client.read_task_runs(
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
        task_run_filter=TaskRunFilter(
            state=TaskRunFilterState(
                type=TaskRunFilterStateType(any_=[StateType.FAILED, StateType.CRASHED])
            )
        ),
        limit=50,
    )
    return [FailedTask(r.name, r.state.message if r.state else "") for r in runs]


def _entrypoint(flow: Any) -> str | None:
    """``path/to/file.py:function`` of the flow, relative to the working directory."""
    import inspect
    import os

    try:
        source = inspect.getsourcefile(flow.fn)
    except TypeError:
        return None
    return f"{os.path.relpath(source)}:{flow.fn.__name__}" if source else None


def report_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """``on_failure`` hook: log the failure report, attach it as an artifact, print one line.

    The report goes to the run's logs; the process's console gets one line with the run's link
    (:func:`tasks.console_logs.log_failed_run`).

    Never raises: a broken report must not hide the failure it reports (problems are logged).
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import ArtifactCreate
    from prefect.logging.loggers import flow_run_logger
    from prefect.utilities.urls import url_for

    logger = flow_run_logger(flow_run, flow)
    try:
        with get_client(sync_client=True) as client:
            tasks = _failed_tasks(client, flow_run.id)
            report = FailureReport(
                flow_name=flow.name,
                flow_run_id=str(flow_run.id),
                flow_run_name=flow_run.name,
                error=state.message or state.name,
                failed_tasks=tasks,
                deployment=str(flow_run.deployment_id) if flow_run.deployment_id else None,
                entrypoint=_entrypoint(flow),
                ui_url=url_for("flow-run", obj_id=flow_run.id),
                results_persisted=bool(flow.persist_result),
            )
            message = failure_message(report)
            logger.error("%s", message)
            client.create_artifact(
                ArtifactCreate(
                    type="markdown",
                    key=failure_artifact_key(flow.name),
                    data=message,
                    description="Why this run failed and how to retry it",
                    flow_run_id=flow_run.id,
                )
            )
    except Exception as exc:  # a raising hook would hide the failure
        logger.warning("could not build the failure report: %s", type(exc).__name__)
    url = url_for("flow-run", obj_id=flow_run.id) or f"flow run {flow_run.id}"
    log_failed_run(flow.name, flow_run.name, state.name, redact(state.message or state.name), url)
