"""Google Cloud: the billing export completed from the local Cloud Billing fake."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from blocks.gcp import GcpBillingCredentials
from infra.sandbox.gcp_billing_fake import GcpBillingFake, default_catalog
from tasks.cost.ingest import ingest_source
from tasks.cost.sources.config import GcpBillingConfig, build_source
from tasks.cost.sources.gcp_billing import BillingDirectory, GcpBillingSource, PriceBook, SkuPrice
from tasks.errors import ConfigurationError, ServiceUnavailableError
from tasks.store import CostLine, get_engine
from tests.cost.helpers import GCP_EXPORT, focus_row, lake_rows, write_csv

SEPTEMBER = (date(2024, 9, 1), date(2024, 10, 1))
MAIN, RESEARCH = "01A2B3-C4D5E6-F7A8B9", "0F0F0F-111111-222222"


def _client(fake, kind):
    return GcpBillingCredentials(api_endpoint=fake.url).get_client(kind)


def test_tiered_list_prices_apply_from_the_usage_already_seen():
    price = SkuPrice(
        "S", "GiBy.mo", "USD", ((Decimal(0), Decimal("0.026")), (Decimal(1024), Decimal("0.023")))
    )
    assert price.cost(Decimal(1000)) == Decimal("26.000")
    # 24 units left in the first tier, 76 in the second
    assert price.cost(Decimal(100), Decimal(1000)) == Decimal("0.624") + Decimal("1.748")
    assert price.rate_at(Decimal(2000)) == Decimal("0.023")
    assert price.highest_rate == Decimal("0.026")


def test_accounts_and_the_project_map_come_from_every_page_of_cloud_billing(gcp_fake):
    directory = BillingDirectory.load(_client(gcp_fake, "billing"))
    assert directory.account_names == {MAIN: "Acme main billing", RESEARCH: "Acme research billing"}
    assert directory.project_accounts == {
        "acme-shop-prod": MAIN,
        "acme-shop-dev": MAIN,
        "acme-ml": RESEARCH,
    }  # acme-sandbox has billing disabled
    assert gcp_fake.requests.count("/v1/billingAccounts") == 1


def test_skus_are_paged_and_priced_in_the_billing_currency(gcp_fake):
    book = PriceBook(_client(gcp_fake, "catalog"))
    storage = book.price("Cloud Storage", "GCS-STD", "EUR")
    assert storage.tiers == (
        (Decimal(0), Decimal("0.0234")),
        (Decimal(1024), Decimal("0.0207")),
        (Decimal(10240), Decimal("0.018")),
    )
    assert book.price("Compute Engine", "CP-N2-RAM", "USD").tiers == (
        (Decimal(0), Decimal("0.004237")),
    )
    assert book.price("Unknown service", "X", "USD") is None
    assert gcp_fake.requests.count("/v1/services") == 2  # two services per page, three services


def test_the_export_is_completed_and_stored_idempotently(gcp_fake, store_url):
    engine = get_engine(store_url)
    config = GcpBillingConfig(name="gcp-export", type="gcp_billing", location=str(GCP_EXPORT))
    first = ingest_source(engine, build_source(config), *SEPTEMBER)
    second = ingest_source(engine, build_source(config), *SEPTEMBER)

    assert first.rows == second.rows == 80
    assert {s.billing_account_id for s in second.scopes} == {MAIN, RESEARCH}
    assert [s.checksum for s in first.scopes] == [s.checksum for s in second.scopes]
    assert "ListCost filled from the Cloud Billing catalogue on 60 row(s)" in second.notes
    rows = lake_rows(
        select(
            CostLine.sub_account_id,
            CostLine.billing_account_id,
            CostLine.billing_account_name,
            CostLine.sku_id,
            CostLine.pricing_quantity,
            CostLine.list_cost,
        ).order_by(CostLine.charge_period_start, CostLine.sub_account_id, CostLine.sku_id)
    )
    assert len(rows) == 80
    assert {r.billing_account_id for r in rows if r.sub_account_id == "acme-ml"} == {RESEARCH}
    assert {r.billing_account_name for r in rows} == {"Acme main billing", "Acme research billing"}
    assert all(r.list_cost is not None for r in rows)
    ram = next(r for r in rows if r.sku_id == "CP-N2-RAM")
    assert ram.list_cost == (ram.pricing_quantity * Decimal("0.004237")).quantize(Decimal("1e-12"))


def test_effective_prices_above_list_are_reported(gcp_fake, tmp_path):
    row = focus_row(
        BillingAccountId=MAIN,
        SubAccountId="acme-shop-prod",
        ServiceName="Compute Engine",
        SkuId="CP-N2-CORE",
        PricingQuantity="10",
        EffectiveCost="1.00",  # 0.10 per hour, list is 0.031611
        ListCost=None,
    )
    path = write_csv(tmp_path / "export.csv", [row])
    source = GcpBillingSource(
        "g",
        str(path),
        billing_client=lambda: _client(gcp_fake, "billing"),
        catalog_client=lambda: _client(gcp_fake, "catalog"),
    )
    [chunk] = source.fetch(*SEPTEMBER)
    assert chunk.lines["list_cost"][0].as_py() == Decimal("0.31611")
    assert any(
        "1 above list (first: SKU CP-N2-CORE at 0.100000 > list 0.031611" in n for n in chunk.notes
    )


def test_an_invisible_billing_account_is_a_configuration_error(gcp_fake):
    with pytest.raises(
        ConfigurationError, match="billing account 000000-000000-000000 is not visible"
    ):
        BillingDirectory.load(_client(gcp_fake, "billing"), "000000-000000-000000")


def test_a_brief_outage_is_retried_by_the_client_and_a_lasting_one_is_transient(gcp_fake):
    gcp_fake.fail_next = [503]
    directory = BillingDirectory.load(_client(gcp_fake, "billing"))  # google-api-core retries
    assert len(directory.account_names) == 2
    gcp_fake.fail_next = [503] * 3
    book = PriceBook(_client(gcp_fake, "catalog"))  # the catalogue's list calls do not retry
    with pytest.raises(ServiceUnavailableError, match=r"list services: unavailable \(503\)"):
        book.price("Compute Engine", "CP-N2-CORE", "USD")


def test_an_unreachable_endpoint_is_a_transient_error():
    with GcpBillingFake(default_catalog()) as fake:
        url = fake.url
    client = GcpBillingCredentials(api_endpoint=url).get_client("billing")
    with pytest.raises(ServiceUnavailableError, match="list billing accounts"):
        BillingDirectory.load(client)
