"""What the intake's two signed endpoints share: reading a verified body, error answers, checks.

Both read the body within its limit and verify its signature before anything parses it
(:func:`read_verified`). Every error answer is ``{"error": ..., ...}`` and names a field or a
class of problem, never a value the sender posted. Store errors are logged by the driver's
error class only, never with a statement's parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.responses import JSONResponse
from starlette.types import Receive

from deployments.intake.body import read_body
from deployments.intake.signing import JIRA_DELIVERY, verify_request
from tasks.privacy.characters import identifier_problem
from tasks.privacy.requests import InvalidRequestError
from tasks.store.engine import session_scope
from tasks.store.privacy_models import IntakeDelivery

__all__ = [
    "MAX_IDENTIFIER_CHARS",
    "RETRY_AFTER_S",
    "SIGNED_JSON_BODY",
    "busy",
    "check_identifier",
    "error",
    "forget_delivery",
    "invalid",
    "read_verified",
    "store_error",
]

logger = logging.getLogger("traceo.intake")

RETRY_AFTER_S = 30  # what a sender is told to wait when the fulfilment queue is full
MAX_IDENTIFIER_CHARS = 200  # a delivery id or a run's ticket (the store keeps 200)

# The endpoints read the raw body (its signature is checked before it is parsed), so FastAPI
# cannot infer it: the schema says what a sender posts (the ticket systems' shapes:
# docs/intake.md). The source is read from the path, not as a declared parameter: FastAPI's
# parameter validation would cost a signed request about a tenth of its time.
SIGNED_JSON_BODY: dict[str, Any] = {
    "parameters": [
        {"name": "source", "in": "path", "required": True, "schema": {"type": "string"}}
    ],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
}


async def read_verified(
    source: str,
    headers: Mapping[str, str],
    receive: Receive,
    secret: str | None,
    clock: Callable[[], datetime],
) -> tuple[bytes, str, datetime]:
    """The body, its delivery id and the time it was verified at.

    Raises:
        BodyTooLargeError, IncompleteBodyError: see :func:`~deployments.intake.body.read_body`.
        SignatureError: unsigned, forged or stale (nothing was parsed).
        InvalidRequestError: a Jira delivery id that cannot be an identifier.
    """
    body = await read_body(receive, headers.get("content-length"))
    now = clock()
    verified = verify_request(source, headers, body, secret, now)
    if source == "jira":
        check_identifier(JIRA_DELIVERY, verified.delivery_id.removeprefix("jira:"))
    return body, verified.delivery_id, now


def error(
    status: int, kind: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """``{"error": kind, **extra}`` with ``status``."""
    return JSONResponse({"error": kind, **extra}, status_code=status, headers=headers)


def store_error(source: str, exc: DBAPIError) -> JSONResponse:
    """Nothing was stored; logged by the driver's error class, never with the parameters."""
    logger.error("store error for a %s delivery: %s", source, exc.orig.__class__.__name__)
    if isinstance(exc, DataError):  # the store refused a value the validation let through
        return error(422, "invalid request", fields=[{"field": "body", "reason": "refused"}])
    if isinstance(exc, OperationalError):
        return error(503, "store unavailable", detail="nothing was stored; retry later")
    return error(500, "store error", detail="nothing was stored")


def busy(detail: str) -> JSONResponse:
    """503 with ``Retry-After``: the sender should try again later."""
    return error(503, "busy", {"Retry-After": str(RETRY_AFTER_S)}, detail=detail)


def invalid(exc: InvalidRequestError) -> JSONResponse:
    """422 listing each field and what is wrong with it."""
    fields = [{"field": field, "reason": reason} for field, reason in exc.issues]
    return error(422, "invalid request", fields=fields)


def check_identifier(field: str, value: str) -> None:
    """Raise :class:`InvalidRequestError` naming ``field`` if ``value`` cannot be an identifier."""
    problem = identifier_problem(value)
    if problem is None and len(value) > MAX_IDENTIFIER_CHARS:
        problem = f"longer than {MAX_IDENTIFIER_CHARS} characters"
    if problem:
        raise InvalidRequestError([(field, problem)])


def forget_delivery(engine: Engine, source: str, delivery_id: str) -> None:
    """Forget an accepted delivery, so that the sender's retry is not taken for a replay."""
    with session_scope(engine) as session:
        session.execute(
            delete(IntakeDelivery).where(
                IntakeDelivery.source == source, IntakeDelivery.delivery_id == delivery_id
            )
        )
