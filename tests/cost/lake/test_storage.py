"""The cost lake: partitions replaced atomically, clear errors for bad files, local and S3."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from tasks.cost.ingest import ingest_source
from tasks.cost.lake import Lake, LakeConflictError, LakeDataError, PartitionKey, to_lake
from tasks.cost.normalise import normalise
from tasks.cost.sources.snapshot import StaticCostSource
from tasks.errors import ConfigurationError
from tasks.store import CostLine, get_engine
from tests.cost.helpers import focus_row, lake_rows

SEPTEMBER = (date(2024, 9, 1), date(2024, 10, 1))
KEY = PartitionKey("AWS", "acct-1", "2024-09")


def _rows(source: str, *days: int) -> pa.Table:
    table = pa.Table.from_pylist([focus_row(day=d) for d in days])
    return to_lake(normalise(table, "test"), source)


def test_lines_are_hive_partitioned_by_provider_account_and_period(traceo_home):
    rows = [focus_row(day=2), focus_row(day=3, BillingAccountId="a/b", ProviderName="Google Cloud")]
    ingest_source(get_engine(), StaticCostSource("s", rows), *SEPTEMBER)
    lake = Lake.from_settings()
    assert lake.partitions() == [
        PartitionKey("AWS", "acct-1", "2024-09"),
        PartitionKey("Google Cloud", "a/b", "2024-09"),
    ]
    files = sorted(
        p.relative_to(traceo_home / "lake").as_posix()
        for p in (traceo_home / "lake").rglob("*.parquet")
    )
    assert files[0].startswith("provider=AWS/billing_account=acct-1/billing_period=2024-09/part-")
    assert files[1].startswith(
        "provider=Google%20Cloud/billing_account=a%2Fb/billing_period=2024-09/"
    )
    assert pq.read_schema(traceo_home / "lake" / files[0]).names[:2] == [
        "AvailabilityZone",
        "BilledCost",
    ]


def test_a_replace_switches_in_one_step_and_removes_the_old_files():
    lake = Lake.from_settings()
    for days in ((1, 2), (3,)):
        with lake.writer() as writer:
            writer.write(KEY, _rows("s", *days))
            writer.commit(keep=None)
    assert lake.read([KEY]).num_rows == 1
    assert len(list(lake.fs.get_file_info(lake.files([KEY])))) == 1
    assert lake.manifest(KEY).sources == {"s": 1}


def test_a_crash_before_the_switch_leaves_the_old_version_current():
    lake = Lake.from_settings()
    with lake.writer() as writer:
        writer.write(KEY, _rows("s", 1, 2))
        writer.commit(keep=None)
    with pytest.raises(RuntimeError), lake.writer() as writer:
        writer.write(KEY, _rows("s", 5))
        raise RuntimeError("crash")
    assert lake.read([KEY]).num_rows == 2


def test_small_writes_make_row_groups_and_buffers_stay_bounded(monkeypatch):
    from tasks.cost.lake import storage

    monkeypatch.setattr(storage, "ROW_GROUP_ROWS", 4)
    monkeypatch.setattr(storage, "BUFFERED_ROWS", 4)
    other = PartitionKey("AWS", "acct-2", "2024-09")
    lake = Lake.from_settings()
    with lake.writer() as writer:
        for day in range(1, 8):
            writer.write(KEY, _rows("s", day))  # a row group at 4 rows, then 3 buffered
            if day == 6:
                writer.write(other, _rows("s", 1))
        writer.write(other, _rows("s", 2))  # 3 + 2 rows buffered > 4: the larger buffer goes
        writer.write(KEY, _rows("s", 8))
        writer.commit(keep=None)
    groups = {
        key: [
            pq.ParquetFile(path, filesystem=lake.fs).metadata.row_group(i).num_rows
            for path in lake.files([key])
            for i in range(pq.ParquetFile(path, filesystem=lake.fs).num_row_groups)
        ]
        for key in (KEY, other)
    }
    assert groups == {KEY: [4, 3, 1], other: [2]}
    assert lake.read([KEY]).num_rows == 8


def test_two_runs_replacing_one_partition_at_once_conflict_and_the_first_wins():
    lake = Lake.from_settings()
    first, second = lake.writer(), lake.writer()
    first.write(KEY, _rows("s", 1))
    second.write(KEY, _rows("s", 2, 3))
    first.commit(keep=None)
    with pytest.raises(LakeConflictError, match="provider=AWS/billing_account=acct-1"), second:
        second.commit(keep=None)
    assert lake.read([KEY]).num_rows == 1


def test_a_truncated_file_is_named():
    ingest_source(get_engine(), StaticCostSource("s", [focus_row()]), *SEPTEMBER)
    lake = Lake.from_settings()
    path = lake.files([KEY])[0]
    with open(path, "rb+") as file:
        file.truncate(len(file.read()) // 2)
    with pytest.raises(LakeDataError, match=r"billing_period=2024-09/part-.*unreadable Parquet"):
        lake_rows(select(func.count()).select_from(CostLine))


def test_a_file_whose_columns_drifted_is_named():
    ingest_source(get_engine(), StaticCostSource("s", [focus_row()]), *SEPTEMBER)
    lake = Lake.from_settings()
    path = lake.files([KEY])[0]
    table = pq.read_table(path)
    table = table.set_column(1, "BilledCost", table["BilledCost"].cast(pa.float64()))
    pq.write_table(table, path)
    with pytest.raises(LakeDataError, match="BilledCost is double, not decimal128"):
        lake_rows(select(func.count()).select_from(CostLine))


def test_the_lake_on_s3_round_trips_and_a_missing_bucket_is_named(aws, monkeypatch):
    aws.client("s3").create_bucket(Bucket="costs")
    monkeypatch.setenv("TRACEO_COST_LAKE", "s3://costs/lake")
    monkeypatch.setenv("TRACEO_COST_LAKE_ENDPOINT_URL", aws.url)
    from tasks.settings import get_settings

    get_settings.cache_clear()
    source = StaticCostSource("s", [focus_row(day=d) for d in (1, 2)])
    for _ in range(2):
        ingest_source(get_engine(), source, *SEPTEMBER)
    assert lake_rows(select(func.count()).select_from(CostLine)) == [(2,)]
    keys = aws.client("s3").list_objects_v2(Bucket="costs")["Contents"]
    names = sorted(k["Key"].rsplit("/", 1)[1][:5] for k in keys if not k["Key"].endswith("/"))
    assert names == ["_curr", "part-"]  # one version left
    with pytest.raises(ConfigurationError, match="the bucket 'nope' does not exist"):
        Lake.at("s3://nope/lake", aws.url)
