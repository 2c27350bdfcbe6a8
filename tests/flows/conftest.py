"""Fixtures for the flow tests; the shared Prefect test server is in tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def shop(monkeypatch):
    from infra.sandbox.sample_service.server import SampleService

    with SampleService() as service:
        monkeypatch.setenv("SAMPLE_URL", service.url)
        monkeypatch.setenv("SAMPLE_HOST", service.host)
        monkeypatch.setenv("SAMPLE_PORT", str(service.port))
        yield service
