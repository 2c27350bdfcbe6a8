"""Cost fixtures: a local AWS (moto) per session, the Cloud Billing and BigQuery fakes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def moto_server() -> Iterator:
    from infra.sandbox.moto_server import MotoServer

    with MotoServer() as server:
        yield server


@pytest.fixture
def aws(moto_server, monkeypatch):
    """The moto server, emptied, with the environment pointing boto3 at it (dummy keys)."""
    moto_server.reset()
    for key, value in moto_server.environment().items():
        monkeypatch.setenv(key, value)
    return moto_server


@pytest.fixture
def gcp_fake(monkeypatch) -> Iterator:
    """The Cloud Billing fake, and TRACEO_GCP_BILLING_ENDPOINT pointing at it."""
    from infra.sandbox.gcp_billing_fake import GcpBillingFake
    from tasks.settings import get_settings

    with GcpBillingFake() as fake:
        monkeypatch.setenv("TRACEO_GCP_BILLING_ENDPOINT", fake.url)
        get_settings.cache_clear()
        yield fake


@pytest.fixture
def bigquery_fake() -> Iterator:
    """The local BigQuery fake (GoogleSQL run on DuckDB); skips without google-cloud-bigquery."""
    from tests.services import require_bigquery

    require_bigquery()
    from tests.cost.bigquery_fake import BigQueryFake

    with BigQueryFake() as fake:
        yield fake
