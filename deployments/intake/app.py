"""The intake ASGI app: signed webhooks in, stored requests and started flow runs out.

Endpoints (details and signing recipes in ``docs/intake.md``):

- ``POST /v1/dsr/{source}`` (jira, servicenow, zendesk, generic): a data-subject request. 202 with
  the request id and due date for a new ticket, 200 with the existing id for a ticket already
  stored; the fulfilment run is started after the answer is sent.
- ``POST /v1/runs/{source}``: run an allowlisted deployment; 202 with the flow run id and link.
- ``GET /healthz``: liveness (unsigned, touches nothing).

Order of checks: the signature (401, nothing stored), the body (422 naming the field, never a
value), then the store, where a replayed delivery is refused (401) in the same transaction that
would store the request, so a refused request changes nothing. A store that cannot be reached
answers 503 (nothing stored; the sender retries).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, delete
from sqlalchemy.exc import OperationalError

from deployments.intake.allowlist import Allowlist, NotAllowedError
from deployments.intake.payloads import parse_body, to_new_request
from deployments.intake.signing import SIGNED_SOURCES, SignatureError, verify_request
from deployments.intake.starter import DeploymentStarter, flow_run_url, start_fulfilment
from tasks.errors import NotFoundError, PermanentError, ServiceUnavailableError
from tasks.privacy.requests import (
    InvalidRequestError,
    ReplayedDeliveryError,
    create_request,
    record_delivery,
)
from tasks.privacy.tickets import resolve_secret
from tasks.store.engine import session_scope
from tasks.store.privacy_models import IntakeDelivery

__all__ = ["MAX_BODY_BYTES", "BodyTooLargeError", "create_app", "load_secrets"]

logger = logging.getLogger("traceo.intake")

# Webhook bodies are small JSON documents; anything bigger is refused before it is read whole.
MAX_BODY_BYTES = 256 * 1024


class BodyTooLargeError(PermanentError):
    """The request body exceeds :data:`MAX_BODY_BYTES` (answered 413, nothing read or stored)."""


def load_secrets() -> dict[str, str]:
    """Per-source secrets: ``TRACEO_INTAKE_SECRET_<SOURCE>``, else ``traceo-intake-<source>``.

    A source whose block cannot be read (Prefect API down) is left out with a warning: it
    accepts nothing (401) until the intake restarts, while the other sources keep working.
    """
    secrets = {}
    for source in SIGNED_SOURCES:
        env = f"TRACEO_INTAKE_SECRET_{source.upper()}"
        try:
            value = resolve_secret(env, f"traceo-intake-{source}")
        except ServiceUnavailableError as exc:
            logger.warning("no secret for %s (set %s): %s", source, env, exc)
            continue
        if value:
            secrets[source] = value
    return secrets


def _error(status: int, error: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, **extra}, status_code=status)


def _store_down(source: str, exc: OperationalError) -> JSONResponse:
    """The store cannot be reached: nothing was stored; 503 makes the sender retry later."""
    logger.error("store unavailable for a %s delivery: %s", source, exc.orig.__class__.__name__)
    return _error(503, "store unavailable", detail="nothing was stored; retry later")


def _invalid(exc: InvalidRequestError) -> JSONResponse:
    fields = [{"field": field, "reason": reason} for field, reason in exc.issues]
    return _error(422, "invalid request", fields=fields)


def create_app(
    engine: Engine,
    starter: DeploymentStarter,
    secrets: Mapping[str, str],
    allowlist: Allowlist | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """Build the app; everything it depends on is passed in (tests inject fakes)."""
    app = FastAPI(title="Traceo intake", docs_url=None, redoc_url=None, openapi_url=None)

    async def _verified(source: str, request: Request) -> tuple[bytes, str, datetime]:
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            raise BodyTooLargeError(f"body larger than {MAX_BODY_BYTES} bytes")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLargeError(f"body larger than {MAX_BODY_BYTES} bytes")
        now = clock()
        verified = verify_request(source, request.headers, body, secrets.get(source), now)
        return body, verified.delivery_id, now

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/dsr/{source}")
    async def dsr_webhook(
        source: str, request: Request, background: BackgroundTasks
    ) -> JSONResponse:
        if source not in SIGNED_SOURCES:
            return _error(404, f"unknown source {source}")
        try:
            body, delivery_id, now = await _verified(source, request)
            new = to_new_request(source, parse_body(body))
            created = await run_in_threadpool(
                create_request, engine, new, delivery_id=delivery_id, now=now
            )
        except (SignatureError, ReplayedDeliveryError) as exc:
            logger.warning("rejected %s webhook: %s", source, exc)
            return _error(401, "unauthorized", detail=str(exc))
        except BodyTooLargeError as exc:
            return _error(413, "too large", detail=str(exc))
        except InvalidRequestError as exc:
            logger.warning("invalid %s webhook: %s", source, exc)
            return _invalid(exc)
        except OperationalError as exc:
            return _store_down(source, exc)
        answer = {
            "request_id": created.public_id,
            "status": created.status,
            "due_at": created.due_at.isoformat(),
            "duplicate": not created.created,
        }
        if not created.created:
            logger.info("%s ticket already stored as request %s", source, created.public_id)
            return JSONResponse(answer, status_code=200)
        logger.info("request %s received from %s", created.public_id, source)
        background.add_task(start_fulfilment, engine, starter, created.public_id)
        return JSONResponse(answer, status_code=202)

    @app.post("/v1/runs/{source}")
    async def run_request(source: str, request: Request) -> JSONResponse:
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
            parameters = allowlist.check(source, deployment, data.get("parameters"))
            await run_in_threadpool(_remember, engine, source, delivery_id, now)
        except (SignatureError, ReplayedDeliveryError) as exc:
            logger.warning("rejected %s run request: %s", source, exc)
            return _error(401, "unauthorized", detail=str(exc))
        except BodyTooLargeError as exc:
            return _error(413, "too large", detail=str(exc))
        except NotAllowedError as exc:
            return _error(403, "not allowed", detail=str(exc))
        except OperationalError as exc:
            return _store_down(source, exc)
        except InvalidRequestError as exc:
            return _invalid(exc)
        ticket = data.get("ticket")
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
    with session_scope(engine) as session:
        record_delivery(session, source, delivery_id, now)
