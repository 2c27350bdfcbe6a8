"""The intake ASGI app: signed webhooks in, stored requests and started flow runs out.

Endpoints (details, signing recipes and every limit in ``docs/intake.md``):

- ``POST /v1/dsr/{source}`` (jira, servicenow, zendesk, generic): a data-subject request. 202 with
  the request id and due date for a new ticket; 200 with only ``{"duplicate": true}`` for a ticket
  already stored (the sender learns nothing about the existing request). The fulfilment run is
  started by a background worker (:mod:`deployments.intake.fulfilment`), never in the request.
- ``POST /v1/runs/{source}``: run an allowlisted deployment; 202 with the flow run id and link.
- ``GET /healthz``: liveness (unsigned, touches nothing).
- ``GET /files/{path}``: artifact files under ``$TRACEO_HOME`` (:mod:`deployments.intake.files`).

Order of checks: the body's size while it streams in (413), the signature over the raw bytes
(401, nothing parsed or stored), the body (422 naming the field, never a value), then the store,
where a replayed delivery is refused (401) in the same transaction that would store the request,
so a refused request changes nothing. Requests are stored in batches, each answered once its
batch has committed (:mod:`deployments.intake.writer`). A store that cannot be reached, or too
many requests waiting to be stored, answers 503 (nothing stored; the sender retries). A full
fulfilment queue answers 503 with ``Retry-After`` once the request is stored: the sender's retry
is answered as a duplicate, never stored twice. Store errors are logged by class name only,
never with a statement's parameters.
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
from sqlalchemy import Engine, delete
from sqlalchemy.exc import DataError, DBAPIError, OperationalError

from deployments.intake.allowlist import Allowlist, NotAllowedError
from deployments.intake.body import BodyTooLargeError, IncompleteBodyError, read_body
from deployments.intake.files import files_router
from deployments.intake.fulfilment import DEFAULT_CAPACITY, FulfilmentQueue
from deployments.intake.payloads import jira_fields_from_env, parse_body, to_new_request
from deployments.intake.signing import JIRA_DELIVERY, SIGNED_SOURCES, SignatureError, verify_request
from deployments.intake.starter import DeploymentStarter, flow_run_url
from deployments.intake.writer import RequestWriter, WriterBusyError
from tasks.errors import NotFoundError, ServiceUnavailableError
from tasks.privacy.characters import identifier_problem
from tasks.privacy.requests import (
    InvalidRequestError,
    PendingRequest,
    ReplayedDeliveryError,
    record_delivery,
)
from tasks.privacy.tickets import resolve_secret
from tasks.settings import load
from tasks.settings.areas import IntakeSettings
from tasks.settings.loading import env_name
from tasks.store.engine import session_scope
from tasks.store.privacy_models import IntakeDelivery

__all__ = ["MAX_IDENTIFIER_CHARS", "RETRY_AFTER_S", "create_app", "load_secrets"]

logger = logging.getLogger("traceo.intake")

RETRY_AFTER_S = 30  # what a sender is told to wait when the fulfilment queue is full
MAX_IDENTIFIER_CHARS = 200  # a delivery id or a run's ticket (the store keeps 200)


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


# The routes read the raw body (its signature is checked before it is parsed), so FastAPI cannot
# infer it: the schema says what a sender posts (the ticket systems' shapes: docs/intake.md). The
# source is read from the path, not as a declared parameter: FastAPI's parameter validation would
# cost a signed webhook about a tenth of its time; the schema declares it instead.
_SIGNED_JSON_BODY = {
    "parameters": [
        {"name": "source", "in": "path", "required": True, "schema": {"type": "string"}}
    ],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
}


def _error(status: int, error: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, **extra}, status_code=status)


def _store_error(source: str, exc: DBAPIError) -> JSONResponse:
    """Nothing was stored; logged by the driver's error class, never with the parameters."""
    logger.error("store error for a %s delivery: %s", source, exc.orig.__class__.__name__)
    if isinstance(exc, DataError):  # the store refused a value the validation let through
        return _error(422, "invalid request", fields=[{"field": "body", "reason": "refused"}])
    if isinstance(exc, OperationalError):
        return _error(503, "store unavailable", detail="nothing was stored; retry later")
    return _error(500, "store error", detail="nothing was stored")


def _busy(detail: str) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    return JSONResponse({"error": "busy", "detail": detail}, status_code=503, headers=headers)


def _invalid(exc: InvalidRequestError) -> JSONResponse:
    fields = [{"field": field, "reason": reason} for field, reason in exc.issues]
    return _error(422, "invalid request", fields=fields)


def _check_identifier(field: str, value: str) -> None:
    problem = identifier_problem(value)
    if problem is None and len(value) > MAX_IDENTIFIER_CHARS:
        problem = f"longer than {MAX_IDENTIFIER_CHARS} characters"
    if problem:
        raise InvalidRequestError([(field, problem)])


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

    app = FastAPI(
        title="Traceo intake", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.fulfilment = fulfilment
    if files_home is not None:
        app.include_router(files_router(files_home))

    async def _verified(source: str, request: Request) -> tuple[bytes, str, datetime]:
        body = await read_body(request)
        now = clock()
        verified = verify_request(source, request.headers, body, secrets.get(source), now)
        if source == "jira":
            _check_identifier(JIRA_DELIVERY, verified.delivery_id.removeprefix("jira:"))
        return body, verified.delivery_id, now

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/dsr/{source}", openapi_extra=_SIGNED_JSON_BODY)
    async def dsr_webhook(request: Request) -> JSONResponse:
        source = request.path_params["source"]
        if source not in SIGNED_SOURCES:
            return _error(404, f"unknown source {source}")
        try:
            body, delivery_id, now = await _verified(source, request)
            new = to_new_request(source, parse_body(body), fields)
            created = await writer.store(PendingRequest(new, delivery_id, now))
        except (SignatureError, ReplayedDeliveryError) as exc:
            logger.warning("rejected %s webhook: %s", source, exc)
            return _error(401, "unauthorized", detail=str(exc))
        except WriterBusyError as exc:
            return _busy(str(exc) + "; nothing was recorded")
        except BodyTooLargeError as exc:
            return _error(413, "too large", detail=str(exc))
        except IncompleteBodyError as exc:
            return _error(400, "incomplete body", detail=str(exc))
        except InvalidRequestError as exc:
            logger.warning("invalid %s webhook: %s", source, exc)
            return _invalid(exc)
        except DBAPIError as exc:
            return _store_error(source, exc)
        if not created.created:
            logger.info("%s ticket already stored as request %s", source, created.public_id)
            return JSONResponse({"duplicate": True}, status_code=200)
        logger.info("request %s received from %s", created.public_id, source)
        if not fulfilment.submit(created.public_id):
            logger.warning("fulfilment queue full: request %s left to the sweep", created.public_id)
            # The sender's retry must reach the store (and be a duplicate), not be a "replay".
            await run_in_threadpool(_forget, engine, source, delivery_id)
            return _busy("the request was recorded; retrying is safe")
        answer = {
            "request_id": created.public_id,
            "status": created.status,
            "due_at": created.due_at.isoformat(),
            "duplicate": False,
        }
        return JSONResponse(answer, status_code=202)

    @app.post("/v1/runs/{source}", openapi_extra=_SIGNED_JSON_BODY)
    async def run_request(request: Request) -> JSONResponse:
        source = request.path_params["source"]
        if source not in SIGNED_SOURCES:
            return _error(404, f"unknown source {source}")
        if allowlist is None:
            return _error(403, "no deployments are allowlisted")
        try:
            body, delivery_id, now = await _verified(source, request)
            data = parse_body(body)
            deployment = data.get("deployment")
            if not isinstance(deployment, str):
                raise InvalidRequestError([("deployment", "required string")])
            ticket = data.get("ticket")
            if isinstance(ticket, str):
                _check_identifier("ticket", ticket)
            parameters = allowlist.check(source, deployment, data.get("parameters"))
            await run_in_threadpool(_remember, engine, source, delivery_id, now)
        except (SignatureError, ReplayedDeliveryError) as exc:
            logger.warning("rejected %s run request: %s", source, exc)
            return _error(401, "unauthorized", detail=str(exc))
        except BodyTooLargeError as exc:
            return _error(413, "too large", detail=str(exc))
        except IncompleteBodyError as exc:
            return _error(400, "incomplete body", detail=str(exc))
        except NotAllowedError as exc:
            return _error(403, "not allowed", detail=str(exc))
        except DBAPIError as exc:
            return _store_error(source, exc)
        except InvalidRequestError as exc:
            return _invalid(exc)
        key = None
        if isinstance(ticket, str | int) and ticket:
            digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()
            key = f"intake-{source}-{ticket}-{deployment}-{digest[:16]}"
        try:
            flow_run_id = await run_in_threadpool(starter.start, deployment, parameters, key)
        except (NotFoundError, ServiceUnavailableError) as exc:
            # Nothing ran: forget the delivery so the sender's retry is not taken for a replay.
            await run_in_threadpool(_forget, engine, source, delivery_id)
            if isinstance(exc, NotFoundError):
                return _error(404, "deployment not found", detail=str(exc))
            return _error(503, "Prefect API unavailable", detail=str(exc))
        logger.info("%s started %s as flow run %s", source, deployment, flow_run_id)
        answer = {
            "flow_run_id": flow_run_id,
            "deployment": deployment,
            "parameters": parameters,
            "ui_url": flow_run_url(flow_run_id),
        }
        return JSONResponse(answer, status_code=202)

    return app


def _forget(engine: Engine, source: str, delivery_id: str) -> None:
    with session_scope(engine) as session:
        session.execute(
            delete(IntakeDelivery).where(
                IntakeDelivery.source == source, IntakeDelivery.delivery_id == delivery_id
            )
        )


def _remember(engine: Engine, source: str, delivery_id: str, now: datetime) -> None:
    with engine.begin() as conn:
        record_delivery(conn, source, delivery_id, now)
