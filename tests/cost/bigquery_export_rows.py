"""Sample rows of Google Cloud's billing export tables, in the schema Google publishes.

:func:`export_row` builds one row of the standard usage cost export (``detailed=True`` adds the
resource-level fields of the detailed export) with its nested RECORDs and REPEATED fields:
``service``, ``sku``, ``project`` (with ``labels``), ``labels``, ``location``, ``usage``,
``credits``, ``invoice``, ``cost_type``, ``adjustment_info``; :func:`export_table` types a list
of them as the export does (money as FLOAT64) plus the ``_PARTITIONTIME`` pseudo-column (the
day a row was loaded), which the BigQuery fake holds as an ordinary column.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

__all__ = ["ACCOUNT", "export_row", "export_table"]

ACCOUNT = "01A2B3-C4D5E6-F7A8B9"
_TS = pa.timestamp("us", tz="UTC")
_PAIRS = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
_CREDIT = pa.struct(
    [
        ("name", pa.string()),
        ("amount", pa.float64()),
        ("full_name", pa.string()),
        ("id", pa.string()),
        ("type", pa.string()),
    ]
)
_STANDARD = [
    ("billing_account_id", pa.string()),
    ("service", pa.struct([("id", pa.string()), ("description", pa.string())])),
    ("sku", pa.struct([("id", pa.string()), ("description", pa.string())])),
    ("usage_start_time", _TS),
    ("usage_end_time", _TS),
    (
        "project",
        pa.struct(
            [
                ("id", pa.string()),
                ("number", pa.string()),
                ("name", pa.string()),
                ("labels", _PAIRS),
                ("ancestry_numbers", pa.string()),
            ]
        ),
    ),
    ("labels", _PAIRS),
    ("system_labels", _PAIRS),
    (
        "location",
        pa.struct(
            [
                ("location", pa.string()),
                ("country", pa.string()),
                ("region", pa.string()),
                ("zone", pa.string()),
            ]
        ),
    ),
    ("export_time", _TS),
    ("cost", pa.float64()),
    ("currency", pa.string()),
    ("currency_conversion_rate", pa.float64()),
    (
        "usage",
        pa.struct(
            [
                ("amount", pa.float64()),
                ("unit", pa.string()),
                ("amount_in_pricing_units", pa.float64()),
                ("pricing_unit", pa.string()),
            ]
        ),
    ),
    ("credits", pa.list_(_CREDIT)),
    ("invoice", pa.struct([("month", pa.string()), ("publisher_type", pa.string())])),
    ("cost_type", pa.string()),
    (
        "adjustment_info",
        pa.struct(
            [
                ("id", pa.string()),
                ("description", pa.string()),
                ("mode", pa.string()),
                ("type", pa.string()),
            ]
        ),
    ),
    ("cost_at_list", pa.float64()),
]
_DETAILED = [
    ("resource", pa.struct([("name", pa.string()), ("global_name", pa.string())])),
    (
        "price",
        pa.struct(
            [
                ("effective_price", pa.decimal128(38, 9)),
                ("tier_start_amount", pa.decimal128(38, 9)),
                ("unit", pa.string()),
                ("pricing_unit_quantity", pa.decimal128(38, 9)),
            ]
        ),
    ),
]


def _pairs(labels: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in labels.items()]


def export_row(
    day: datetime,
    cost: float,
    *,
    project: str = "acme-shop-prod",
    service: tuple[str, str] = ("6F81-5844-456A", "Compute Engine"),
    sku: tuple[str, str] = ("CP-N2-CORE", "N2 Instance Core running in Belgium"),
    labels: dict[str, str] | None = None,
    project_labels: dict[str, str] | None = None,
    credits: list[tuple[str, float]] = (),  # type: ignore[assignment]
    cost_type: str = "regular",
    currency: str = "USD",
    account: str = ACCOUNT,
    cost_at_list: float | None = None,
    loaded: datetime | None = None,
    resource: str = "vm-1",
) -> dict[str, Any]:
    """One hour of usage starting at ``day`` (UTC); ``credits`` are (type, amount) pairs."""
    end = day + timedelta(hours=1)
    return {
        "billing_account_id": account,
        "service": {"id": service[0], "description": service[1]},
        "sku": {"id": sku[0], "description": sku[1]},
        "usage_start_time": day,
        "usage_end_time": end,
        "project": {
            "id": project,
            "number": "123456789012",
            "name": project,
            "labels": _pairs(project_labels or {}),
            "ancestry_numbers": "/111/123456789012/",
        },
        "labels": _pairs(labels or {}),
        "system_labels": [],
        "location": {
            "location": "europe-west1",
            "country": "BE",
            "region": "europe-west1",
            "zone": "europe-west1-b",
        },
        "export_time": (loaded or end),
        "cost": cost,
        "currency": currency,
        "currency_conversion_rate": 1.0,
        "usage": {
            "amount": 3600.0,
            "unit": "seconds",
            "amount_in_pricing_units": 1.0,
            "pricing_unit": "hour",
        },
        "credits": [
            {"name": kind.title(), "amount": amount, "full_name": None, "id": kind, "type": kind}
            for kind, amount in credits
        ],
        "invoice": {"month": day.strftime("%Y%m"), "publisher_type": "Google"},
        "cost_type": cost_type,
        "adjustment_info": None,
        "cost_at_list": cost if cost_at_list is None else cost_at_list,
        "resource": {
            "name": resource,
            "global_name": f"//compute.googleapis.com/projects/{project}/instances/{resource}",
        },
        "price": None,
        "_PARTITIONTIME": (loaded or end).replace(hour=0, minute=0, tzinfo=UTC),
    }


def export_table(rows: list[dict[str, Any]], *, detailed: bool = False) -> pa.Table:
    """The rows typed as the standard (or detailed) export, with ``_PARTITIONTIME``."""
    fields = _STANDARD + (_DETAILED if detailed else []) + [("_PARTITIONTIME", _TS)]
    schema = pa.schema(fields)
    return pa.Table.from_pylist([{k: r.get(k) for k in schema.names} for r in rows], schema)
