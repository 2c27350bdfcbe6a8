"""The Prometheus connection block: Prefect's standard checks, its client, its secret."""

from __future__ import annotations

import pytest
from prefect.testing.standard_test_suites import BlockStandardTestSuite
from pydantic import SecretStr

from blocks.prometheus import PrometheusConnection


class TestPrometheusConnection(BlockStandardTestSuite):
    @pytest.fixture
    def block(self):
        return PrometheusConnection


def test_get_client_sends_the_token_in_the_auth_header():
    bearer = PrometheusConnection(url="http://127.0.0.1:9090", token=SecretStr("hunter2"))
    with bearer.get_client() as client:
        assert str(client.base_url) == "http://127.0.0.1:9090"
        assert client.headers["Authorization"] == "Bearer hunter2"
    custom = PrometheusConnection(
        url="http://127.0.0.1:9090", token=SecretStr("hunter2"), auth_header="X-Scope-Token"
    )
    with custom.get_client() as client:
        assert client.headers["X-Scope-Token"] == "hunter2"
    with PrometheusConnection(url="http://127.0.0.1:9090").get_client() as client:
        assert "Authorization" not in client.headers


def test_the_token_is_hidden():
    block = PrometheusConnection(url="http://127.0.0.1:9090", token=SecretStr("hunter2"))
    assert "hunter2" not in repr(block) and "hunter2" not in str(block.model_dump())
