"""Group commit: requests stored in batches, each answered once its own batch has committed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from deployments.intake.writer import RequestWriter, WriterBusyError
from tasks.privacy.requests import (
    Identities,
    NewRequest,
    PendingRequest,
    ReplayedDeliveryError,
    parse_new_request,
)
from tasks.store import get_engine, session_scope
from tasks.store.privacy_models import DsrRequest, IntakeDelivery

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _pending(ticket: str, delivery: str | None) -> PendingRequest:
    data = {
        "source": "jira",
        "ticket_id": ticket,
        "request_type": "erasure",
        "jurisdiction": "GDPR",
        "identities": {"email": "jane@example.com"},
    }
    return PendingRequest(parse_new_request(data), delivery, NOW)


async def _store_all(writer: RequestWriter, pending: list[PendingRequest]) -> list[object]:
    writer.start()
    try:
        jobs = [writer.store(one) for one in pending]
        return list(await asyncio.gather(*jobs, return_exceptions=True))
    finally:
        await writer.stop()


def _count(engine, model) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_500_concurrent_deliveries_of_one_ticket_store_one_request(store_engine):
    deliveries = [_pending("PRIV-1", f"jira:d{n}") for n in range(500)]
    outcomes = asyncio.run(_store_all(RequestWriter(store_engine), deliveries))
    created = [o for o in outcomes if getattr(o, "created", False)]
    assert len(created) == 1
    assert {o.public_id for o in outcomes} == {created[0].public_id}  # type: ignore[attr-defined]
    assert _count(store_engine, DsrRequest) == 1
    assert _count(store_engine, IntakeDelivery) == 500


def test_a_replay_in_a_batch_is_refused_alone(store_engine):
    pending = [_pending("PRIV-1", "jira:same"), _pending("PRIV-2", "jira:same")]
    pending.append(_pending("PRIV-3", "jira:other"))
    first, replay, other = asyncio.run(_store_all(RequestWriter(store_engine), pending))
    assert isinstance(replay, ReplayedDeliveryError)
    assert first.created and other.created  # type: ignore[union-attr]
    assert _count(store_engine, DsrRequest) == 2


def test_a_full_writer_refuses_at_once_and_stores_nothing_of_the_refused(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    pending = [_pending(f"PRIV-{n}", f"jira:d{n}") for n in range(3)]
    # The writing task only takes from the queue once the three handlers have run: the first
    # fills the queue (capacity 1), the next two find it full.
    first, second, third = asyncio.run(_store_all(RequestWriter(engine, capacity=1), pending))
    assert first.created  # type: ignore[union-attr]
    assert isinstance(second, WriterBusyError) and isinstance(third, WriterBusyError)
    assert _count(engine, DsrRequest) == 1 and _count(engine, IntakeDelivery) == 1


@pytest.fixture
def postgres_engine(postgres_schema_url):
    """The session's PostgreSQL store, emptied of requests before and after the test."""
    engine = get_engine(postgres_schema_url)

    def empty() -> None:
        with engine.begin() as conn:
            conn.execute(IntakeDelivery.__table__.delete())
            conn.execute(DsrRequest.__table__.delete())

    empty()
    yield engine
    empty()


def test_a_value_the_store_refuses_fails_its_own_request_only(postgres_engine):
    engine = postgres_engine
    # PostgreSQL refuses a NUL byte in text; validation refuses it first, so build it directly.
    hostile = NewRequest.model_construct(
        source="generic",
        ticket_id="BAD\x00",
        request_type="access",
        jurisdiction="GDPR",
        identities=Identities.model_construct(email="x@example.com"),
        corrections=None,
    )
    pending = [_pending("PRIV-1", "jira:a"), PendingRequest(hostile, "sig:b", NOW)]
    good, bad = asyncio.run(_store_all(RequestWriter(engine), pending))
    assert good.created  # type: ignore[union-attr]
    assert isinstance(bad, DataError)
    assert _count(engine, DsrRequest) == 1


@pytest.mark.parametrize("capacity", [0, -1])
def test_the_writer_is_always_bounded(tmp_path, capacity):
    with pytest.raises(ValueError, match="capacity"):
        RequestWriter(get_engine(f"sqlite:///{tmp_path / 'store.db'}"), capacity=capacity)
