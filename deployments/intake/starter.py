"""Starting deployments through the Prefect API, and what happens when it is down.

Intake answers before the fulfilment run exists: the run is created in the background with the
request id as its only parameter and ``idempotency_key=dsr-<request id>``, so a second start of the
same request (a retry, a sweep racing the webhook) returns the same flow run instead of a new one.
If the Prefect API is down the request stays ``received`` with no ``flow_run_id``;
:func:`start_pending` (``traceo intake start-pending``; ``traceo intake serve`` runs it every
minute through :func:`sweep_pending`) starts every such request later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy import Engine

from tasks.errors import NotFoundError, ServiceUnavailableError, TraceoError
from tasks.privacy.requests import (
    REPLAY_WINDOW,
    pending_starts,
    prune_deliveries,
    record_flow_runs,
    record_start_failure,
)

__all__ = [
    "DeploymentStarter",
    "PrefectStarter",
    "dsr_deployment",
    "flow_run_url",
    "start_fulfilment",
    "start_fulfilments",
    "start_pending",
    "sweep_pending",
]

logger = logging.getLogger("traceo.intake")


class DeploymentStarter(Protocol):
    """Creates a flow run of a deployment; returns the flow run id."""

    def start(
        self, deployment: str, parameters: dict[str, Any], idempotency_key: str | None = None
    ) -> str: ...


def dsr_deployment() -> str:
    """The fulfilment deployment (``TRACEO_DSR_DEPLOYMENT`` overrides the default)."""
    from tasks.settings import load
    from tasks.settings.areas import PrivacySettings

    return load(PrivacySettings).deployment


class PrefectStarter:
    """``run_deployment(..., timeout=0)``: create the run and return without waiting for it."""

    def start(
        self, deployment: str, parameters: dict[str, Any], idempotency_key: str | None = None
    ) -> str:
        from prefect.deployments import run_deployment
        from prefect.exceptions import ObjectNotFound

        try:
            flow_run: Any = run_deployment(
                deployment,
                parameters=parameters,
                timeout=0,
                idempotency_key=idempotency_key,
                as_subflow=False,
            )
        except ObjectNotFound:
            raise NotFoundError(
                f"deployment {deployment} not found on the Prefect server"
            ) from None
        except (httpx.HTTPError, OSError, RuntimeError) as exc:
            # RuntimeError: Prefect could not start or reach its (ephemeral) API server.
            raise ServiceUnavailableError(
                f"Prefect API unreachable starting {deployment}: {exc.__class__.__name__}"
            ) from None
        return str(flow_run.id)


def flow_run_url(flow_run_id: str) -> str | None:
    """The Prefect UI page of a flow run, when a UI URL is configured or derivable."""
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

    ui = PREFECT_UI_URL.value()
    if not ui:
        api = PREFECT_API_URL.value()
        ui = api.removesuffix("/").removesuffix("/api") if api else None
    return f"{ui.rstrip('/')}/runs/flow-run/{flow_run_id}" if ui else None


def start_fulfilments(
    engine: Engine,
    starter: DeploymentStarter,
    public_ids: Sequence[str],
    deployment: str | None = None,
) -> dict[str, str | None]:
    """Start the fulfilment run of each request; ``{request id: flow run id or None}``.

    A start that fails is logged and counted, its request left ``received``. The runs started
    are recorded in one transaction at the end (a crash before it leaves them to the sweep,
    whose second start returns the same run). ``deployment`` defaults to :func:`dsr_deployment`.
    """
    deployment = deployment or dsr_deployment()
    outcome: dict[str, str | None] = {}
    for public_id in public_ids:
        try:
            outcome[public_id] = starter.start(
                deployment, {"request_id": public_id}, idempotency_key=f"dsr-{public_id}"
            )
        except Exception as exc:  # the background task must not die silently
            reason = str(exc) if isinstance(exc, TraceoError) else exc.__class__.__name__
            logger.warning(
                "request %s stays received, fulfilment not started: %s", public_id, reason
            )
            record_start_failure(engine, public_id)
            outcome[public_id] = None
    started = {public_id: run for public_id, run in outcome.items() if run is not None}
    record_flow_runs(engine, started)
    for public_id, flow_run_id in started.items():
        logger.info("request %s: fulfilment flow run %s started", public_id, flow_run_id)
    return outcome


def start_fulfilment(engine: Engine, starter: DeploymentStarter, public_id: str) -> str | None:
    """Start the fulfilment run of one request; on failure log it and leave it ``received``."""
    return start_fulfilments(engine, starter, [public_id])[public_id]


def start_pending(
    engine: Engine, starter: DeploymentStarter, received_before: datetime | None = None
) -> tuple[int, int]:
    """Start every request still waiting for its fulfilment run; returns (started, failed)."""
    started = failed = 0
    for public_id in pending_starts(engine, received_before):
        if start_fulfilment(engine, starter, public_id):
            started += 1
        else:
            failed += 1
    return started, failed


def sweep_pending(
    engine: Engine, starter: DeploymentStarter, every: float, stop: threading.Event
) -> None:
    """Run :func:`start_pending` every ``every`` seconds until ``stop`` is set (``serve`` does).

    Requests younger than ``every`` are left to their own background start. Each round also
    forgets timestamped deliveries too old to be replayed (:func:`prune_deliveries`).
    """
    while True:
        try:
            now = datetime.now(UTC)
            started, failed = start_pending(engine, starter, now - timedelta(seconds=every))
            prune_deliveries(engine, now - 2 * REPLAY_WINDOW)
            if started or failed:
                logger.info("pending requests: %d started, %d still pending", started, failed)
        except TraceoError as exc:  # the store is down: try again next time
            logger.warning("could not sweep pending requests: %s", exc)
        if stop.wait(every):
            return
