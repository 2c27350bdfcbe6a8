"""Run every deployment of ``deployments/prefect.yaml`` once, now, and wait (``traceo run-once``).

For a newcomer's first deploy and after an upgrade: each deployment declared in the file gets one
flow run through the Prefect API (as a schedule, a trigger or the intake would start it), on its
own work pool's workers; the command waits for all of them and prints one line per run with its
final state, its page in the UI and, when it did not complete, why (those runs first).
Deployments whose required parameters only a caller can give (the data-subject request id) are
listed as skipped unless given with ``--param``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployments.serve import PREFECT_FILE, deployment_definitions
from tasks.errors import ConfigurationError, NotFoundError

__all__ = ["RunOutcome", "render_outcomes", "run_each_once"]


@dataclass(frozen=True)
class RunOutcome:
    """One deployment's run: its final state (or why it was not started)."""

    deployment: str
    state: str
    seconds: float | None = None
    flow_run_id: str | None = None
    url: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state in {"COMPLETED", "SKIPPED"}


def _missing_required(deployment: Any, given: Mapping[str, Any]) -> list[str]:
    schema = deployment.parameter_openapi_schema or {}
    required = set(schema.get("required") or [])
    return sorted(required - set(deployment.parameters or {}) - set(given))


def run_each_once(
    names: Iterable[str] = (),
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
    path: Path | str = PREFECT_FILE,
    timeout: float = 900.0,
) -> list[RunOutcome]:
    """Start one run of each (or each named) deployment, wait for all, return their outcomes.

    Args:
        names: deployment names from the file (default: all of them).
        parameters: extra parameters by deployment name (e.g. a request id).
        path: the ``prefect.yaml``.
        timeout: seconds to wait for all runs together; runs still going are reported as such.

    Raises:
        ConfigurationError: no ``PREFECT_API_URL``.
        NotFoundError: a declared deployment is not on the server (run ``prefect deploy`` first).
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from prefect.settings import get_current_settings
    from prefect.utilities.urls import url_for

    if not get_current_settings().api.url:
        raise ConfigurationError("run-once needs PREFECT_API_URL: the URL of a running server")
    declared = [d["name"] for d in deployment_definitions(path, names)]
    extra = {k: dict(v) for k, v in (parameters or {}).items()}
    outcomes: dict[str, RunOutcome] = {}
    started: dict[str, tuple[Any, float]] = {}
    with get_client(sync_client=True) as client:
        found = {
            d.name: d
            for d in client.read_deployments(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=declared))
            )
        }
        missing = [n for n in declared if n not in found]
        if missing:
            raise NotFoundError(
                f"not deployed on {get_current_settings().api.url}: {', '.join(missing)} "
                "(prefect --no-prompt deploy --all --prefect-file deployments/prefect.yaml)"
            )
        for name in declared:
            given = extra.get(name, {})
            lacking = _missing_required(found[name], given)
            if lacking:
                detail = f"needs --param {name}.{lacking[0]}=..."
                outcomes[name] = RunOutcome(name, "SKIPPED", detail=detail)
                continue
            run = client.create_flow_run_from_deployment(found[name].id, parameters=given)
            started[name] = (run.id, time.monotonic())
        deadline = time.monotonic() + timeout
        while started and time.monotonic() < deadline:
            for name, (run_id, began) in list(started.items()):
                state = client.read_flow_run(run_id).state
                if state is not None and state.is_final():
                    outcomes[name] = RunOutcome(
                        name,
                        state.type.value,
                        time.monotonic() - began,
                        str(run_id),
                        url_for("flow-run", obj_id=run_id),
                        (state.message or "") if not state.is_completed() else "",
                    )
                    del started[name]
            time.sleep(1.0)
        for name, (run_id, _began) in started.items():
            state = client.read_flow_run(run_id).state
            outcomes[name] = RunOutcome(
                name,
                state.type.value if state else "UNKNOWN",
                None,
                str(run_id),
                url_for("flow-run", obj_id=run_id),
                f"not finished after {timeout:g}s",
            )
    return [outcomes[n] for n in declared]


def render_outcomes(outcomes: Iterable[RunOutcome]) -> str:
    """A plain table, runs that did not complete first: deployment, state, time, link, reason.

    Every started run shows its link (the failed ones most of all: their page holds the failure
    report and the Retry button); the reason, when there is one, follows it.
    """
    outcomes = sorted(outcomes, key=lambda o: o.ok)  # stable: declared order within each group
    rows = [
        (
            o.deployment,
            o.state,
            f"{o.seconds:.1f}s" if o.seconds is not None else "-",
            o.url or o.flow_run_id or "-",
            o.detail,
        )
        for o in outcomes
    ]
    header = ("DEPLOYMENT", "STATE", "TIME", "RUN", "REASON")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = [
        ("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4]).rstrip()
        for r in [header, *rows]
    ]
    failed = sum(not o.ok for o in outcomes)
    return "\n".join([*lines, f"{len(rows)} deployment(s), {failed} not completed"])
