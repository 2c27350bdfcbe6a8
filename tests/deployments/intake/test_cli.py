"""``traceo dsr submit`` and ``traceo intake start-pending``."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from deployments.cli_intake import intake, submit
from tasks.errors import ServiceUnavailableError
from tasks.privacy.requests import load_request
from tasks.store import get_engine
from tests.deployments.intake.conftest import FakeStarter

ARGS = ["--type", "erasure", "--jurisdiction", "GDPR", "--email", "Jane@Example.com"]


@pytest.fixture
def starter(monkeypatch) -> FakeStarter:
    fake = FakeStarter()
    monkeypatch.setattr("deployments.intake.starter.PrefectStarter", lambda: fake)
    return fake


def _request_id(output: str) -> str:
    return re.search(r"request ([0-9a-f-]{36}) received", output).group(1)


def test_submit_stores_the_request_and_starts_it_with_only_its_id(starter):
    result = CliRunner().invoke(submit, [*ARGS, "--ticket", "OPS-1"])
    assert result.exit_code == 0, result.output
    request_id = _request_id(result.output)
    assert "due 20" in result.output and "jane@example.com" not in result.output.lower()
    assert starter.calls == [
        (
            "data-subject-request/fulfil-data-subject-request",
            {"request_id": request_id},
            f"dsr-{request_id}",
        )
    ]
    row = load_request(get_engine(), request_id)
    assert (row.source, row.ticket_id, row.identities) == (
        "cli",
        "OPS-1",
        {"email": "jane@example.com"},
    )


def test_submit_same_ticket_twice_reports_the_existing_request(starter):
    first = CliRunner().invoke(submit, [*ARGS, "--ticket", "OPS-2"])
    second = CliRunner().invoke(submit, [*ARGS, "--ticket", "OPS-2"])
    assert f"already request {_request_id(first.output)}" in second.output
    assert len(starter.calls) == 1


def test_submit_rejects_bad_identities_without_echoing_them(starter):
    result = CliRunner().invoke(
        submit,
        ["--type", "access", "--jurisdiction", "CCPA", "--phone", "ring me", "--ticket", "X"],
    )
    assert result.exit_code == 2
    assert "identities.phone" in result.output and "ring me" not in result.output
    assert starter.calls == []


def test_correction_values_come_from_set_options(starter):
    result = CliRunner().invoke(
        submit,
        [*ARGS[:1], "correction", *ARGS[2:], "--ticket", "OPS-3", "--set", "customers.city=Oslo"],
    )
    assert result.exit_code == 0, result.output
    row = load_request(get_engine(), _request_id(result.output))
    assert row.corrections == {"customers.city": "Oslo"}


def test_prefect_down_keeps_the_request_and_start_pending_starts_it_later(starter):
    starter.fail = ServiceUnavailableError("Prefect API unreachable")
    result = CliRunner().invoke(submit, [*ARGS, "--ticket", "OPS-4"])
    assert result.exit_code == 1 and "start-pending" in result.output
    request_id = _request_id(result.output)
    assert load_request(get_engine(), request_id).status == "received"

    assert CliRunner().invoke(intake, ["start-pending"]).exit_code == 1
    starter.fail = None
    result = CliRunner().invoke(intake, ["start-pending"])
    assert result.exit_code == 0 and "started 1" in result.output
    assert starter.calls[0][1] == {"request_id": request_id}


def test_serve_with_a_malformed_jira_field_mapping_stops_in_one_line(monkeypatch):
    served = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: served.append(app))
    monkeypatch.setenv("TRACEO_INTAKE_SECRET_JIRA", "jira-secret")
    monkeypatch.setenv("TRACEO_INTAKE_JIRA_FIELDS", '["email"]')
    result = CliRunner().invoke(intake, ["serve", "--retry-every", "0"])
    assert result.exit_code == 2 and served == []
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "TRACEO_INTAKE_JIRA_FIELDS" in lines[0]


def test_files_are_served_only_with_the_flag(monkeypatch, traceo_home):
    from fastapi.testclient import TestClient

    served = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: served.append(app))
    monkeypatch.setenv("TRACEO_INTAKE_SECRET_JIRA", "jira-secret")
    statement = traceo_home / "chargeback" / "2026-11" / "summary.md"
    statement.parent.mkdir(parents=True)
    statement.write_text("# November")

    for args in (["--retry-every", "0"], ["--retry-every", "0", "--serve-files"]):
        assert CliRunner().invoke(intake, ["serve", *args]).exit_code == 0
    plain, with_files = (TestClient(app) for app in served)
    assert plain.get("/files/chargeback/2026-11/summary.md").status_code == 404
    assert with_files.get("/files/chargeback/2026-11/summary.md").text == "# November"
