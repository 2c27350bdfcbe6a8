"""Schemathesis over the intake's OpenAPI schema: signed or not, no request gets a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis.core import NotSet
from sqlalchemy import create_engine

from deployments.intake.app import create_app
from deployments.intake.signing import SIGNED_SOURCES, sign_request
from tasks.store import get_engine
from tests.deployments.intake.conftest import NOW, SECRETS, FakeStarter, running_intake

SCHEMA = schemathesis.openapi.from_dict(
    create_app(create_engine("sqlite://"), FakeStarter(), SECRETS, jira_fields={}).openapi()
)


@pytest.mark.parametrize("route", ["/v1/dsr/{source}", "/v1/runs/{source}", "/healthz"])
def test_no_request_gets_a_server_error(route: str, tmp_path: Any) -> None:
    method = "GET" if route == "/healthz" else "POST"
    cases = SCHEMA[route][method].as_strategy()
    with running_intake(get_engine(f"sqlite:///{tmp_path / 'intake.db'}")) as intake:

        @given(case=cases, source=st.sampled_from(SIGNED_SOURCES), signed=st.booleans())
        def post(case: Any, source: str, signed: bool) -> None:
            path = case.formatted_path
            if signed and "{source}" in route:  # a known source, so the body gets parsed
                path = route.replace("{source}", source)
            body = b"" if isinstance(case.body, NotSet) else json.dumps(case.body).encode()
            headers = {"Content-Type": "application/json", **(case.headers or {})}
            if signed:
                headers.update(sign_request(source, body, SECRETS[source], NOW))
            response = intake.client.request(method, path, content=body, headers=headers)
            assert response.status_code < 500, response.text

        post()
