"""The intake ASGI app: signed webhooks in, stored requests and started flow runs out.

Endpoints (details, signing recipes and every limit in ``docs/intake.md``):

- ``POST /v1/dsr/{source}`` (jira, servicenow, zendesk, generic): a data-subject request
  (:mod:`deployments.intake.dsr`, served ahead of FastAPI's routing).
- ``POST /v1/runs/{source}``: run an allowlisted deployment; 202 with the flow run id and link.
- ``GET /healthz``: liveness (unsigned, touches nothing).
- ``GET /files/{path}``: artifact files under ``$TRACEO_HOME`` (:mod:`deployments.intake.files`).

Both signed endpoints check the body's size while it streams in (413), then the signature over
the raw bytes (401, nothing parsed or stored), then the body (422 naming the field, never a
value), then the store, where a replayed delivery is refused (401) in the same transaction that
would store it, so a refused request changes nothing. A store that cannot be reached answers
503 (nothing stored; the sender retries). Store errors are logged by class name only, never with
a statement's parameters.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.types import Receive, Scope, Send

from deployments.intake.allowlist import Allowlist, NotAllowedError
from deployments.intake.body import BodyTooLargeError, IncompleteBodyError
from deployments.intake.dsr import DSR_OPERATION, DSR_ROUTE, DsrEndpoint, dsr_source
from deployments.intake.files import files_router
from deployments.intake.fulfilment import DEFAULT_CAPACITY, FulfilmentQueue
from deployments.intake.payloads import jira_fields_from_env, parse_body
from deployments.intake.signed import (
    MAX_IDENTIFIER_CHARS,
    RETRY_AFTER_S,
    SIGNED_JSON_BODY,
    check_identifier,
    error,
    forget_delivery,
    invalid,
    read_verified,
    store_error,
)
from deployments.intake.signing import SIGNED_SOURCES, SignatureError
from deployments.intake.starter import DeploymentStarter, flow_run_url
from deployments.intake.writer import RequestWriter
from tasks.errors import NotFoundError, ServiceUnavailableError
from tasks.privacy.requests import InvalidRequestError, ReplayedDeliveryError, record_delivery
from tasks.privacy.tickets import resolve_secret
from tasks.settings import load
from tasks.settings.areas import IntakeSettings
from tasks.settings.loading import env_name

__all__ = ["MAX_IDENTIFIER_CHARS", "RETRY_AFTER_S", "create_app", "load_secrets"]

logger = logging.getLogger("traceo.intake")


def load_secrets() -> dict[str, str]:
    """Per-source secrets: ``TRACEO_INTAKE_SECRET_<SOURCE>``, else ``traceo-intake-<source>``.

    A source whose block cannot be read (Prefect API down) is left out with a warning: it
    accepts nothing (401) until the intake restarts, while the other sources keep working.
    """
    settings = load(IntakeSettings)
    secrets = {}
    for source in SIGNED_SOURCES:
        env = env_name(IntakeSettings, f"secret_{source}")
        try:
            value = resolve_secret(getattr(settings, f"secret_{source}"), f"traceo-intake-{source}")
        except ServiceUnavailableError as exc:
            logger.warning("no secret for %s (set %s): %s", source, env, exc)
            continue
        if value:
            secrets[source] = value
    return secrets


class _IntakeApp(FastAPI):
    """FastAPI, but the DSR webhook is answered before any of its per-request machinery."""

    def __init__(self, dsr: DsrEndpoint, **options: Any) -> None:
        super().__init__(**options)
        self._dsr = dsr

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        source = dsr_source(scope)
        if source is None:
            await super().__call__(scope, receive, send)
        else:
            await self._dsr(source, scope, receive, send)


def create_app(
    engine: Engine,
    starter: DeploymentStarter,
    secrets: Mapping[str, str],
    allowlist: Allowlist | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    jira_fields: Mapping[str, str] | None = None,
    queue_capacity: int = DEFAULT_CAPACITY,
    files_home: Path | None = None,
) -> FastAPI:
    """Build the app; everything it depends on is passed in (tests inject fakes).

    ``jira_fields`` defaults to :func:`~deployments.intake.payloads.jira_fields_from_env`, read
    here so that a malformed ``TRACEO_INTAKE_JIRA_FIELDS`` fails at start-up
    (:class:`~tasks.errors.ConfigurationError`), not on every Jira webhook. With ``files_home``
    the app also serves artifact files under it (:mod:`deployments.intake.files`).
    """
    fields = jira_fields_from_env() if jira_fields is None else dict(jira_fields)
    fulfilment = FulfilmentQueue(engine, starter, queue_capacity)
    writer = RequestWriter(engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        writer.start()
        fulfilment.start()
        try:
            yield
        finally:
            await writer.stop()
            fulfilment.stop()

    dsr = DsrEndpoint(
        engine=engine,
        writer=writer,
        fulfilment=fulfilment,
        secrets=secrets,
        clock=clock,
        jira_fields=fields,
    )
    app = _IntakeApp(
        dsr,
        title="Traceo intake",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.fulfilment = fulfilment
    if files_home is not None:
        app.include_router(files_router(files_home))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/runs/{source}", openapi_extra=SIGNED_JSON_BODY)
    async def run_request(request: Request) -> JSONResponse:
        source = request.path_params["source"]
        if source not in SIGNED_SOURCES:
            return error(404, f"unknown source {source}")
        if allowlist is None:
            return error(403, "no deployments are allowlisted")
        try:
            body, delivery_id, now = await read_verified(
                source, request.headers, request.receive, secrets.get(source), clock
            )
            data = parse_body(body)
            deployment = data.get("deployment")
            if not isinstance(deployment, str):
                raise InvalidRequestError([("deployment", "required string")])
            ticket = data.get("ticket")
            if isinstance(ticket, str):
                check_identifier("ticket", ticket)
            parameters = allowlist.check(source, deployment, data.get("parameters"))
            await run_in_threadpool(_remember, engine, source, delivery_id, now)
        except (SignatureError, ReplayedDeliveryError) as exc:
            logger.warning("rejected %s run request: %s", source, exc)
            return error(401, "unauthorized", detail=str(exc))
        except BodyTooLargeError as exc:
            return error(413, "too large", detail=str(exc))
        except IncompleteBodyError as exc:
            return error(400, "incomplete body", detail=str(exc))
        except NotAllowedError as exc:
            return error(403, "not allowed", detail=str(exc))
        except DBAPIError as exc:
            return store_error(source, exc)
        except InvalidRequestError as exc:
            return invalid(exc)
        key = None
        if isinstance(ticket, str | int) and ticket:
            digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()
            key = f"intake-{source}-{ticket}-{deployment}-{digest[:16]}"
        try:
            flow_run_id = await run_in_threadpool(starter.start, deployment, parameters, key)
        except (NotFoundError, ServiceUnavailableError) as exc:
            # Nothing ran: forget the delivery so the sender's retry is not taken for a replay.
            await run_in_threadpool(forget_delivery, engine, source, delivery_id)
            if isinstance(exc, NotFoundError):
                return error(404, "deployment not found", detail=str(exc))
            return error(503, "Prefect API unavailable", detail=str(exc))
        logger.info("%s started %s as flow run %s", source, deployment, flow_run_id)
        answer = {
            "flow_run_id": flow_run_id,
            "deployment": deployment,
            "parameters": parameters,
            "ui_url": flow_run_url(flow_run_id),
        }
        return JSONResponse(answer, status_code=202)

    # FastAPI caches its schema here; the webhook it does not route is described by hand.
    app.openapi()["paths"][DSR_ROUTE] = {"post": DSR_OPERATION}
    return app


def _remember(engine: Engine, source: str, delivery_id: str, now: datetime) -> None:
    with engine.begin() as conn:
        record_delivery(conn, source, delivery_id, now)
