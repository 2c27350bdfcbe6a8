"""Builders for cost test inputs: FOCUS rows and files, Cost Explorer responses."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import namedtuple
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tasks.cost.focus import MANDATORY

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "focus" / "focus_1_0_sample_1000.csv"
GCP_EXPORT = (
    Path(__file__).resolve().parents[1] / "data" / "gcp" / "billing_export_focus_2024_09.csv"
)


def focus_row(day: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid FOCUS row (text values) charged on 2024-09-``day``; override any column."""
    row = {
        "BilledCost": "10.50",
        "BillingAccountId": "acct-1",
        "BillingAccountName": "Main",
        "BillingCurrency": "USD",
        "BillingPeriodStart": "2024-09-01T00:00:00Z",
        "BillingPeriodEnd": "2024-10-01T00:00:00Z",
        "ChargeCategory": "Usage",
        "ChargeClass": None,
        "ChargeDescription": "compute",
        "ChargePeriodStart": f"2024-09-{day:02d}T00:00:00Z",
        "ChargePeriodEnd": f"2024-09-{day + 1:02d}T00:00:00Z"
        if day < 30
        else "2024-10-01T00:00:00Z",
        "ContractedCost": "10.50",
        "EffectiveCost": "9.75",
        "InvoiceIssuerName": "Issuer",
        "ListCost": "12.00",
        "PricingQuantity": "1",
        "PricingUnit": "Hours",
        "ProviderName": "AWS",
        "PublisherName": "AWS",
        "ServiceCategory": "Compute",
        "ServiceName": "Amazon EC2",
        "SubAccountId": "sub-1",
        "Tags": '{"team": "shop"}',
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: Sequence[dict[str, Any]], *, gz: bool = False) -> Path:
    """Write rows as FOCUS CSV (None becomes the literal NULL, like real exports)."""
    names = list(dict.fromkeys(k for row in rows for k in row)) or list(MANDATORY)
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow(["NULL" if row.get(n) is None else row[n] for n in names])
    data = text.getvalue().encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_parquet(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write rows as typed Parquet: costs as decimal128, periods as UTC timestamps."""
    from tasks.cost.focus import COLUMNS_BY_NAME, DECIMAL, TIMESTAMP

    names = list(dict.fromkeys(k for row in rows for k in row))
    arrays = {}
    for name in names:
        values = [row.get(name) for row in rows]
        kind = COLUMNS_BY_NAME[name].kind if name in COLUMNS_BY_NAME else "string"
        if kind == "decimal":
            arrays[name] = pa.array([None if v is None else Decimal(v) for v in values], DECIMAL)
        elif kind == "datetime":
            arrays[name] = pa.array(values, pa.string()).cast(TIMESTAMP)
        else:
            arrays[name] = pa.array(values, pa.string())
    pq.write_table(pa.table(arrays), path)
    return path


def sample_totals() -> dict[str, tuple[int, Decimal]]:
    """Rows and BilledCost per provider in the real sample, read with csv + Decimal only."""
    totals: dict[str, tuple[int, Decimal]] = {}
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows, total = totals.get(row["ProviderName"], (0, Decimal(0)))
            totals[row["ProviderName"]] = (rows + 1, total + Decimal(row["BilledCost"]))
    return totals


def ce_group(keys: list[str], amount: str, unit: str = "USD") -> dict[str, Any]:
    metrics = {
        "UnblendedCost": {"Amount": amount, "Unit": unit},
        "AmortizedCost": {"Amount": str(Decimal(amount) * Decimal("0.9")), "Unit": unit},
        "NetUnblendedCost": {"Amount": str(Decimal(amount) * Decimal("0.95")), "Unit": unit},
    }
    return {"Keys": keys, "Metrics": metrics}


def ce_day(day: str, groups: list[dict[str, Any]], estimated: bool = False) -> dict[str, Any]:
    end = f"{day[:8]}{int(day[8:]) + 1:02d}"
    period = {"Start": day, "End": end}
    return {"TimePeriod": period, "Total": {}, "Groups": groups, "Estimated": estimated}


def ce_page(days: list[dict[str, Any]], token: str | None = None, **extra: Any) -> dict[str, Any]:
    page: dict[str, Any] = {"ResultsByTime": days, "DimensionValueAttributes": [], **extra}
    if token:
        page["NextPageToken"] = token
    return page


def as_json(value: Any) -> Any:
    """A stored JSON column as a Python object (SQLite may hand back text)."""
    return json.loads(value) if isinstance(value, str) else value


def lake_rows(query: Any) -> list[tuple[Any, ...]]:
    """Run a SQLAlchemy query over ``cost_lines`` on the configured cost lake (exact Decimals)."""
    from tasks.cost.lake import Lake, LakeQuery

    with LakeQuery(Lake.from_settings()) as lake:
        table = lake.arrow(query)
    row = namedtuple("Row", table.column_names, rename=True)  # type: ignore[misc]
    return [row(*values.values()) for values in table.to_pylist()]
