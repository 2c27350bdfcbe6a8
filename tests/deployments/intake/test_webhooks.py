"""DSR webhooks: every signing scheme accepted / refused, stored once, the flow started once."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from deployments.intake.body import MAX_BODY_BYTES
from deployments.intake.signing import sign_request
from deployments.intake.starter import start_pending
from tasks.errors import ServiceUnavailableError
from tasks.privacy.requests import load_request, pending_starts
from tasks.store import get_engine, session_scope
from tasks.store.privacy_models import DsrRequest
from tests.deployments.intake.conftest import EMAIL, NOW, SECRETS, dsr_payload, running_intake

SOURCES = ["jira", "servicenow", "zendesk", "generic"]
TIMESTAMPED = ["servicenow", "zendesk", "generic"]


def _count(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(DsrRequest))


@pytest.mark.parametrize("source", SOURCES)
def test_signed_request_is_stored_answered_202_and_started_with_only_its_id(
    intake_any_store, source
):
    response = intake_any_store.dsr(source, dsr_payload(source, "T-9"))
    assert response.status_code == 202, response.text
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert set(answer) == {"request_id", "status", "due_at", "duplicate"}
    request_id = answer["request_id"]
    assert answer["status"] == "received" and answer["duplicate"] is False
    assert answer["due_at"].startswith("2026-02-28")  # GDPR: Jan 31 + one month
    row = load_request(intake_any_store.engine, request_id)
    assert (row.source, row.ticket_id, row.request_type) == (source, "T-9", "erasure")
    assert row.identities == {"email": EMAIL.lower(), "phone": "+442079460958"}
    assert intake_any_store.starter.calls == [
        (
            "data-subject-request/fulfil-data-subject-request",
            {"request_id": request_id},
            f"dsr-{request_id}",
        )
    ]
    assert row.flow_run_id == "00000000-0000-4000-8000-000000000001"
    assert EMAIL.lower() not in response.text.lower()


@pytest.mark.parametrize("source", SOURCES)
def test_forged_signature_gets_401_and_stores_nothing(intake, source):
    response = intake.dsr(source, dsr_payload(source), secret="not-the-secret")
    assert response.status_code == 401
    assert _count(intake.engine) == 0 and intake.starter.calls == []


@pytest.mark.parametrize("source", SOURCES)
def test_unsigned_request_gets_401(intake, source):
    response = intake.dsr(source, dsr_payload(source), headers={})
    assert response.status_code == 401
    assert "missing header" in response.json()["detail"]
    assert _count(intake.engine) == 0 and intake.starter.calls == []


@pytest.mark.parametrize("source", SOURCES)
def test_body_changed_after_signing_gets_401(intake, source):
    signed = json.dumps(dsr_payload(source, "T-1")).encode()
    headers = sign_request(source, signed, SECRETS[source], NOW)
    response = intake.dsr(source, dsr_payload(source, "T-2"), headers=headers)
    assert response.status_code == 401 and _count(intake.engine) == 0


@pytest.mark.parametrize("source", TIMESTAMPED)
@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_stale_or_future_timestamp_gets_401(intake, source, skew):
    response = intake.dsr(source, dsr_payload(source), at=NOW + skew)
    assert response.status_code == 401
    assert "replay window" in response.json()["detail"]
    assert _count(intake.engine) == 0 and intake.starter.calls == []


@pytest.mark.parametrize("source", TIMESTAMPED)
def test_timestamp_inside_the_window_is_accepted(intake, source):
    assert intake.dsr(source, dsr_payload(source), at=NOW - timedelta(minutes=4)).status_code == 202


@pytest.mark.parametrize("source", SOURCES)
def test_replayed_request_gets_401_and_changes_nothing(intake_any_store, source):
    payload = json.dumps(dsr_payload(source, "T-1")).encode()
    headers = sign_request(source, payload, SECRETS[source], NOW)
    assert intake_any_store.dsr(source, payload, headers=headers).status_code == 202
    replay = intake_any_store.dsr(source, payload, headers=headers)
    assert replay.status_code == 401 and "already accepted" in replay.json()["detail"]
    assert _count(intake_any_store.engine) == 1 and len(intake_any_store.starter.calls) == 1


def test_jira_delivery_id_cannot_be_reused_for_another_body(intake):
    first = intake.dsr("jira", dsr_payload("jira", "PRIV-1"), delivery_id="abc-123")
    assert first.status_code == 202
    again = intake.dsr("jira", dsr_payload("jira", "PRIV-2"), delivery_id="abc-123")
    assert again.status_code == 401
    assert _count(intake.engine) == 1


def test_same_ticket_twice_returns_the_existing_request_without_a_second_run(intake_any_store):
    first = intake_any_store.dsr("zendesk", dsr_payload("zendesk", "4242"))
    later = NOW + timedelta(seconds=30)
    second = intake_any_store.dsr(
        "zendesk", dsr_payload("zendesk", "4242", request_type="access"), at=later
    )
    assert first.status_code == 202 and second.status_code == 200
    assert second.json() == {"duplicate": True}
    assert _count(intake_any_store.engine) == 1 and len(intake_any_store.starter.calls) == 1


@pytest.mark.parametrize(
    ("source", "fields", "named"),
    [
        ("jira", {"request_type": "forget-me"}, "issue.fields.dsr_type"),
        ("jira", {"email": "not-an-address"}, "issue.fields.dsr_email"),
        ("servicenow", {"jurisdiction": "PIPEDA"}, "variables.jurisdiction"),
        ("zendesk", {"phone": "call me maybe"}, "ticket.phone"),
        ("generic", {"email": None, "phone": None}, "identities"),
        ("generic", {"request_type": "correction"}, "corrections"),
    ],
)
def test_invalid_payload_gets_422_naming_the_field_without_echoing_it(
    intake, source, fields, named
):
    response = intake.dsr(source, dsr_payload(source, **fields))
    assert response.status_code == 422, response.text
    assert named in [f["field"] for f in response.json()["fields"]]
    for value in ("jane", "forget-me", "not-an-address", "pipeda", "call me", "7946"):
        assert value not in response.text.lower()
    assert _count(intake.engine) == 0 and intake.starter.calls == []


@pytest.mark.parametrize(
    ("source", "payload", "named"),
    [
        ("jira", {"webhookEvent": "jira:issue_created"}, "issue"),
        ("servicenow", {"sys_id": "x"}, "variables"),
        ("zendesk", {"ticket": {"request_type": "access", "email": EMAIL}}, "ticket.id"),
        ("generic", b"{not json", "body"),
        ("generic", [1, 2], "body"),
    ],
)
def test_malformed_bodies_get_422(intake, source, payload, named):
    response = intake.dsr(source, payload)
    assert response.status_code == 422
    assert named in [f["field"] for f in response.json()["fields"]]


def test_oversized_body_is_413_before_anything_else(intake):
    payload = dsr_payload("generic", "T-1", customer_id="x" * (MAX_BODY_BYTES + 1))
    response = intake.dsr("generic", payload)
    assert response.status_code == 413 and _count(intake.engine) == 0


def test_store_down_is_503_and_the_sender_can_retry():
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine

    from deployments.intake.app import create_app
    from tests.deployments.intake.conftest import FakeStarter

    down = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    starter = FakeStarter()
    app = create_app(down, starter, SECRETS, clock=lambda: NOW)
    body = json.dumps(dsr_payload("generic")).encode()
    headers = sign_request("generic", body, SECRETS["generic"], NOW)
    with TestClient(app) as client:
        response = client.post("/v1/dsr/generic", content=body, headers=headers)
    assert response.status_code == 503 and starter.calls == []
    assert "jane" not in response.text.lower()


def test_unknown_source_is_404(intake):
    assert intake.client.post("/v1/dsr/email", content=b"{}").status_code == 404


def test_webhook_paths_outside_the_route_are_not_answered_by_it(intake):
    get = intake.client.get("/v1/dsr/generic")
    assert (get.status_code, get.headers["allow"]) == (405, "POST")
    assert intake.client.post("/v1/dsr/generic/more", content=b"{}").status_code == 404
    assert intake.client.post("/v1/dsr/", content=b"{}").status_code == 404


def test_jira_field_names_are_configurable(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEO_INTAKE_JIRA_FIELDS", json.dumps({"email": "customfield_10051"}))
    payload = dsr_payload("jira", "PRIV-3", phone=None)
    payload["issue"]["fields"]["customfield_10051"] = payload["issue"]["fields"].pop("dsr_email")
    with running_intake(get_engine(f"sqlite:///{tmp_path / 'intake.db'}")) as intake:
        assert intake.dsr("jira", payload).status_code == 202


def test_prefect_down_leaves_the_request_received_and_startable_later(intake_any_store):
    intake_any_store.starter.fail = ServiceUnavailableError("Prefect API unreachable: ConnectError")
    response = intake_any_store.dsr("generic", dsr_payload("generic"))
    assert response.status_code == 202
    request_id = response.json()["request_id"]
    row = load_request(intake_any_store.engine, request_id)
    assert (row.status, row.flow_run_id, row.start_attempts) == ("received", None, 1)
    assert pending_starts(intake_any_store.engine) == [request_id]

    intake_any_store.starter.fail = None
    assert start_pending(intake_any_store.engine, intake_any_store.starter) == (1, 0)
    assert intake_any_store.starter.calls[0][1] == {"request_id": request_id}
    assert load_request(intake_any_store.engine, request_id).flow_run_id is not None
    assert start_pending(intake_any_store.engine, intake_any_store.starter) == (0, 0)


def test_no_personal_data_or_secret_in_logs(intake, caplog):
    caplog.set_level(logging.DEBUG)
    intake.dsr("jira", dsr_payload("jira", "PRIV-5"))
    intake.dsr("jira", dsr_payload("jira", "PRIV-6"), secret="wrong")
    intake.dsr("jira", dsr_payload("jira", "PRIV-7", email="bad-address"))
    text = caplog.text.lower()
    assert "received from jira" in text and "rejected jira" in text
    for value in ("jane.doe", "7946", "bad-address", "jira-secret"):
        assert value not in text


def test_health_endpoint_is_unsigned(intake):
    assert intake.client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a": ' * 40 + b"1" + b"}" * 40])
def test_a_deeply_nested_body_is_a_422_naming_the_body_not_a_500(intake, body):
    response = intake.dsr("generic", body)
    assert response.status_code == 422
    assert response.json()["fields"] == [
        {"field": "body", "reason": "nested deeper than 32 levels"}
    ]
    assert _count(intake.engine) == 0


def test_brackets_inside_strings_do_not_count_as_nesting(intake):
    payload = dsr_payload("generic", "T-9", customer_id="[" * 40 + '\\"{' * 20)
    response = intake.dsr("generic", json.dumps(payload).encode())
    assert response.status_code == 202, response.text
