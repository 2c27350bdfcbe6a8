"""The Google Cloud Billing block: Prefect's standard block checks, clients, and its secret."""

from __future__ import annotations

import pytest
from prefect.testing.standard_test_suites import BlockStandardTestSuite

from blocks.gcp import GcpBillingCredentials
from infra.sandbox.gcp_billing_fake import GcpBillingFake


class TestGcpBillingCredentials(BlockStandardTestSuite):
    @pytest.fixture
    def block(self):
        return GcpBillingCredentials


def test_clients_reach_the_local_fake_anonymously_over_rest():
    with GcpBillingFake() as fake:
        block = GcpBillingCredentials(
            api_endpoint=fake.url, billing_account_id="01A2B3-C4D5E6-F7A8B9"
        )
        accounts = list(block.get_client("billing").list_billing_accounts())
        services = list(block.get_client("catalog").list_services())
    assert [a.display_name for a in accounts] == ["Acme main billing", "Acme research billing"]
    assert [s.display_name for s in services] == ["Compute Engine", "Cloud Storage", "BigQuery"]


def test_the_service_account_key_never_shows():
    key = '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----abc"}'
    block = GcpBillingCredentials(service_account_info=key)
    assert "PRIVATE KEY" not in repr(block)
    assert "PRIVATE KEY" not in str(block.model_dump())


def test_a_malformed_key_fails_without_echoing_it():
    block = GcpBillingCredentials(service_account_info="not json PRIVATE KEY")
    with pytest.raises(ValueError) as caught:
        block.get_client("billing")
    assert str(caught.value) == "service_account_info is not valid JSON"


def test_an_unknown_client_kind_is_refused():
    with pytest.raises(ValueError, match="unknown client kind 'bigquery'"):
        GcpBillingCredentials(api_endpoint="http://127.0.0.1:9").get_client("bigquery")  # type: ignore[arg-type]


def test_the_bigquery_client_reaches_a_local_endpoint_anonymously():
    import pyarrow as pa

    from tests.services import require_bigquery

    require_bigquery()
    from tests.cost.bigquery_fake import BigQueryFake

    with BigQueryFake() as fake:
        fake.load("acme-billing.billing_export.t", pa.table({"n": [1, 2]}))
        client = GcpBillingCredentials().get_bigquery_client(
            "acme-finops", location="EU", api_endpoint=fake.url
        )
        rows = client.query("SELECT SUM(n) AS s FROM `acme-billing.billing_export.t`").result()
        assert [r.s for r in rows] == [3]
    assert client.project == "acme-finops"
    assert client.location == "EU"
