"""The datastore credentials block: Prefect's standard checks, clients per kind, its secrets."""

from __future__ import annotations

import pytest
from prefect.testing.standard_test_suites import BlockStandardTestSuite
from pydantic import SecretStr

from blocks.privacy import DatastoreCredentials


class TestDatastoreCredentials(BlockStandardTestSuite):
    @pytest.fixture
    def block(self):
        return DatastoreCredentials


def test_get_client_builds_the_client_of_each_kind(tmp_path):
    sql = DatastoreCredentials(url=SecretStr(f"sqlite:///{tmp_path / 'shop.db'}"))
    engine = sql.get_client("sqlite")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    cache = DatastoreCredentials(url=SecretStr("redis://127.0.0.1:6399/0")).get_client("redis")
    assert cache.connection_pool.connection_kwargs["port"] == 6399
    s3 = DatastoreCredentials(
        endpoint_url="http://127.0.0.1:9",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key=SecretStr("testing"),
    ).get_client("s3")
    assert s3.meta.endpoint_url == "http://127.0.0.1:9"


def test_secrets_are_hidden_and_a_missing_url_is_named():
    block = DatastoreCredentials(url=SecretStr("postgresql+psycopg://app:hunter2@db/shop"))
    assert "hunter2" not in repr(block) and "hunter2" not in str(block.model_dump())
    with pytest.raises(ValueError, match="a redis datastore needs 'url'"):
        DatastoreCredentials().get_client("redis")
