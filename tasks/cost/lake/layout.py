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
    column = pa.array([source] * lines.num_rows, pa.string())
    return lines.append_column(LAKE_SCHEMA.field("x_Source"), column).cast(LAKE_SCHEMA)


def partition_keys(rows: pa.Table) -> list[tuple[PartitionKey, pa.Table]]:
    """Split lake rows by partition (no copy when they all belong to one, the usual case)."""
    if rows.num_rows == 0:
        return []
    starts = rows["ChargePeriodStart"]
    bounds = pc.min_max(starts).as_py()
    providers = pc.unique(rows["ProviderName"])
    accounts = pc.unique(rows["BillingAccountId"])
    if len(providers) == len(accounts) == 1 and _period(bounds["min"]) == _period(bounds["max"]):
        key = PartitionKey(providers[0].as_py(), accounts[0].as_py(), _period(bounds["min"]))
        return [(key, rows)]
    period = pc.add(pc.multiply(pc.year(starts), 100), pc.month(starts))
    keyed = pa.table({"p": rows["ProviderName"], "a": rows["BillingAccountId"], "m": period})
    combos = keyed.group_by(["p", "a", "m"]).aggregate([]).to_pylist()
    out = []
    for combo in sorted(combos, key=lambda c: (c["p"], c["a"], c["m"])):
        mask = pc.and_(
            pc.and_(pc.equal(keyed["p"], combo["p"]), pc.equal(keyed["a"], combo["a"])),
            pc.equal(keyed["m"], combo["m"]),
        )
        year, month = divmod(combo["m"], 100)
        key = PartitionKey(combo["p"], combo["a"], f"{year:04d}-{month:02d}")
        out.append((key, rows.filter(mask)))
    return out


def _period(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"
