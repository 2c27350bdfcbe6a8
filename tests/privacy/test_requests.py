"""Data-subject requests: validation, legal due dates, de-duplication and the stored lifecycle."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tasks.errors import NotFoundError, PermanentError
from tasks.privacy.requests import (
    Identities,
    InvalidRequestError,
    ReplayedDeliveryError,
    add_months,
    create_request,
    due_date,
    extend_deadline,
    extended_due_date,
    load_request,
    parse_new_request,
    pending_starts,
    prune_deliveries,
    record_flow_run,
    record_start_failure,
    set_status,
)
from tasks.store import session_scope
from tasks.store.privacy_models import DsrRequest, IntakeDelivery

EMAIL = "Jane.Doe@Example.COM"


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 10, 30, tzinfo=UTC)


def _new(ticket: str = "PRIV-1", **overrides):
    data = {
        "source": "jira",
        "ticket_id": ticket,
        "request_type": "erasure",
        "jurisdiction": "GDPR",
        "identities": {"email": EMAIL, "phone": "+44 (20) 7946-0958"},
    }
    data.update(overrides)
    return parse_new_request(data)


# -- due dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (_at(2026, 1, 31), _at(2026, 2, 28)),  # month end: the month's last day
        (_at(2028, 1, 31), _at(2028, 2, 29)),  # leap year
        (_at(2026, 1, 15), _at(2026, 2, 15)),  # the corresponding day
        (_at(2026, 3, 31), _at(2026, 4, 30)),
        (_at(2026, 12, 31), _at(2027, 1, 31)),  # across the year
        (_at(2028, 2, 29), _at(2028, 3, 29)),
    ],
)
def test_gdpr_due_one_calendar_month_from_receipt(received, due):
    assert due_date("GDPR", received) == due


def test_gdpr_extension_adds_two_months_counted_from_receipt():
    assert extended_due_date("GDPR", _at(2026, 1, 31)) == _at(2026, 4, 30)
    assert extended_due_date("GDPR", _at(2027, 11, 30)) == _at(2028, 2, 29)


def test_ccpa_due_after_45_days_and_extension_once_by_45_more():
    assert due_date("CCPA", _at(2026, 1, 31)) == _at(2026, 3, 17)
    assert due_date("CCPA", _at(2028, 1, 31)) == _at(2028, 3, 16)  # Feb 29 counts
    assert extended_due_date("CCPA", _at(2026, 1, 31)) == _at(2026, 5, 1)


def test_add_months_keeps_time_of_day_and_clamps():
    assert add_months(_at(2026, 8, 31), 1) == _at(2026, 9, 30)
    assert add_months(_at(2026, 11, 30), 3) == _at(2027, 2, 28)


def test_unknown_jurisdiction_is_refused():
    with pytest.raises(ValueError, match="jurisdiction"):
        due_date("LGPD", _at(2026, 1, 1))


# -- validation -------------------------------------------------------------------------------


def test_identities_are_normalised():
    ids = Identities(email=" Jane.Doe@Example.COM ", phone="0044 20 7946 0958")
    assert ids.email == "jane.doe@example.com"
    assert ids.phone == "+442079460958"
    assert Identities(phone="+1 (415) 555-0100").phone == "+14155550100"


def test_type_and_jurisdiction_are_case_insensitive():
    new = _new(request_type="OPT_OUT", jurisdiction="ccpa")
    assert (new.request_type, new.jurisdiction) == ("opt-out", "CCPA")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"request_type": "delete-everything"}, "request_type"),
        ({"jurisdiction": "LGPD"}, "jurisdiction"),
        ({"identities": {}}, "identities"),
        ({"identities": {"email": "jane.doe-at-example"}}, "identities.email"),
        ({"identities": {"phone": "call me"}}, "identities.phone"),
        ({"identities": {"email": EMAIL, "name": "Jane"}}, "identities.name"),
        ({"ticket_id": ""}, "ticket_id"),
        ({"request_type": "correction"}, "corrections"),
        ({"request_type": "correction", "corrections": {"email": "x"}}, "corrections"),
        ({"corrections": {"customers.email": "new@example.com"}}, "corrections"),
        ({"ticket_id": "PRIV-\x00"}, "ticket_id"),
        ({"ticket_id": "PRIV-\u202e1"}, "ticket_id"),
        ({"identities": {"email": "jane\x00@example.com"}}, "identities.email"),
        ({"identities": {"email": "jane\u2067@example.com"}}, "identities.email"),
        ({"identities": {"customer_id": "C-\u200f1"}}, "identities.customer_id"),
        ({"request_type": "correction", "corrections": {"c.f": {"a": "jane"}}}, "corrections"),
        ({"request_type": "correction", "corrections": {"c.f": ["jane"]}}, "corrections"),
        ({"request_type": "correction", "corrections": {"c.f": "jane\x00"}}, "corrections"),
        ({"request_type": "correction", "corrections": {"c.f": float("nan")}}, "corrections"),
    ],
)
def test_invalid_requests_name_the_field_and_never_echo_values(overrides, field):
    with pytest.raises(InvalidRequestError) as caught:
        _new(**overrides)
    fields = [f for f, _ in caught.value.issues]
    assert field in fields, caught.value.issues
    message = str(caught.value).lower()
    for secret in ("jane", "example", "call me", "delete-everything", "lgpd", "new@"):
        assert secret not in message


def test_correction_request_keeps_its_corrections():
    new = _new(request_type="correction", corrections={"customers.email": "new@example.com"})
    assert new.corrections == {"customers.email": "new@example.com"}


# -- the store -------------------------------------------------------------------------------


def test_create_stores_request_with_due_date(store_engine):
    now = _at(2026, 1, 31)
    created = create_request(store_engine, _new(), now=now)
    assert created.created and created.status == "received"
    assert created.due_at == _at(2026, 2, 28)
    row = load_request(store_engine, created.public_id)
    assert row.identities == {"email": "jane.doe@example.com", "phone": "+442079460958"}
    assert (row.source, row.ticket_id, row.request_type) == ("jira", "PRIV-1", "erasure")
    assert row.received_at == now and row.extended_until is None and row.flow_run_id is None


def test_same_ticket_twice_returns_the_existing_request(store_engine):
    first = create_request(store_engine, _new(), delivery_id="d1")
    again = create_request(store_engine, _new(request_type="access"), delivery_id="d2")
    assert (again.public_id, again.created) == (first.public_id, False)
    other_source = create_request(store_engine, _new(source="zendesk"))
    assert other_source.public_id != first.public_id
    with session_scope(store_engine) as session:
        assert session.scalar(select(func.count()).select_from(DsrRequest)) == 2
        assert load_request(store_engine, first.public_id).request_type == "erasure"


def test_concurrent_deliveries_of_one_ticket_store_one_request(store_engine):
    ids: list[str] = []

    def deliver(n: int) -> None:
        ids.append(create_request(store_engine, _new(), delivery_id=f"d{n}").public_id)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1 and len(ids) == 6


def test_replayed_delivery_is_refused_and_stores_nothing(store_engine):
    create_request(store_engine, _new("PRIV-1"), delivery_id="same")
    with pytest.raises(ReplayedDeliveryError):
        create_request(store_engine, _new("PRIV-2"), delivery_id="same")
    with session_scope(store_engine) as session:
        assert session.scalar(select(func.count()).select_from(DsrRequest)) == 1
        assert session.scalar(select(func.count()).select_from(IntakeDelivery)) == 1


def test_status_changes_and_unknown_status(store_engine):
    public_id = create_request(store_engine, _new()).public_id
    set_status(store_engine, public_id, "in_progress", "plan: 3 datastores")
    row = load_request(store_engine, public_id)
    assert (row.status, row.status_detail) == ("in_progress", "plan: 3 datastores")
    with pytest.raises(PermanentError, match="unknown request status"):
        set_status(store_engine, public_id, "done")


def test_missing_request_names_only_the_id(store_engine):
    with pytest.raises(NotFoundError, match="no-such-id"):
        load_request(store_engine, "no-such-id")
    with pytest.raises(NotFoundError):
        set_status(store_engine, "no-such-id", "completed")


def test_extension_applies_once(store_engine):
    created = create_request(store_engine, _new(jurisdiction="CCPA"), now=_at(2026, 1, 31))
    until = extend_deadline(store_engine, created.public_id)
    assert until == _at(2026, 1, 31) + timedelta(days=90)
    assert load_request(store_engine, created.public_id).extended_until == until
    with pytest.raises(PermanentError, match="already extended"):
        extend_deadline(store_engine, created.public_id)


def test_pending_starts_lists_requests_without_a_flow_run(store_engine):
    a = create_request(store_engine, _new("A"), now=_at(2026, 1, 1)).public_id
    b = create_request(store_engine, _new("B"), now=_at(2026, 1, 2)).public_id
    c = create_request(store_engine, _new("C"), now=_at(2026, 1, 3)).public_id
    record_start_failure(store_engine, a)
    record_flow_run(store_engine, b, "run-b")
    set_status(store_engine, c, "rejected")
    assert pending_starts(store_engine) == [a]
    assert load_request(store_engine, a).start_attempts == 1
    assert load_request(store_engine, b).flow_run_id == "run-b"


def test_prune_forgets_old_signatures_but_keeps_delivery_ids(store_engine):
    old, recent = _at(2026, 1, 1), _at(2026, 1, 2)
    create_request(store_engine, _new("A"), delivery_id="sig:aaa", now=old)
    create_request(store_engine, _new("B"), delivery_id="jira:123", now=old)
    create_request(store_engine, _new("C"), delivery_id="sig:ccc", now=recent)
    assert prune_deliveries(store_engine, recent) == 1
    with session_scope(store_engine) as session:
        kept = set(session.scalars(select(IntakeDelivery.delivery_id)))
    assert kept == {"jira:123", "sig:ccc"}


def test_prune_forgets_delivery_ids_past_their_retention(store_engine):
    old, recent = _at(2026, 1, 1), _at(2026, 3, 1)
    create_request(store_engine, _new("A"), delivery_id="jira:old", now=old)
    create_request(store_engine, _new("B"), delivery_id="jira:new", now=recent)
    create_request(store_engine, _new("C"), delivery_id="sig:old", now=old)
    assert prune_deliveries(store_engine, recent, ids_before=_at(2026, 2, 1)) == 2
    assert prune_deliveries(store_engine, recent, ids_before=_at(2026, 2, 1)) == 0
    with session_scope(store_engine) as session:
        kept = set(session.scalars(select(IntakeDelivery.delivery_id)))
    assert kept == {"jira:new"}
