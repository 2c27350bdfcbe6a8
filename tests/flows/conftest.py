"""Engine tests run real flows against one Prefect test server per session (costly: keep few)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def prefect_server():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def shop(monkeypatch):
    from infra.sandbox.sample_service.server import SampleService

    with SampleService() as service:
        monkeypatch.setenv("SAMPLE_URL", service.url)
        monkeypatch.setenv("SAMPLE_HOST", service.host)
        monkeypatch.setenv("SAMPLE_PORT", str(service.port))
        yield service
