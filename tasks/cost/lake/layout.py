"""The cost lake's layout: file columns (FOCUS 1.2 names), partitions and their paths.

Files hold the FOCUS 1.2 columns under their FOCUS names (``BilledCost``), typed as
:data:`tasks.cost.focus.STORE_SCHEMA` types them, plus Traceo's own columns with the ``x_``
prefix FOCUS reserves for custom columns (``x_Source``, ``x_Estimated``, ``x_Extra``). A
partition is one provider, billing account and billing period (the calendar month of the
lines' ``ChargePeriodStart``), laid out hive-style::

    provider=AWS/billing_account=111111111111/billing_period=2024-09/

Values are percent-encoded in paths, so any account id or provider name is a single segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, unquote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tasks.cost.focus import COLUMNS, STORE_SCHEMA

__all__ = [
    "LAKE_NAMES",
    "LAKE_SCHEMA",
    "STORE_NAMES",
    "PartitionKey",
    "months",
    "partition_keys",
    "to_lake",
]

# Traceo's own columns: store name -> lake name.
_OWN = {"source": "x_Source", "estimated": "x_Estimated", "extra": "x_Extra"}
# Store (snake_case) name -> lake (FOCUS) name, and back.
LAKE_NAMES: dict[str, str] = {c.db: c.name for c in COLUMNS} | _OWN
STORE_NAMES: dict[str, str] = {lake: store for store, lake in LAKE_NAMES.items()}
LAKE_SCHEMA = pa.schema(
    [pa.field(LAKE_NAMES[f.name], f.type, f.nullable) for f in STORE_SCHEMA]
    + [pa.field("x_Source", pa.string(), nullable=False)]
)


@dataclass(frozen=True, order=True)
class PartitionKey:
    """One partition: a provider's billing account over one billing period (``YYYY-MM``)."""

    provider: str
    billing_account: str
    billing_period: str

    @property
    def path(self) -> str:
        return "/".join(
            (
                f"provider={quote(self.provider, safe='')}",
                f"billing_account={quote(self.billing_account, safe='')}",
                f"billing_period={self.billing_period}",
            )
        )

    @classmethod
    def from_path(cls, path: str) -> PartitionKey | None:
        """The key of a partition directory path (its last three segments), or None."""
        parts = path.rstrip("/").split("/")[-3:]
        names = ("provider", "billing_account", "billing_period")
        if len(parts) != 3 or any(
            not p.startswith(f"{n}=") for p, n in zip(parts, names, strict=True)
        ):
            return None
        values = [unquote(p.split("=", 1)[1]) for p in parts]
        return cls(*values)

    def __str__(self) -> str:
        return self.path


def months(start: datetime, end: datetime) -> list[str]:
    """The billing periods (``YYYY-MM``) that charge instants in ``[start, end)`` fall in."""
    last = end - timedelta(microseconds=1)
    out = []
    year, month = start.year, start.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = year + month // 12, month % 12 + 1
    return out


def to_lake(lines: pa.Table, source: str) -> pa.Table:
    """Normalised lines (:data:`STORE_SCHEMA`) as lake rows of ``source`` (:data:`LAKE_SCHEMA`)."""
    lines = lines.select(STORE_SCHEMA.names).rename_columns(
        [LAKE_NAMES[n] for n in STORE_SCHEMA.names]
    )
    column = pa.repeat(pa.scalar(source, pa.string()), lines.num_rows)
    return lines.append_column(LAKE_SCHEMA.field("x_Source"), column).cast(LAKE_SCHEMA)


def partition_keys(rows: pa.Table) -> list[tuple[PartitionKey, pa.Table]]:
    """Split lake rows by partition (no copy when they all belong to one, the usual case)."""
    if rows.num_rows == 0:
        return []
    starts = rows["ChargePeriodStart"]
    bounds = pc.min_max(starts).as_py()
    keys = {"p": rows["ProviderName"], "a": rows["BillingAccountId"]}
    if _period(bounds["min"]) != _period(bounds["max"]):
        keys["m"] = pc.add(pc.multiply(pc.year(starts), 100), pc.month(starts))
    by = list(keys)
    keys["i"] = pa.array(np.arange(rows.num_rows, dtype=np.int64))
    groups = pa.table(keys).group_by(by).aggregate([("i", "list")])  # row numbers, in order
    if groups.num_rows == 1:
        key = PartitionKey(groups["p"][0].as_py(), groups["a"][0].as_py(), _period(bounds["min"]))
        return [(key, rows)]
    indices = groups["i_list"].combine_chunks()
    if "m" in by:
        periods = [f"{m // 100:04d}-{m % 100:02d}" for m in groups["m"].to_pylist()]
    else:
        periods = [_period(bounds["min"])] * groups.num_rows
    out = []
    for group, (provider, account, period) in enumerate(
        zip(groups["p"].to_pylist(), groups["a"].to_pylist(), periods, strict=True)
    ):
        key = PartitionKey(provider, account, period)
        out.append((key, _take(rows, indices[group].values)))
    return sorted(out, key=lambda pair: pair[0])


def _take(rows: pa.Table, indices: pa.Array) -> pa.Table:
    """``rows`` at ``indices``; columns without a value (most optional ones) are made anew."""
    columns = [
        pa.nulls(len(indices), column.type)
        if column.null_count == len(column)
        else column.take(indices)
        for column in rows.columns
    ]
    return pa.Table.from_arrays(columns, schema=rows.schema)


def _period(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"
