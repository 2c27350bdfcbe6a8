"""Ticket updates (comment + status) against the local fake of Jira, ServiceNow and Zendesk."""

from __future__ import annotations

import pytest

from infra.sandbox.ticket_fake import TicketFake
from tasks.errors import ConfigurationError, PermanentError, ServiceUnavailableError
from tasks.privacy.tickets import (
    JiraClient,
    NullTicketClient,
    ServiceNowClient,
    TicketClient,
    ZendeskClient,
    ticket_client_for,
)

REQUEST = "3f1c9a52-7c1e-4d1b-9a6f-0c2b9d8e7a10"


@pytest.fixture(scope="module")
def fake():
    with TicketFake() as server:
        yield server


@pytest.fixture(autouse=True)
def _reset(fake):
    fake.calls.clear()
    fake.tickets.clear()
    fake.fail_with = None


@pytest.fixture
def env(fake, monkeypatch):
    for system in ("JIRA", "SERVICENOW", "ZENDESK"):
        monkeypatch.setenv(f"TRACEO_{system}_URL", fake.url)
    monkeypatch.setenv("TRACEO_JIRA_USER", "bot@corp.test")
    monkeypatch.setenv("TRACEO_JIRA_TOKEN", "jira-token")
    monkeypatch.setenv("TRACEO_SERVICENOW_USER", "traceo")
    monkeypatch.setenv("TRACEO_SERVICENOW_PASSWORD", "sn-password")
    monkeypatch.setenv("TRACEO_SERVICENOW_TABLE", "sc_req_item")
    monkeypatch.setenv("TRACEO_ZENDESK_EMAIL", "bot@corp.test")
    monkeypatch.setenv("TRACEO_ZENDESK_TOKEN", "zd-token")


def test_jira_comment_and_transition_by_name(fake, env):
    client = ticket_client_for("jira")
    assert isinstance(client, JiraClient) and isinstance(client, TicketClient)
    client.comment("PRIV-7", f"request {REQUEST}: erased 3 records in 2 datastores")
    client.set_status("PRIV-7", "completed")
    ticket = fake.ticket("jira", "PRIV-7")
    assert ticket.comments == [f"request {REQUEST}: erased 3 records in 2 datastores"]
    assert ticket.status == "Done"
    assert [c.method for c in fake.calls] == ["POST", "GET", "POST"]
    assert fake.calls[-1].body == {"transition": {"id": "21"}}


def test_servicenow_work_notes_and_state(fake, env):
    client = ticket_client_for("servicenow")
    assert isinstance(client, ServiceNowClient) and client.table == "sc_req_item"
    client.comment("a1b2c3", f"request {REQUEST}: in progress")
    client.set_status("a1b2c3", "in_progress")
    ticket = fake.ticket("servicenow", "a1b2c3")
    assert ticket.comments == [f"request {REQUEST}: in progress"] and ticket.status == "2"
    assert [c.body for c in fake.calls] == [
        {"work_notes": f"request {REQUEST}: in progress"},
        {"state": "2"},
    ]


def test_zendesk_private_comment_and_status(fake, env):
    client = ticket_client_for("zendesk")
    assert isinstance(client, ZendeskClient)
    client.comment("4242", f"request {REQUEST}: waiting for a datastore")
    client.set_status("4242", "waiting")
    ticket = fake.ticket("zendesk", "4242")
    assert ticket.status == "hold"
    assert fake.calls[0].body["ticket"]["comment"]["public"] is False


def test_status_without_a_mapping_sends_nothing(fake, env):
    ticket_client_for("zendesk").set_status("4242", "received")
    assert fake.calls == []


def test_comment_with_an_email_address_is_refused_before_sending(fake, env):
    with pytest.raises(PermanentError, match="e-mail"):
        ticket_client_for("jira").comment("PRIV-7", "erased jane@example.com")
    with pytest.raises(PermanentError):
        NullTicketClient().comment("x", "jane@example.com")
    assert fake.calls == []


def test_server_errors_are_transient_and_name_the_ticket(fake, env):
    fake.fail_with = 503
    with pytest.raises(ServiceUnavailableError, match="4242"):
        ticket_client_for("zendesk").comment("4242", "progress")


def test_refused_credentials_are_a_configuration_error(fake):
    client = ServiceNowClient(fake.url, ("traceo", "pw"))
    client._http.auth = None  # what a missing credential looks like to the server
    with pytest.raises(ConfigurationError, match="credentials"):
        client.comment("a1b2c3", "progress")


def test_unreachable_system_is_transient():
    client = JiraClient("http://127.0.0.1:9", ("u", "t"), timeout=1)
    with pytest.raises(ServiceUnavailableError, match="PRIV-1"):
        client.comment("PRIV-1", "progress")


def test_jira_without_the_wanted_transition_is_a_configuration_error(fake, env):
    client = ticket_client_for("jira")
    client.transitions = {"completed": "Closed"}
    with pytest.raises(ConfigurationError, match="Closed"):
        client.set_status("PRIV-7", "completed")


def test_generic_and_cli_requests_have_no_ticketing_system(fake):
    for source in ("generic", "cli"):
        client = ticket_client_for(source)
        client.comment("T-1", "done")
        client.set_status("T-1", "completed")
    assert fake.calls == []


def test_missing_configuration_names_the_variable(monkeypatch):
    monkeypatch.delenv("TRACEO_JIRA_URL", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with pytest.raises(ConfigurationError, match="TRACEO_JIRA_URL"):
        ticket_client_for("jira")
    monkeypatch.setenv("TRACEO_JIRA_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("TRACEO_JIRA_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="TRACEO_JIRA_TOKEN"):
        ticket_client_for("jira")
    with pytest.raises(ConfigurationError):
        ticket_client_for("email")
