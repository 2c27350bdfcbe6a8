"""The cost lake block: Prefect's standard block checks, and a lake on S3 opened from it."""

from __future__ import annotations

from datetime import date

import pytest
from prefect.testing.standard_test_suites import BlockStandardTestSuite
from prefect_aws import AwsCredentials
from sqlalchemy import func, select

from blocks.cost_lake import CostLakeLocation
from tasks.cost.ingest import ingest_source
from tasks.cost.lake import Lake
from tasks.cost.sources.snapshot import StaticCostSource
from tasks.errors import ConfigurationError
from tasks.store import CostLine, get_engine
from tests.cost.helpers import focus_row, lake_rows


class TestCostLakeLocation(BlockStandardTestSuite):
    @pytest.fixture
    def block(self):
        return CostLakeLocation


def _block(url: str, endpoint: str) -> CostLakeLocation:
    keys = AwsCredentials(
        aws_access_key_id="testing", aws_secret_access_key="s3cr3t-key", region_name="eu-west-1"
    )
    return CostLakeLocation(url=url, endpoint_url=endpoint, aws_credentials=keys)


def test_the_block_opens_the_bucket_it_names_with_its_own_keys(moto_server, monkeypatch):
    moto_server.reset()
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    moto_server.client("s3").create_bucket(Bucket="finops")
    block = _block("s3://finops/lake", moto_server.url)
    monkeypatch.setenv("TRACEO_COST_LAKE_BLOCK", "traceo-cost-lake/prod")
    monkeypatch.setattr(CostLakeLocation, "load", classmethod(lambda cls, name: block))
    from tasks.settings import get_settings

    get_settings.cache_clear()
    source = StaticCostSource("s", [focus_row(day=d) for d in (1, 2, 3)])
    ingest_source(get_engine(), source, date(2024, 9, 1), date(2024, 10, 1))
    assert Lake.from_settings().display == "s3://finops/lake"
    assert lake_rows(select(func.count()).select_from(CostLine)) == [(3,)]
    listed = moto_server.client("s3").list_objects_v2(Bucket="finops", Prefix="lake/")
    assert any(o["Key"].endswith(".parquet") for o in listed["Contents"])
    with pytest.raises(ConfigurationError, match="the bucket 'absent' does not exist"):
        _block("s3://absent/lake", moto_server.url).open()


def test_the_keys_stay_secret() -> None:
    block = _block("s3://finops/lake", "http://127.0.0.1:1")
    assert block.aws_credentials is not None
    assert "s3cr3t-key" not in repr(block) + str(block.model_dump())
