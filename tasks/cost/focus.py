"""The FOCUS 1.2 column model: names, store columns, value kinds and the mandatory set.

FOCUS (FinOps Open Cost and Usage Specification) 1.2 lists its columns alphabetically; 21 are
*Mandatory* (present in every conforming dataset). Files from FOCUS 1.0/1.1 carry the same
mandatory core, so they are accepted too; columns a file lacks are stored as null.

Traceo additionally refuses nulls in the columns the store needs to account for money
(:data:`REQUIRED_VALUES`): a line without a cost, currency, billing account, charge period,
category or provider cannot be summed or replaced by period. Everything else may be null.

Values, once normalised (:func:`tasks.cost.normalise.normalise`): money and quantities are
``decimal128(38, 12)`` (``Decimal`` in Python), date-times are UTC ``timestamp[us]``, JSON
columns (``Tags``, ``SkuPriceDetails``) are JSON text, everything else is text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from tasks.errors import PermanentError

__all__ = [
    "CHARGE_CATEGORIES",
    "COLUMNS",
    "COLUMNS_BY_DB",
    "COLUMNS_BY_NAME",
    "DECIMAL",
    "FOCUS_VERSION",
    "MANDATORY",
    "REQUIRED_VALUES",
    "STORE_SCHEMA",
    "TIMESTAMP",
    "CostDataError",
    "DataIssue",
    "FocusColumn",
    "find_column",
]

FOCUS_VERSION = "1.2"
DECIMAL = pa.decimal128(38, 12)
TIMESTAMP = pa.timestamp("us", tz="UTC")

Kind = Literal["string", "decimal", "datetime", "json"]


@dataclass(frozen=True)
class FocusColumn:
    """One FOCUS column: its name, the store column, the value kind and its requirement level."""

    name: str
    kind: Kind = "string"
    mandatory: bool = False
    max_length: int | None = None

    @property
    def db(self) -> str:
        """The store column (snake_case): ``BilledCost`` -> ``billed_cost``."""
        return _snake(self.name)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _c(name: str, kind: Kind = "string", *, m: bool = False, n: int | None = None) -> FocusColumn:
    return FocusColumn(name, kind, m, n)


COLUMNS: tuple[FocusColumn, ...] = (
    _c("AvailabilityZone", n=100),
    _c("BilledCost", "decimal", m=True),
    _c("BillingAccountId", m=True, n=200),
    _c("BillingAccountName", m=True),
    _c("BillingAccountType", n=100),
    _c("BillingCurrency", m=True),  # an ISO 4217 code: checked in tasks.cost.normalise
    _c("BillingPeriodEnd", "datetime", m=True),
    _c("BillingPeriodStart", "datetime", m=True),
    _c("CapacityReservationId"),
    _c("CapacityReservationStatus", n=32),
    _c("ChargeCategory", m=True, n=32),
    _c("ChargeClass", m=True, n=32),
    _c("ChargeDescription", m=True),
    _c("ChargeFrequency", n=32),
    _c("ChargePeriodEnd", "datetime", m=True),
    _c("ChargePeriodStart", "datetime", m=True),
    _c("CommitmentDiscountCategory", n=32),
    _c("CommitmentDiscountId"),
    _c("CommitmentDiscountName"),
    _c("CommitmentDiscountQuantity", "decimal"),
    _c("CommitmentDiscountStatus", n=32),
    _c("CommitmentDiscountType", n=200),
    _c("CommitmentDiscountUnit", n=100),
    _c("ConsumedQuantity", "decimal"),
    _c("ConsumedUnit", n=100),
    _c("ContractedCost", "decimal", m=True),
    _c("ContractedUnitPrice", "decimal"),
    _c("EffectiveCost", "decimal", m=True),
    _c("InvoiceId", n=200),
    _c("InvoiceIssuerName", m=True, n=200),
    _c("ListCost", "decimal", m=True),
    _c("ListUnitPrice", "decimal"),
    _c("PricingCategory", n=32),
    _c("PricingCurrency", n=100),  # a national (ISO 4217) or virtual currency
    _c("PricingCurrencyContractedUnitPrice", "decimal"),
    _c("PricingCurrencyEffectiveCost", "decimal"),
    _c("PricingCurrencyListUnitPrice", "decimal"),
    _c("PricingQuantity", "decimal", m=True),
    _c("PricingUnit", m=True, n=100),
    _c("ProviderName", m=True, n=200),
    _c("PublisherName", m=True, n=200),
    _c("RegionId", n=100),
    _c("RegionName", n=200),
    _c("ResourceId"),
    _c("ResourceName"),
    _c("ResourceType", n=200),
    _c("ServiceCategory", m=True, n=64),
    _c("ServiceName", m=True, n=200),
    _c("ServiceSubcategory", n=200),
    _c("SkuId", n=200),
    _c("SkuMeter"),
    _c("SkuPriceDetails", "json"),
    _c("SkuPriceId"),
    _c("SubAccountId", n=200),
    _c("SubAccountName"),
    _c("SubAccountType", n=100),
    _c("Tags", "json"),
)
COLUMNS_BY_NAME = {c.name: c for c in COLUMNS}
COLUMNS_BY_DB = {c.db: c for c in COLUMNS}
MANDATORY = tuple(c.name for c in COLUMNS if c.mandatory)
REQUIRED_VALUES = (
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "ChargeCategory",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "EffectiveCost",
    "ProviderName",
)
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")

_ARROW_TYPES: dict[Kind, pa.DataType] = {
    "string": pa.string(),
    "decimal": DECIMAL,
    "datetime": TIMESTAMP,
    "json": pa.string(),
}

# The normalised table every source yields: FOCUS columns (store names) + Traceo's own.
STORE_SCHEMA = pa.schema(
    [pa.field(c.db, _ARROW_TYPES[c.kind], nullable=c.name not in REQUIRED_VALUES) for c in COLUMNS]
    + [pa.field("estimated", pa.bool_(), nullable=False), pa.field("extra", pa.string())]
)

_LOOKUP = {key: c for c in COLUMNS for key in (c.name.lower(), c.db)}


def find_column(header: str) -> FocusColumn | None:
    """The FOCUS column a file header names (``BilledCost``, ``billedcost`` or ``billed_cost``)."""
    key = header.strip()
    return _LOOKUP.get(key.lower()) or _LOOKUP.get(key)


@dataclass(frozen=True)
class DataIssue:
    """One problem in cost input: where (file, 1-based data row, column) and what is wrong."""

    file: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return f"{': '.join(parts)}: {self.reason}"


class CostDataError(PermanentError):
    """Cost input is malformed; ``issues`` locates every problem found (nothing was written)."""

    MAX_LISTED = 20

    def __init__(self, issues: list[DataIssue]) -> None:
        self.issues = list(issues)
        shown = [str(i) for i in self.issues[: self.MAX_LISTED]]
        more = len(self.issues) - len(shown)
        if more > 0:
            shown.append(f"... and {more} more problem(s)")
        super().__init__("\n".join(shown) or "invalid cost data")
