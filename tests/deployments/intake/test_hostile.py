"""Hostile webhooks: a 4xx naming the field (never a value), nothing stored, nothing leaked."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import func, select

from deployments.intake.signing import JIRA_DELIVERY, sign_request
from tasks.store import session_scope
from tasks.store.privacy_models import DsrRequest, IntakeDelivery
from tests.deployments.intake.conftest import NOW, SECRETS, dsr_payload
from tests.deployments.intake.test_runs import REINGEST

NUL, RLO, LRI = "\x00", "\u202e", "\u2066"


def _count(engine, model=DsrRequest) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def _fields(response) -> list[str]:
    return [f["field"] for f in response.json()["fields"]]


def _with_ticket(source: str, ticket: str) -> dict:
    payload = dsr_payload(source, "T-1")
    if source == "jira":
        payload["issue"]["key"] = ticket
    elif source == "servicenow":
        payload["sys_id"] = ticket
    elif source == "zendesk":
        payload["ticket"]["id"] = ticket
    else:
        payload["ticket_id"] = ticket
    return payload


@pytest.mark.parametrize(
    ("source", "ticket", "named"),
    [
        ("generic", f"T-{NUL}-1", "ticket_id"),
        ("jira", f"PRIV-1{RLO}2", "issue.key"),
        ("servicenow", "9d38\x1b[31m", "sys_id"),
        ("zendesk", f"{LRI}4242", "ticket.id"),
    ],
)
def test_control_or_bidi_characters_in_a_ticket_id_are_a_422_on_every_store(
    intake_any_store, caplog, source, ticket, named
):
    caplog.set_level(logging.DEBUG)
    response = intake_any_store.dsr(source, _with_ticket(source, ticket))
    assert response.status_code == 422, response.text
    assert _fields(response) == [named]
    assert ticket not in response.text and ticket not in caplog.text
    assert "parameters" not in caplog.text.lower()
    assert _count(intake_any_store.engine) == 0


@pytest.mark.parametrize(
    ("source", "identities", "named"),
    [
        ("generic", {"email": f"jane{NUL}@example.com"}, "identities.email"),
        ("generic", {"email": f"jane@exa{RLO}elpmaxe.com"}, "identities.email"),
        ("generic", {"customer_id": "C-\ud800"}, "identities.customer_id"),
        ("jira", {"email": f"jane{LRI}@example.com"}, "issue.fields.dsr_email"),
        ("zendesk", {"email": "jane\u200b@example.com"}, "ticket.email"),
        ("servicenow", {"customer_id": "C-1\x07"}, "variables.customer_id"),
    ],
)
def test_control_or_bidi_characters_in_an_identity_are_a_422_on_every_store(
    intake_any_store, source, identities, named
):
    payload = dsr_payload(source, "T-1", **{"email": None, "phone": None, **identities})
    response = intake_any_store.dsr(source, payload)
    assert response.status_code == 422, response.text
    assert named in _fields(response)
    assert "jane" not in response.text and "C-1" not in response.text
    assert _count(intake_any_store.engine) == 0


@pytest.mark.parametrize(
    "value", [{"nested": "x"}, ["Oslo"], float("nan"), float("inf"), f"Os{NUL}lo", f"Oslo{RLO}"]
)
@pytest.mark.parametrize(
    ("source", "named"), [("generic", "corrections"), ("jira", "issue.fields.dsr_corrections")]
)
def test_a_correction_value_that_is_not_a_plain_scalar_is_a_422_on_every_store(
    intake_any_store, source, named, value
):
    payload = dsr_payload(
        source, "T-1", request_type="correction", corrections={"customers.city": value}
    )
    response = intake_any_store.dsr(source, payload)
    assert response.status_code == 422, response.text
    assert _fields(response) == [named]
    assert "Oslo" not in response.text
    assert _count(intake_any_store.engine) == 0


def test_a_multi_line_correction_value_is_accepted(intake):
    payload = dsr_payload(
        "generic", "T-1", request_type="correction", corrections={"customers.address": "1\n2"}
    )
    assert intake.dsr("generic", payload).status_code == 202


@pytest.mark.parametrize("delivery", [b"abc\xe2\x80\xae", b"abc\x1b[2J", b"d" * 201])
def test_a_jira_delivery_id_with_control_characters_or_too_long_is_a_422(intake, delivery):
    body = json.dumps(dsr_payload("jira", "PRIV-1")).encode()
    signed = sign_request("jira", body, SECRETS["jira"], NOW)
    headers = {"X-Hub-Signature": signed["X-Hub-Signature"].encode(), JIRA_DELIVERY: delivery}
    response = intake.client.post("/v1/dsr/jira", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert _fields(response) == [JIRA_DELIVERY]
    assert _count(intake.engine) == 0 and _count(intake.engine, IntakeDelivery) == 0


def test_a_captured_jira_body_resent_with_a_new_delivery_id_learns_only_duplicate(intake):
    body = json.dumps(dsr_payload("jira", "PRIV-1")).encode()
    headers = sign_request("jira", body, SECRETS["jira"], NOW, delivery_id="original")
    first = intake.dsr("jira", body, headers=headers)
    assert first.status_code == 202
    replay = intake.dsr("jira", body, headers={**headers, "X-Atlassian-Webhook-Identifier": "new"})
    assert replay.status_code == 200
    assert replay.json() == {"duplicate": True}
    assert first.json()["request_id"] not in replay.text
    assert first.json()["due_at"][:10] not in replay.text
    assert _count(intake.engine) == 1 and len(intake.starter.calls) == 1


def test_a_generic_sender_cannot_claim_another_source_s_ticket(intake):
    assert intake.dsr("jira", dsr_payload("jira", "PRIV-1")).status_code == 202
    claimed = intake.dsr("generic", {**dsr_payload("generic", "PRIV-1"), "source": "jira"})
    assert claimed.status_code == 202, claimed.text
    assert claimed.json()["duplicate"] is False
    with session_scope(intake.engine) as session:
        assert sorted(session.scalars(select(DsrRequest.source))) == ["generic", "jira"]


@pytest.mark.parametrize(
    "stamp", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "not a time"]
)
def test_an_unsigned_zendesk_timestamp_out_of_range_is_401_not_500(intake, stamp):
    headers = {
        "X-Zendesk-Webhook-Signature": "AAAA",
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }
    response = intake.dsr("zendesk", dsr_payload("zendesk"), headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize("stamp", ["\u00b2", "9" * 40])
def test_a_traceo_timestamp_that_is_not_unix_seconds_is_401_not_500(intake, stamp):
    body = json.dumps(dsr_payload("generic")).encode()
    signature = sign_request("generic", body, SECRETS["generic"], NOW)["X-Traceo-Signature"]
    headers = {"X-Traceo-Signature": signature, "X-Traceo-Timestamp": stamp}
    response = intake.dsr("generic", body, headers={k: v.encode() for k, v in headers.items()})
    assert response.status_code == 401


@pytest.mark.parametrize("body", [b"[" * 100_000, b"{not json", b'{"a": ' * 40 + b"1" + b"}" * 40])
def test_the_signature_is_checked_before_the_body_is_parsed(intake, body):
    response = intake.dsr("generic", body, secret="not-the-secret")
    assert response.status_code == 401
    assert _count(intake.engine) == 0


@pytest.mark.parametrize("ticket", [f"FIN-{NUL}1", f"FIN-1{RLO}", "F" * 201])
def test_a_run_request_ticket_with_control_characters_or_too_long_is_a_422(intake, ticket):
    response = intake.run("generic", {**REINGEST, "ticket": ticket})
    assert response.status_code == 422, response.text
    assert _fields(response) == ["ticket"]
    assert intake.starter.calls == [] and _count(intake.engine, IntakeDelivery) == 0
