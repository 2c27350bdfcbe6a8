"""Google Cloud's billing export read in place in BigQuery (the local fake runs the GoogleSQL)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
from sqlalchemy import func, select

from tasks.cost.focus import CostDataError
from tasks.cost.ingest import ingest_source
from tasks.cost.sources import build_source, load_source_configs
from tasks.cost.sources.bigquery_export import BigQueryBillingExportSource, export_table
from tasks.errors import ConfigurationError, SpecError, ThrottledError
from tasks.store import CostIngestion, CostLine
from tests.cost.bigquery_export_rows import ACCOUNT, export_row
from tests.cost.bigquery_export_rows import export_table as export_rows
from tests.cost.helpers import lake_rows

SEPTEMBER = (date(2024, 9, 1), date(2024, 10, 1))
DATASET = "acme-billing.billing_export"


def _at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=UTC)


def _rows() -> list[dict]:
    """A September with credits, tax, an adjustment, a late correction, and rows outside it."""
    labels = {"team": "shop"}
    project_labels = {"team": "platform", "env": "prod"}
    credits = [("SUSTAINED_USAGE_DISCOUNT", -0.25), ("PROMOTION", -0.1)]
    return [
        export_row(_at(9, 1), 1.25, labels=labels, project_labels=project_labels, credits=credits),
        export_row(_at(9, 1, 1), 2.5, cost_at_list=3.0, resource="vm-2"),
        export_row(_at(9, 30, 23), 0.4, cost_type="tax", sku=("TAX", "Tax")),
        # corrected weeks later: loaded into an October partition, still charged in September
        export_row(_at(9, 15), -0.75, cost_type="adjustment", loaded=_at(10, 20)),
        export_row(_at(8, 31, 23), 9.0),  # August
        export_row(_at(10, 1), 9.0),  # October
    ]


def _client(fake):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    def make():
        return bigquery.Client(
            project="acme-billing",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": fake.url},
        )

    return make


def _source(fake, export="standard", rows=None, name="gcp-export"):
    table = export_table(DATASET, export, ACCOUNT)
    fake.load(table, export_rows(_rows() if rows is None else rows, detailed=export != "standard"))
    return BigQueryBillingExportSource(name, table, export, client=_client(fake))


def _lines(source, period=SEPTEMBER) -> pa.Table:
    chunks = list(source.fetch(*period))
    return pa.concat_tables([c.lines for c in chunks]).sort_by("charge_period_start")


def test_standard_export_rows_become_focus_lines_of_the_period(bigquery_fake):
    lines = _lines(_source(bigquery_fake))
    rows = lines.to_pylist()
    assert [r["charge_period_start"].day for r in rows] == [1, 1, 15, 30]
    first = rows[0]
    # BilledCost and EffectiveCost: cost + every credit (a negative SUD and a promotion)
    assert (first["billed_cost"], first["effective_cost"]) == (Decimal("0.9"), Decimal("0.9"))
    assert (first["contracted_cost"], first["list_cost"]) == (Decimal("1.25"), Decimal("1.25"))
    assert json.loads(first["tags"]) == {"team": "shop", "env": "prod"}  # the row's label wins
    assert json.loads(first["extra"])["x_CreditsTotal"] == "-0.350000000"
    assert (first["provider_name"], first["billing_account_id"]) == ("Google Cloud", ACCOUNT)
    assert (first["sub_account_id"], first["service_name"]) == ("acme-shop-prod", "Compute Engine")
    assert first["billing_period_start"] == _at(9, 1)
    assert first["billing_period_end"] == _at(10, 1)
    assert rows[1]["list_cost"] == Decimal("3")
    assert rows[1]["tags"] is None
    categories = [(r["charge_category"], r["charge_class"]) for r in rows]
    assert categories == [
        ("Usage", None),
        ("Usage", None),
        ("Adjustment", "Correction"),
        ("Tax", None),
    ]
    assert sum(r["billed_cost"] for r in rows) == Decimal("0.9") + Decimal("2.5") + Decimal("-0.35")


def test_the_query_prunes_partitions_and_filters_the_charge_period(bigquery_fake):
    source = _source(bigquery_fake)
    _lines(source)
    [sql] = bigquery_fake.queries
    assert "x._PARTITIONTIME >= TIMESTAMP('2024-09-01')" in sql
    assert "x.usage_start_time < TIMESTAMP('2024-10-01')" in sql
    assert f"`{DATASET}.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9`" in sql


def test_the_detailed_export_names_each_resource(bigquery_fake):
    lines = _lines(_source(bigquery_fake, "detailed"))
    assert lines["resource_name"].to_pylist()[:2] == ["vm-1", "vm-2"]
    assert lines["resource_id"][1].as_py().endswith("/instances/vm-2")


def test_the_focus_export_is_read_by_charge_period(bigquery_fake):
    stamp = pa.timestamp("us", tz="UTC")
    focus = pa.table(
        {
            "BilledCost": pa.array([Decimal("1.5"), Decimal("7")], pa.decimal128(38, 9)),
            "BillingAccountId": [ACCOUNT, ACCOUNT],
            "BillingAccountName": ["Acme", "Acme"],
            "BillingCurrency": ["USD", "USD"],
            "BillingPeriodStart": pa.array([_at(9, 1), _at(10, 1)], stamp),
            "BillingPeriodEnd": pa.array([_at(10, 1), _at(11, 1)], stamp),
            "ChargeCategory": ["Usage", "Usage"],
            "ChargeClass": [None, None],
            "ChargeDescription": ["N2 core", "N2 core"],
            "ChargePeriodStart": pa.array([_at(9, 2), _at(10, 2)], stamp),
            "ChargePeriodEnd": pa.array([_at(9, 3), _at(10, 3)], stamp),
            "ContractedCost": pa.array([Decimal("1.5"), Decimal("7")], pa.decimal128(38, 9)),
            "EffectiveCost": pa.array([Decimal("1.4"), Decimal("7")], pa.decimal128(38, 9)),
            "InvoiceIssuerName": ["Google", "Google"],
            "ListCost": pa.array([Decimal("2"), Decimal("8")], pa.decimal128(38, 9)),
            "PricingQuantity": pa.array([Decimal("24"), Decimal("24")], pa.decimal128(38, 9)),
            "PricingUnit": ["hour", "hour"],
            "ProviderName": ["Google Cloud", "Google Cloud"],
            "PublisherName": ["Google Cloud", "Google Cloud"],
            "ServiceCategory": ["Compute", "Compute"],
            "ServiceName": ["Compute Engine", "Compute Engine"],
            "Tags": [[{"key": "team", "value": "shop"}], []],
            "x_Credits": ["-0.1", None],
        }
    )
    table = export_table("acme-billing.gcp_billing_immutable_x_us", "focus", ACCOUNT)
    bigquery_fake.load(table, focus)
    source = BigQueryBillingExportSource("gcp-focus", table, "focus", client=_client(bigquery_fake))
    lines = _lines(source).to_pylist()
    assert [(r["billed_cost"], r["effective_cost"]) for r in lines] == [
        (Decimal("1.5"), Decimal("1.4"))
    ]
    assert json.loads(lines[0]["tags"]) == {"team": "shop"}
    assert json.loads(lines[0]["extra"]) == {"x_Credits": "-0.1"}


def test_two_currencies_in_one_billing_account_are_refused_naming_the_table(bigquery_fake):
    rows = [export_row(_at(9, 1), 1.0), export_row(_at(9, 2), 1.0, currency="EUR")]
    with pytest.raises(CostDataError) as caught:
        _lines(_source(bigquery_fake, rows=rows))
    message = str(caught.value)
    assert "bigquery:acme-billing.billing_export.gcp_billing_export_v1_" in message
    assert f"billing account '{ACCOUNT}' mixes currencies: 'EUR' here, 'USD'" in message


def test_pages_become_chunks_and_a_bad_value_is_located_by_row(bigquery_fake):
    rows = [export_row(_at(9, day), 1.0) for day in range(1, 6)]
    rows[4]["currency"] = "usd"
    source = _source(bigquery_fake, rows=rows)
    source.batch_rows = 2
    chunks = source.fetch(*SEPTEMBER)
    pages = [(c.first_row, c.lines.num_rows) for c in itertools.islice(chunks, 2)]
    assert pages == [(1, 2), (3, 2)]
    with pytest.raises(CostDataError) as caught:
        next(chunks)
    assert str(caught.value).startswith(f"bigquery:{source.table}: row 5: column BillingCurrency")


@pytest.mark.parametrize("denied", [False, True], ids=["missing", "no-permission"])
def test_a_missing_or_forbidden_table_is_a_clear_error_naming_it(bigquery_fake, denied):
    table = export_table(DATASET, "standard", ACCOUNT)
    if denied:
        bigquery_fake.load(table, export_rows(_rows()))
        bigquery_fake.refused[table] = "accessDenied"
    source = BigQueryBillingExportSource("gcp", table, "standard", client=_client(bigquery_fake))
    with pytest.raises(ConfigurationError) as caught:
        list(source.fetch(*SEPTEMBER))
    message = str(caught.value)
    assert f"source 'gcp': BigQuery table {table}: " in message
    assert ("Forbidden" if denied else "NotFound") in message
    assert "bigquery.jobs.create" in message


def test_a_rate_limit_answered_with_403_is_transient(bigquery_fake):
    source = _source(bigquery_fake)
    bigquery_fake.refused[source.table] = "rateLimitExceeded"
    with pytest.raises(ThrottledError, match=f"BigQuery table {source.table}: throttled"):
        list(source.fetch(*SEPTEMBER))


def test_a_rerun_through_ingestion_replaces_the_period_exactly(bigquery_fake, store_engine):
    source = _source(bigquery_fake)
    first = ingest_source(store_engine, source, *SEPTEMBER)
    second = ingest_source(store_engine, source, *SEPTEMBER)
    assert first.rows == second.rows == 4
    stored = lake_rows(select(func.count(), func.sum(CostLine.billed_cost)))
    assert stored == [(4, Decimal("3.05"))]
    with store_engine.connect() as conn:
        runs = conn.execute(select(CostIngestion.status)).scalars().all()
    assert runs == ["succeeded", "succeeded"]


def test_a_source_file_entry_reaches_the_export(bigquery_fake, tmp_path):
    table = export_table(DATASET, "detailed", ACCOUNT)
    bigquery_fake.load(table, export_rows(_rows(), detailed=True))
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n"
        "  gcp-export:\n"
        "    type: gcp_bigquery_export\n"
        f"    dataset: {DATASET}\n"
        "    export: detailed\n"
        f"    billing_account_id: {ACCOUNT}\n"
        f"    api_endpoint: {bigquery_fake.url}\n"
        "  nameless:\n"
        "    type: gcp_bigquery_export\n"
        f"    dataset: {DATASET}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as caught:
        load_source_configs(path)
    assert "nameless" in str(caught.value)
    assert "set billing_account_id (Google's table name) or table" in str(caught.value)

    path.write_text("\n".join(path.read_text().splitlines()[:7]) + "\n", encoding="utf-8")
    source = build_source(load_source_configs(path)["gcp-export"])
    assert _lines(source).num_rows == 4
