"""TRACEO_INTAKE_JIRA_FIELDS is checked once, at start-up, in one line naming the variable."""

from __future__ import annotations

import pytest

from deployments.intake.app import create_app
from deployments.intake.payloads import JIRA_FIELDS, jira_fields_from_env
from tasks.errors import ConfigurationError
from tasks.store import get_engine
from tests.deployments.intake.conftest import SECRETS, FakeStarter

MALFORMED = [
    "{email: customfield_10051}",  # not JSON
    "5",
    '["email"]',
    '{"mail": "customfield_10051"}',  # not one of our fields
    '{"email": 10051}',
    '{"email": " "}',
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_a_malformed_jira_field_mapping_is_one_line_naming_the_variable(raw):
    with pytest.raises(ConfigurationError) as caught:
        jira_fields_from_env({"TRACEO_INTAKE_JIRA_FIELDS": raw})
    message = str(caught.value)
    assert message.startswith("TRACEO_INTAKE_JIRA_FIELDS must be a JSON object")
    assert "\n" not in message


def test_the_app_refuses_to_start_with_a_malformed_jira_field_mapping(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEO_INTAKE_JIRA_FIELDS", "5")
    engine = get_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    with pytest.raises(ConfigurationError, match="TRACEO_INTAKE_JIRA_FIELDS"):
        create_app(engine, FakeStarter(), SECRETS)


def test_a_partial_mapping_keeps_the_default_names_for_the_rest():
    fields = jira_fields_from_env({"TRACEO_INTAKE_JIRA_FIELDS": '{"email": "customfield_1"}'})
    assert fields == {**JIRA_FIELDS, "email": "customfield_1"}
    assert jira_fields_from_env({}) == JIRA_FIELDS
