"""The data-subject request webhook, ``POST /v1/dsr/{source}``, answered ahead of FastAPI.

Every signed webhook takes this path, and FastAPI's work per request (its telemetry check,
error and exit-stack middleware, routing, request wrappers, dependency solving) cost one about
as much of the event loop as the webhook's own checks did (docs/intake.md, "Throughput"). So the
intake app hands every request whose path is ``/v1/dsr/<source>`` (:func:`dsr_source`) to
:class:`DsrEndpoint`, a plain ASGI handler, before FastAPI sees it; the schema FastAPI publishes
describes it with :data:`DSR_OPERATION`. An exception it does not handle reaches the server,
which answers 500 and logs it, as FastAPI's error middleware would.

Answers: 202 with the request id and due date for a new ticket; 200 with only
``{"duplicate": true}`` for a ticket already stored (the sender learns nothing about the
existing request). The fulfilment run is started by a background worker
(:mod:`deployments.intake.fulfilment`), never in the request. Order of checks: the body's size
while it streams in (413), the signature over the raw bytes (401, nothing parsed or stored), the
body (422 naming the field, never a value), then the store (:mod:`deployments.intake.writer`),
where a replayed delivery is refused (401) in the same transaction that would store the request.
Too many requests waiting to be stored: 503, nothing stored. A full fulfilment queue: 503 with
``Retry-After`` once the request is stored, so the sender's retry is answered as a duplicate,
never stored twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from deployments.intake.body import BodyTooLargeError, IncompleteBodyError
from deployments.intake.fulfilment import FulfilmentQueue
from deployments.intake.payloads import parse_body, to_new_request
from deployments.intake.signed import (
    SIGNED_JSON_BODY,
    busy,
    error,
    forget_delivery,
    invalid,
    read_verified,
    store_error,
)
from deployments.intake.signing import SIGNED_SOURCES, SignatureError
from deployments.intake.writer import RequestWriter, WriterBusyError
from tasks.privacy.requests import (
    CreatedRequest,
    InvalidRequestError,
    PendingRequest,
    ReplayedDeliveryError,
)

__all__ = ["DSR_OPERATION", "DSR_ROUTE", "DsrEndpoint", "dsr_source"]

logger = logging.getLogger("traceo.intake")

DSR_ROUTE = "/v1/dsr/{source}"
_PREFIX = DSR_ROUTE.removesuffix("{source}")

# What FastAPI wrote for this operation when it routed it; senders and the fuzz tests read it.
DSR_OPERATION: dict[str, Any] = {
    "summary": "Dsr Webhook",
    "operationId": "dsr_webhook_v1_dsr__source__post",
    "responses": {
        "200": {
            "description": "Successful Response",
            "content": {"application/json": {"schema": {}}},
        }
    },
    **SIGNED_JSON_BODY,
}


def _accepted(created: CreatedRequest) -> Response:
    """202 ``{"request_id", "status", "due_at", "duplicate": false}``, as JSONResponse renders it.

    The answer nearly every webhook gets, formatted directly: JSONResponse's encoder costs a
    webhook about 5 µs more, and the values (a UUID, a status name, an ISO 8601 time) need no
    escaping.
    """
    body = b'{"request_id":"%s","status":"%s","due_at":"%s","duplicate":false}' % (
        created.public_id.encode(),
        created.status.encode(),
        created.due_at.isoformat().encode(),
    )
    return Response(body, 202, media_type="application/json")


def dsr_source(scope: Scope) -> str | None:
    """The ``{source}`` of a request to :data:`DSR_ROUTE`, else None (not ours)."""
    if scope["type"] != "http" or not scope["path"].startswith(_PREFIX):
        return None
    source: str = scope["path"][len(_PREFIX) :]
    return source if source and "/" not in source else None


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by (lower-case) name; the first of repeated ones, as Starlette."""
    headers = reversed(scope["headers"])
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in headers}


class DsrEndpoint:
    """Answers the requests to :data:`DSR_ROUTE`."""

    def __init__(
        self,
        *,
        engine: Engine,
        writer: RequestWriter,
        fulfilment: FulfilmentQueue,
        secrets: Mapping[str, str],
        clock: Callable[[], datetime],
        jira_fields: Mapping[str, str],
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._fulfilment = fulfilment
        self._secrets = secrets
        self._clock = clock
        self._jira_fields = jira_fields

    async def __call__(self, source: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a request to ``/v1/dsr/<source>`` (``source`` from :func:`dsr_source`)."""
        response: Response
        if scope["method"] != "POST":
            response = error(405, "method not allowed", {"Allow": "POST"})
        elif source not in SIGNED_SOURCES:
            response = error(404, f"unknown source {source}")
        else:
            response = await self._answer(source, _headers(scope), receive)
        await response(scope, receive, send)

    async def _answer(self, source: str, headers: dict[str, str], receive: Receive) -> Response:
        secret = self._secrets.get(source)
        try:
            body, delivery_id, now = await read_verified(
                source, headers, receive, secret, self._clock
            )
            new = to_new_request(source, parse_body(body), self._jira_fields)
            created = await self._writer.store(PendingRequest(new, delivery_id, now))
        except (SignatureError, ReplayedDeliveryError) as exc:
            logger.warning("rejected %s webhook: %s", source, exc)
            return error(401, "unauthorized", detail=str(exc))
        except WriterBusyError as exc:
            return busy(str(exc) + "; nothing was recorded")
        except BodyTooLargeError as exc:
            return error(413, "too large", detail=str(exc))
        except IncompleteBodyError as exc:
            return error(400, "incomplete body", detail=str(exc))
        except InvalidRequestError as exc:
            logger.warning("invalid %s webhook: %s", source, exc)
            return invalid(exc)
        except DBAPIError as exc:
            return store_error(source, exc)
        if not created.created:
            logger.info("%s ticket already stored as request %s", source, created.public_id)
            return JSONResponse({"duplicate": True}, status_code=200)
        logger.info("request %s received from %s", created.public_id, source)
        if not self._fulfilment.submit(created.public_id):
            logger.warning("fulfilment queue full: request %s left to the sweep", created.public_id)
            # The sender's retry must reach the store (and be a duplicate), not be a "replay".
            await run_in_threadpool(forget_delivery, self._engine, source, delivery_id)
            return busy("the request was recorded; retrying is safe")
        return _accepted(created)
