"""AWS Data Exports (CUR 2.0 and FOCUS) read in place from S3 (moto) into the lake."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest
from sqlalchemy import func, select

from tasks.cost.focus import CostDataError
from tasks.cost.ingest import ingest_source
from tasks.cost.sources import build_source, load_source_configs
from tasks.cost.sources.aws_data_exports import DataExportSource
from tasks.errors import ConfigurationError, NotFoundError, SpecError
from tasks.store import CostLine, get_engine
from tests.cost import cur2_export as cur
from tests.cost.helpers import focus_row, lake_rows

SEPTEMBER = (date(2024, 9, 1), date(2024, 10, 1))
EXPORT = "s3://billing/exports/acme-cur2"


def _source(tmp_path, location: str = EXPORT, table: str = "cur2") -> DataExportSource:
    path = tmp_path / "sources.yaml"
    body = {"type": "aws_data_export", "location": location, "table": table}
    path.write_text(json.dumps({"sources": {"aws-cur": body}}))
    source = build_source(load_source_configs(path)["aws-cur"])
    assert isinstance(source, DataExportSource)
    return source


def _totals() -> tuple[int, Decimal, Decimal]:
    query = select(func.count(), func.sum(CostLine.billed_cost), func.sum(CostLine.effective_cost))
    return tuple(lake_rows(query.where(CostLine.source == "aws-cur"))[0])  # type: ignore[return-value]


@pytest.fixture
def s3(aws):
    client = aws.client("s3")
    client.create_bucket(Bucket="billing")
    return client


def test_a_cur2_month_lands_in_the_lake_with_amortised_effective_cost_and_reruns_change_nothing(
    s3, tmp_path
):
    rows, billed, effective = cur.september()
    # Two parts, as large exports come; August's delivery beside it must not be read.
    cur.deliver(s3, "billing", "exports", "2024-09", [cur.table(rows[:6]), cur.table(rows[6:])])
    cur.deliver(
        s3, "billing", "exports", "2024-08", [cur.table([cur.line("Usage", "99", month=8)])]
    )
    source = _source(tmp_path)
    for _ in range(2):
        report = ingest_source(get_engine(), source, *SEPTEMBER)
        assert _totals() == (len(rows), billed, effective)
    assert all("BILLING_PERIOD=2024-09" in origin for origin in report.origins)
    by_category = lake_rows(
        select(
            CostLine.charge_category,
            func.sum(CostLine.billed_cost),
            func.sum(CostLine.effective_cost),
        ).group_by(CostLine.charge_category)
    )
    assert {tuple(r) for r in by_category} == {
        ("Usage", Decimal("10.4000123"), Decimal("19.7700123")),
        ("Purchase", Decimal("1598.00"), Decimal("6.57")),
        ("Tax", Decimal("12.34"), Decimal("12.34")),
        ("Credit", Decimal("-25.00"), Decimal("-25.00")),
    }
    accounts = lake_rows(
        select(CostLine.billing_account_id, CostLine.sub_account_id, CostLine.provider_name)
        .distinct()
        .order_by(CostLine.sub_account_id)
    )
    assert [tuple(a) for a in accounts] == [
        (cur.PAYER, cur.SHOP, "AWS"),
        (cur.PAYER, cur.DATA, "AWS"),
    ]
    (tags,) = lake_rows(select(CostLine.tags).where(CostLine.resource_id == "i-1"))[0]
    assert json.loads(tags) == {"team": "shop", "aws_createdBy": "Root:111122223333"}
    list_cost = lake_rows(select(CostLine.list_cost).where(CostLine.resource_id == "i-2"))
    assert list_cost == [(Decimal("9.60"),)]
    services = lake_rows(
        select(CostLine.service_name, CostLine.service_category)
        .distinct()
        .order_by(CostLine.service_name)
    )
    assert [tuple(s) for s in services] == [("AmazonEC2", "Compute"), ("AmazonS3", "Storage")]


def test_a_redelivery_replaces_the_period_and_never_adds_to_it(s3, tmp_path):
    rows, billed, effective = cur.september()
    first = cur.deliver(s3, "billing", "exports", "2024-09", [cur.table(rows)])
    source = _source(tmp_path)
    ingest_source(get_engine(), source, *SEPTEMBER)
    assert _totals() == (len(rows), billed, effective)
    # AWS refreshes the month: the credit is gone, a new usage line came; the old files stay.
    revised = [r for r in rows if r["line_item_line_item_type"] != "Credit"]
    revised.append(cur.line("Usage", "3.30", day=20, line_item_resource_id="i-3"))
    cur.deliver(s3, "billing", "exports", "2024-09", [cur.table(revised)])
    report = ingest_source(get_engine(), source, *SEPTEMBER)
    assert _totals() == (
        len(revised),
        billed + 25 + Decimal("3.30"),
        effective + 25 + Decimal("3.30"),
    )
    assert not set(first) & set(report.origins)


def test_a_focus_data_export_is_read_as_it_is(s3, tmp_path):
    from tests.cost.helpers import write_parquet

    path = write_parquet(tmp_path / "part.parquet", [focus_row(day=d) for d in (1, 2)])
    key = "exports/acme-focus/data/BILLING_PERIOD=2024-09/acme-focus-00001.snappy.parquet"
    s3.put_object(Bucket="billing", Key=key, Body=path.read_bytes())
    manifest = {"dataFiles": [f"s3://billing/{key}"]}
    s3.put_object(
        Bucket="billing",
        Key="exports/acme-focus/metadata/BILLING_PERIOD=2024-09/acme-focus-Manifest.json",
        Body=json.dumps(manifest).encode(),
    )
    ingest_source(
        get_engine(), _source(tmp_path, "s3://billing/exports/acme-focus", "focus"), *SEPTEMBER
    )
    assert _totals() == (2, Decimal("21.00"), Decimal("19.50"))


def test_an_export_without_a_required_cur2_column_names_the_file_and_column(s3, tmp_path):
    rows, _, _ = cur.september()
    uris = cur.deliver(
        s3, "billing", "exports", "2024-09", [cur.table(rows).drop(["bill_payer_account_id"])]
    )
    with pytest.raises(CostDataError) as caught:
        ingest_source(get_engine(), _source(tmp_path), *SEPTEMBER)
    assert str(caught.value) == f"{uris[0]}: column bill_payer_account_id: CUR 2.0 column missing"


def test_costs_written_as_text_still_map_and_a_cost_that_is_no_number_names_the_file(s3, tmp_path):
    rows, billed, effective = cur.september()
    drifted = cur.table(rows[6:])
    drifted = drifted.set_column(
        drifted.schema.get_field_index("line_item_unblended_cost"),
        "line_item_unblended_cost",
        drifted["line_item_unblended_cost"].cast(pa.string()),
    )
    cur.deliver(s3, "billing", "exports", "2024-09", [cur.table(rows[:6]), drifted])
    source = _source(tmp_path)
    ingest_source(get_engine(), source, *SEPTEMBER)
    assert _totals() == (len(rows), billed, effective)
    broken = drifted.set_column(
        drifted.schema.get_field_index("line_item_unblended_cost"),
        "line_item_unblended_cost",
        pa.array(["12.5"] * (drifted.num_rows - 1) + ["n/a"]),
    )
    uris = cur.deliver(s3, "billing", "exports", "2024-09", [broken])
    with pytest.raises(CostDataError, match=f"^{uris[0]}: not CUR 2.0: .*n/a"):
        ingest_source(get_engine(), source, *SEPTEMBER)
    assert _totals() == (len(rows), billed, effective)  # the previous delivery stays


def test_a_manifest_naming_a_missing_file_or_no_delivery_at_all_is_named(s3, tmp_path):
    source = _source(tmp_path)
    with pytest.raises(NotFoundError, match=f"no delivery of {EXPORT} for 2024-09"):
        ingest_source(get_engine(), source, *SEPTEMBER)
    uris = cur.deliver(s3, "billing", "exports", "2024-09", [cur.table(cur.september()[0])])
    s3.delete_object(Bucket="billing", Key=uris[0].removeprefix("s3://billing/"))
    with pytest.raises(ConfigurationError, match=f"cannot get {uris[0]} \\(NoSuchKey\\)"):
        ingest_source(get_engine(), source, *SEPTEMBER)
    with pytest.raises(SpecError, match="location"):
        _source(tmp_path, "s3://billing")
