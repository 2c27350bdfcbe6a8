"""Store models for cloud cost: FOCUS 1.2 cost lines, ingestion runs, tag totals and anomalies.

Column names are the FOCUS 1.2 column names in snake_case (``BilledCost`` -> ``billed_cost``);
:mod:`tasks.cost.focus` holds the mapping. Money is ``Numeric`` (``Decimal`` in Python).
Traceo's own columns (``source``, ``estimated``, ``extra``) are not FOCUS; the run that wrote a
line is the latest ``succeeded`` :class:`CostIngestion` of its scope.

Idempotency: a cost line has no natural key (a FOCUS file may legitimately repeat a line), so a
rerun replaces a whole scope, ``(source, billing_account_id, charge period range)``, in one
transaction (see :mod:`tasks.cost.ingest`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from tasks.store.models import Base, BigId

__all__ = [
    "MONEY",
    "QUANTITY",
    "CostAnomaly",
    "CostIngestion",
    "CostLine",
    "CostTagTotal",
    "Money",
]


class Money(TypeDecorator[Decimal]):
    """``numeric(38, 12)`` as ``Decimal``; exact on PostgreSQL, 15 significant digits on SQLite.

    SQLite keeps NUMERIC as a double. Reading it back through ``repr`` (the shortest text that
    round-trips) instead of a fixed 12-decimal format returns exactly the decimal that was
    written whenever it has at most 15 significant digits (``99999.0000000001``), where a fixed
    format would show the double's noise (``99999.000000000102``).
    """

    impl = Numeric(38, 12)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(38, 12, asdecimal=False))
        return dialect.type_descriptor(Numeric(38, 12))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return str(value)  # SQLite parses the text to the nearest double

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


# Costs in real exports carry up to 11 decimals; 12 keeps them exact (quantities alike).
MONEY = Money()
QUANTITY = Money()


class CostLine(Base):
    """One FOCUS 1.2 cost and usage row (all FOCUS 1.2 columns; mandatory ones never null here).

    Lines now live in the cost lake (:mod:`tasks.cost.lake`); this table holds what an install
    stored before it, until ``traceo cost migrate-to-lake`` moves it, and is the schema the
    lake queries are written against.
    """

    __tablename__ = "cost_lines"
    __table_args__ = (
        Index("ix_cost_lines_scope", "source", "billing_account_id", "charge_period_start"),
        Index("ix_cost_lines_period", "charge_period_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Traceo columns
    source: Mapped[str] = mapped_column(String(64))
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # FOCUS 1.2 columns (alphabetical, as the specification lists them)
    availability_zone: Mapped[str | None] = mapped_column(String(100))
    billed_cost: Mapped[Decimal] = mapped_column(MONEY)
    billing_account_id: Mapped[str] = mapped_column(String(200))
    billing_account_name: Mapped[str | None] = mapped_column(Text)
    billing_account_type: Mapped[str | None] = mapped_column(String(100))
    billing_currency: Mapped[str] = mapped_column(String(3))
    billing_period_start: Mapped[datetime | None]
    billing_period_end: Mapped[datetime | None]
    capacity_reservation_id: Mapped[str | None] = mapped_column(Text)
    capacity_reservation_status: Mapped[str | None] = mapped_column(String(32))
    charge_category: Mapped[str] = mapped_column(String(32))
    charge_class: Mapped[str | None] = mapped_column(String(32))
    charge_description: Mapped[str | None] = mapped_column(Text)
    charge_frequency: Mapped[str | None] = mapped_column(String(32))
    charge_period_start: Mapped[datetime]
    charge_period_end: Mapped[datetime]
    commitment_discount_category: Mapped[str | None] = mapped_column(String(32))
    commitment_discount_id: Mapped[str | None] = mapped_column(Text)
    commitment_discount_name: Mapped[str | None] = mapped_column(Text)
    commitment_discount_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    commitment_discount_status: Mapped[str | None] = mapped_column(String(32))
    commitment_discount_type: Mapped[str | None] = mapped_column(String(200))
    commitment_discount_unit: Mapped[str | None] = mapped_column(String(100))
    consumed_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    consumed_unit: Mapped[str | None] = mapped_column(String(100))
    contracted_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    contracted_unit_price: Mapped[Decimal | None] = mapped_column(MONEY)
    effective_cost: Mapped[Decimal] = mapped_column(MONEY)
    invoice_id: Mapped[str | None] = mapped_column(String(200))
    invoice_issuer_name: Mapped[str | None] = mapped_column(String(200))
    list_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    list_unit_price: Mapped[Decimal | None] = mapped_column(MONEY)
    pricing_category: Mapped[str | None] = mapped_column(String(32))
    pricing_currency: Mapped[str | None] = mapped_column(String(100))
    pricing_currency_contracted_unit_price: Mapped[Decimal | None] = mapped_column(MONEY)
    pricing_currency_effective_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    pricing_currency_list_unit_price: Mapped[Decimal | None] = mapped_column(MONEY)
    pricing_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    pricing_unit: Mapped[str | None] = mapped_column(String(100))
    provider_name: Mapped[str] = mapped_column(String(200))
    publisher_name: Mapped[str | None] = mapped_column(String(200))
    region_id: Mapped[str | None] = mapped_column(String(100))
    region_name: Mapped[str | None] = mapped_column(String(200))
    resource_id: Mapped[str | None] = mapped_column(Text)
    resource_name: Mapped[str | None] = mapped_column(Text)
    resource_type: Mapped[str | None] = mapped_column(String(200))
    service_category: Mapped[str | None] = mapped_column(String(64))
    service_name: Mapped[str | None] = mapped_column(String(200))
    service_subcategory: Mapped[str | None] = mapped_column(String(200))
    sku_id: Mapped[str | None] = mapped_column(String(200))
    sku_meter: Mapped[str | None] = mapped_column(Text)
    sku_price_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sku_price_id: Mapped[str | None] = mapped_column(Text)
    sub_account_id: Mapped[str | None] = mapped_column(String(200))
    sub_account_name: Mapped[str | None] = mapped_column(Text)
    sub_account_type: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CostTagTotal(Base):
    """A daily total per cost-allocation tag value (AWS Cost Explorer's GroupBy TAG view).

    Kept apart from :class:`CostLine` because it is a second view of the same cost: summing both
    would count it twice. ``tag_value`` is ``""`` for untagged cost.
    """

    __tablename__ = "cost_tag_totals"
    __table_args__ = (
        UniqueConstraint(
            "source",
            "billing_account_id",
            "tag_key",
            "tag_value",
            "charge_period_start",
            name="uq_cost_tag_totals_day",
        ),
        Index("ix_cost_tag_totals_period", "tag_key", "charge_period_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    provider_name: Mapped[str] = mapped_column(String(200))
    billing_account_id: Mapped[str] = mapped_column(String(200))
    tag_key: Mapped[str] = mapped_column(String(128))
    tag_value: Mapped[str] = mapped_column(String(256))
    charge_period_start: Mapped[datetime]
    charge_period_end: Mapped[datetime]
    billed_cost: Mapped[Decimal] = mapped_column(MONEY)
    effective_cost: Mapped[Decimal] = mapped_column(MONEY)
    contracted_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    billing_currency: Mapped[str] = mapped_column(String(3))
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)


class CostIngestion(Base):
    """One write of one scope: a source's billing account over a charge period range."""

    __tablename__ = "cost_ingestions"
    __table_args__ = (
        Index("ix_cost_ingestions_scope", "source", "billing_account_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36))
    source: Mapped[str] = mapped_column(String(64))
    provider_name: Mapped[str | None] = mapped_column(String(200))
    billing_account_id: Mapped[str | None] = mapped_column(String(200))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    rows: Mapped[int] = mapped_column(Integer, default=0)
    tag_rows: Mapped[int] = mapped_column(Integer, default=0)
    billed_total: Mapped[Decimal] = mapped_column(MONEY)
    effective_total: Mapped[Decimal | None] = mapped_column(MONEY)
    billing_currency: Mapped[str | None] = mapped_column(String(3))
    checksum: Mapped[str | None] = mapped_column(String(64))
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CostAnomaly(Base):
    """A scored cost anomaly of one monitor for one key (written by ``tasks.cost.anomaly``)."""

    __tablename__ = "cost_anomalies"
    __table_args__ = (
        UniqueConstraint("monitor", "key", "start_date", name="uq_cost_anomalies_key"),
        Index("ix_cost_anomalies_detected", "detected_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    monitor: Mapped[str] = mapped_column(String(200))
    dimension: Mapped[str] = mapped_column(String(64))  # total | service | sub_account | tag
    key: Mapped[str] = mapped_column(String(400))  # the dimension's value, or "total"
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    expected_total: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    actual_total: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    total_impact: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    max_impact: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    impact_pct: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    # anomaly | step_change (a new level that lasts) | new_spend (a series that appears)
    # | fee_change (a recurring fee that rose or is new) | purchase (a one-time purchase)
    kind: Mapped[str] = mapped_column(String(16), default="anomaly", server_default="anomaly")
    currency: Mapped[str] = mapped_column(String(3))
    root_causes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # why it was flagged (tasks.cost.anomaly.explain); null for fees and purchases
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    detected_at: Mapped[datetime]
    last_alerted_at: Mapped[datetime | None]
    alert_kind: Mapped[str | None] = mapped_column(String(16))
    feedback: Mapped[str | None] = mapped_column(String(16))  # yes | no | planned
    feedback_at: Mapped[datetime | None]
