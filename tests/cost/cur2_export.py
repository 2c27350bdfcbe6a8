"""A generator of AWS Data Exports deliveries (CUR 2.0 Parquet + manifest) in S3, for tests.

Rows carry the real CUR 2.0 column names and types (money as doubles, dates as timestamps,
``resource_tags`` as a map), laid out as AWS delivers them: the data under
``<export>/data/BILLING_PERIOD=YYYY-MM/<execution id>/`` and the period's manifest, rewritten at
each delivery, at ``<export>/metadata/BILLING_PERIOD=YYYY-MM/<name>-Manifest.json``.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PAYER = "111122223333"
SHOP, DATA = "444455556666", "777788889999"
RI_ARN = (
    "arn:aws:ec2:us-east-1:111122223333:reserved-instances/4b2e1a37-0000-4000-8000-000000000001"
)
SP_ARN = "arn:aws:savingsplans::111122223333:savingsplan/0c5a9d1e-0000-4000-8000-0002"

_TYPES: dict[str, pa.DataType] = {
    "bill_billing_period_start_date": pa.timestamp("ms"),
    "bill_billing_period_end_date": pa.timestamp("ms"),
    "line_item_usage_start_date": pa.timestamp("ms"),
    "line_item_usage_end_date": pa.timestamp("ms"),
    "resource_tags": pa.map_(pa.string(), pa.string()),
}
_DOUBLES = (
    "line_item_unblended_cost",
    "line_item_usage_amount",
    "pricing_public_on_demand_cost",
    "pricing_public_on_demand_rate",
    "reservation_effective_cost",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee",
    "savings_plan_savings_plan_effective_cost",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
)


def line(kind: str, cost: str, day: int = 3, month: int = 9, **columns: Any) -> dict[str, Any]:
    """One CUR 2.0 line of type ``kind`` charged on day ``day`` (an hour of usage)."""
    start = datetime(2024, month, 1)
    end = datetime(2024 + month // 12, month % 12 + 1, 1)
    row: dict[str, Any] = {
        "bill_bill_type": "Anniversary",
        "bill_billing_entity": "AWS",
        "bill_billing_period_start_date": start,
        "bill_billing_period_end_date": end,
        "bill_invoicing_entity": "Amazon Web Services, Inc.",
        "bill_payer_account_id": PAYER,
        "bill_payer_account_name": "Acme payer",
        "identity_line_item_id": uuid.uuid4().hex,
        "line_item_currency_code": "USD",
        "line_item_line_item_description": f"{kind} line",
        "line_item_line_item_type": kind,
        "line_item_product_code": "AmazonEC2",
        "line_item_unblended_cost": float(cost),
        "line_item_usage_account_id": SHOP,
        "line_item_usage_account_name": "shop",
        "line_item_usage_amount": 1.0,
        "line_item_usage_start_date": datetime(2024, month, day, 10),
        "line_item_usage_end_date": datetime(2024, month, day, 11),
        "pricing_unit": "Hrs",
        "product_region_code": "us-east-1",
        "product_servicecode": "AmazonEC2",
        "resource_tags": [("user_team", "shop"), ("aws_createdBy", "Root:111122223333")],
    }
    row.update({k: float(v) if k in _DOUBLES and v is not None else v for k, v in columns.items()})
    return row


def september() -> tuple[list[dict[str, Any]], Decimal, Decimal]:
    """A September with on-demand, RI and Savings Plan lines, tax and a credit, plus the
    BilledCost and (amortised) EffectiveCost totals worked out by hand."""
    rows = [
        line("Usage", "10.40", pricing_public_on_demand_cost="10.40", line_item_resource_id="i-1"),
        line(
            "DiscountedUsage",
            "0",
            reservation_reservation_a_r_n=RI_ARN,
            reservation_effective_cost="6.25",
            pricing_public_on_demand_cost="9.60",
            line_item_resource_id="i-2",
        ),
        line(
            "RIFee",
            "150.00",
            day=1,
            reservation_reservation_a_r_n=RI_ARN,
            reservation_unused_amortized_upfront_fee_for_billing_period="1.10",
            reservation_unused_recurring_fee="2.35",
            resource_tags=None,
        ),
        line("Fee", "876.00", day=1, reservation_reservation_a_r_n=RI_ARN, resource_tags=[]),
        line(
            "SavingsPlanCoveredUsage",
            "4.80",
            savings_plan_savings_plan_a_r_n=SP_ARN,
            savings_plan_savings_plan_effective_cost="3.12",
            line_item_usage_account_id=DATA,
            resource_tags=[("user_team", "data")],
        ),
        line(
            "SavingsPlanNegation",
            "-4.80",
            savings_plan_savings_plan_a_r_n=SP_ARN,
            line_item_usage_account_id=DATA,
        ),
        line(
            "SavingsPlanRecurringFee",
            "72.00",
            day=1,
            savings_plan_savings_plan_a_r_n=SP_ARN,
            savings_plan_total_commitment_to_date="72.00",
            savings_plan_used_commitment="68.88",
        ),
        line("SavingsPlanUpfrontFee", "500.00", day=1, savings_plan_savings_plan_a_r_n=SP_ARN),
        line("Tax", "12.34", day=30, product_servicecode=None),
        line("Credit", "-25.00", day=15, line_item_line_item_description="Promotional credit"),
        line(
            "Usage",
            "0.0000123",
            product_servicecode="AmazonS3",
            line_item_product_code="AmazonS3",
            pricing_unit="Requests",
        ),
    ]
    # 10.40 + 0 + 150 + 876 + 4.80 - 4.80 + 72 + 500 + 12.34 - 25 + 0.0000123
    billed = Decimal("1595.7400123")
    # 10.40 + 6.25 + (1.10 + 2.35) + 0 + 3.12 + 0 + (72 - 68.88) + 0 + 12.34 - 25 + 0.0000123
    effective = Decimal("13.6800123")
    return rows, billed, effective


def table(rows: list[dict[str, Any]]) -> pa.Table:
    """``rows`` as a CUR 2.0 Parquet table (a column every row lacks is left out)."""
    names = list(dict.fromkeys(k for row in rows for k in row))
    arrays = {}
    for name in names:
        kind = _TYPES.get(name, pa.float64() if name in _DOUBLES else pa.string())
        arrays[name] = pa.array([row.get(name) for row in rows], kind)
    return pa.table(arrays)


def deliver(
    s3: Any, bucket: str, prefix: str, period: str, parts: list[pa.Table], name: str = "acme-cur2"
) -> list[str]:
    """Deliver ``parts`` as one execution of export ``name`` for ``period``; return their URIs.

    As AWS does: the data files first, then the period's manifest naming exactly them.
    """
    execution = str(uuid.uuid4())
    base = f"{prefix}/{name}"
    uris = []
    for number, part in enumerate(parts, start=1):
        key = f"{base}/data/BILLING_PERIOD={period}/{execution}/{name}-{number:05d}.snappy.parquet"
        buffer = io.BytesIO()
        pq.write_table(part, buffer, compression="snappy")
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
        uris.append(f"s3://{bucket}/{key}")
    manifest = {
        "executionId": execution,
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:{PAYER}:export/{name}-0000",
        "columns": [{"name": n, "type": str(t)} for n, t in zip(*_names(parts), strict=True)],
        "dataFiles": uris,
    }
    s3.put_object(
        Bucket=bucket,
        Key=f"{base}/metadata/BILLING_PERIOD={period}/{name}-Manifest.json",
        Body=json.dumps(manifest).encode(),
    )
    return uris


def _names(parts: list[pa.Table]) -> tuple[list[str], list[pa.DataType]]:
    schema = parts[0].schema
    return schema.names, schema.types
