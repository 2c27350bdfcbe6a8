"""The BigQuery and Athena cost-table blocks: Prefect's standard checks, names, clients, secret."""

from __future__ import annotations

import pytest
from prefect.testing.standard_test_suites import BlockStandardTestSuite

from blocks.cost_engines import AthenaCostTable, BigQueryCostTable


class TestBigQueryCostTable(BlockStandardTestSuite):
    @pytest.fixture
    def block(self):
        return BigQueryCostTable


class TestAthenaCostTable(BlockStandardTestSuite):
    @pytest.fixture
    def block(self):
        return AthenaCostTable


def test_each_block_names_its_table_part_by_part():
    bigquery = BigQueryCostTable(project="acme-billing", dataset="finops", table="lines")
    athena = AthenaCostTable(database="finops", table="lines", output_location="s3://r/")
    assert bigquery.table_parts() == ("acme-billing", "finops", "lines")
    assert athena.table_parts() == ("AwsDataCatalog", "finops", "lines")
    assert (bigquery.billing_period_column, athena.billing_period_column) == (
        None,
        "billing_period",
    )


def test_the_athena_client_goes_to_the_configured_endpoint():
    block = AthenaCostTable(
        database="finops",
        table="lines",
        output_location="s3://r/",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
    )
    client = block.get_client()
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.region_name == "eu-west-1"


def test_the_bigquery_service_account_key_never_shows():
    key = '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----abc"}'
    block = BigQueryCostTable(project="p", dataset="d", table="t", service_account_info=key)
    assert "PRIVATE KEY" not in repr(block)
    assert "PRIVATE KEY" not in str(block.model_dump())


def test_a_malformed_bigquery_key_fails_without_echoing_it():
    block = BigQueryCostTable(
        project="p", dataset="d", table="t", service_account_info="not json PRIVATE KEY"
    )
    with pytest.raises(ValueError) as caught:
        block.get_client()
    assert str(caught.value) == "service_account_info is not valid JSON"
