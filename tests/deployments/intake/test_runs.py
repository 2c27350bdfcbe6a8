"""Signed requests to run an allowlisted deployment with allowlisted parameters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deployments.intake.allowlist import Allowlist, NotAllowedError, load_allowlist
from tasks.errors import NotFoundError, ServiceUnavailableError, SpecError
from tasks.privacy.requests import InvalidRequestError
from tests.deployments.intake.conftest import NOW

REINGEST = {
    "deployment": "cost-ingestion/cost-ingestion-aws",
    "parameters": {"start": "2026-11-01", "end": "2026-11-30"},
    "ticket": "FIN-12",
}


def test_allowlisted_run_answers_with_the_flow_run_and_its_link(intake):
    from prefect.settings import PREFECT_UI_URL, temporary_settings

    with temporary_settings({PREFECT_UI_URL: "http://prefect.internal:4200"}):
        response = intake.run("jira", REINGEST)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["flow_run_id"] == "00000000-0000-4000-8000-000000000001"
    assert answer["ui_url"] == (
        "http://prefect.internal:4200/runs/flow-run/00000000-0000-4000-8000-000000000001"
    )
    ((deployment, parameters, key),) = intake.starter.calls
    assert deployment == "cost-ingestion/cost-ingestion-aws"
    assert parameters == {"start": "2026-11-01", "end": "2026-11-30"}
    assert key.startswith("intake-jira-FIN-12-cost-ingestion/cost-ingestion-aws-")


def test_same_ticket_and_parameters_reuse_the_idempotency_key(intake):
    intake.run("generic", REINGEST)
    resent = intake.run("generic", REINGEST, at=NOW + timedelta(seconds=5))  # not a replay
    assert resent.status_code == 202
    other = {**REINGEST, "parameters": {"start": "2026-10-01", "end": "2026-10-31"}}
    intake.run("generic", other)
    keys = [call[2] for call in intake.starter.calls]
    assert keys[0] == keys[1] != keys[2]


def test_deployment_not_on_the_allowlist_is_403(intake):
    response = intake.run("jira", {**REINGEST, "deployment": "data-subject-request/anything"})
    assert response.status_code == 403
    assert "not on the allowlist" in response.json()["detail"]
    assert intake.starter.calls == []


def test_source_not_allowed_for_the_deployment_is_403(intake):
    assert intake.run("zendesk", REINGEST).status_code == 403


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"start": "2026-11-01"}, "parameters.end"),
        ({"start": "2026-11-01", "end": "yesterday"}, "parameters.end"),
        (
            {"start": "2026-11-01", "end": "2026-11-30", "sources_file": "/etc/x"},
            "parameters.sources_file",
        ),
        ("start=2026-11-01", "parameters"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(intake, parameters, field):
    response = intake.run("jira", {**REINGEST, "parameters": parameters})
    assert response.status_code == 422
    assert field in [f["field"] for f in response.json()["fields"]]
    assert intake.starter.calls == []


def test_missing_deployment_is_422(intake):
    response = intake.run("generic", {"parameters": {}})
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == "deployment"


def test_run_requests_need_a_valid_signature_and_no_replay(intake):
    assert intake.run("jira", REINGEST, secret="wrong").status_code == 401
    assert intake.run("jira", REINGEST, headers={}).status_code == 401
    assert intake.run("jira", REINGEST, delivery_id="d-1").status_code == 202
    assert intake.run("jira", REINGEST, delivery_id="d-1").status_code == 401
    assert len(intake.starter.calls) == 1


def test_prefect_down_is_503_and_the_sender_may_retry_the_same_delivery(intake):
    intake.starter.fail = ServiceUnavailableError("Prefect API unreachable")
    assert intake.run("jira", REINGEST, delivery_id="d-7").status_code == 503
    intake.starter.fail = None
    assert intake.run("jira", REINGEST, delivery_id="d-7").status_code == 202


def test_deployment_missing_on_the_server_is_404(intake):
    intake.starter.fail = NotFoundError("deployment cost-ingestion/cost-ingestion-aws not found")
    assert intake.run("generic", REINGEST).status_code == 404


def test_allowlist_parameter_types():
    allowlist = Allowlist.model_validate(
        {
            "deployments": {
                "chargeback/chargeback-monthly": {
                    "parameters": {
                        "period": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                        "dry_run": {"type": "boolean"},
                        "limit": {"type": "integer", "minimum": 1, "maximum": 10},
                        "mode": {"choices": ["fast", "full"]},
                    }
                }
            }
        }
    )
    name = "chargeback/chargeback-monthly"
    good = {"period": "2026-11", "dry_run": True, "limit": 3, "mode": "full"}
    assert allowlist.check("generic", name, good) == good
    for bad, field in [
        ({"period": "2026-11; rm"}, "parameters.period"),
        ({"dry_run": "yes"}, "parameters.dry_run"),
        ({"limit": 11}, "parameters.limit"),
        ({"limit": 2.5}, "parameters.limit"),
        ({"limit": True}, "parameters.limit"),
        ({"mode": "turbo"}, "parameters.mode"),
    ]:
        with pytest.raises(InvalidRequestError) as caught:
            allowlist.check("generic", name, bad)
        assert [f for f, _ in caught.value.issues] == [field]
    with pytest.raises(NotAllowedError):
        allowlist.check("generic", "run_chargeback/other", {})


def test_shipped_allowlist_loads_and_bad_files_name_the_field(tmp_path):
    assert "cost-ingestion/cost-ingestion-aws" in load_allowlist().deployments
    bad = tmp_path / "allowlist.yaml"
    bad.write_text(
        "deployments:\n  ingest_costs/x:\n    parameters:\n      start: {type: datetime}\n"
    )
    with pytest.raises(SpecError, match=r"deployments\.ingest_costs/x\.parameters\.start\.type"):
        load_allowlist(bad)
    bad.write_text("deployments:\n  no-slash: {}\n")
    with pytest.raises(SpecError, match="<flow>/<deployment>"):
        load_allowlist(bad)
