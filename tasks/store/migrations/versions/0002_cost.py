"""cost lines (FOCUS 1.2), ingestion runs, tag totals and cost anomalies

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:45:02.344409
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cost_anomalies",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("monitor", sa.String(length=200), nullable=False),
        sa.Column("dimension", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("expected_total", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("actual_total", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("total_impact", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("max_impact", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("impact_pct", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("root_causes", sa.JSON(), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alert_kind", sa.String(length=16), nullable=True),
        sa.Column("feedback", sa.String(length=16), nullable=True),
        sa.Column("feedback_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("monitor", "key", "start_date", name="uq_cost_anomalies_key"),
    )
    with op.batch_alter_table("cost_anomalies", schema=None) as batch_op:
        batch_op.create_index("ix_cost_anomalies_detected", ["detected_at"], unique=False)

    op.create_table(
        "cost_ingestions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("provider_name", sa.String(length=200), nullable=True),
        sa.Column("billing_account_id", sa.String(length=200), nullable=True),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("tag_rows", sa.Integer(), nullable=False),
        sa.Column("billed_total", sa.Numeric(precision=38, scale=12), nullable=False),
        sa.Column("effective_total", sa.Numeric(precision=38, scale=12), nullable=True),
        sa.Column("billing_currency", sa.String(length=3), nullable=True),
        sa.Column("checksum", sa.String(length=64), nullable=True),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cost_ingestions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cost_ingestions_scope",
            ["source", "billing_account_id", "period_start"],
            unique=False,
        )

    op.create_table(
        "cost_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.Column("availability_zone", sa.String(length=100), nullable=True),
        sa.Column("billed_cost", sa.Numeric(precision=38, scale=12), nullable=False),
        sa.Column("billing_account_id", sa.String(length=200), nullable=False),
        sa.Column("billing_account_name", sa.Text(), nullable=True),
        sa.Column("billing_account_type", sa.String(length=100), nullable=True),
        sa.Column("billing_currency", sa.String(length=3), nullable=False),
        sa.Column("billing_period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("billing_period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("capacity_reservation_id", sa.Text(), nullable=True),
        sa.Column("capacity_reservation_status", sa.String(length=32), nullable=True),
        sa.Column("charge_category", sa.String(length=32), nullable=False),
        sa.Column("charge_class", sa.String(length=32), nullable=True),
        sa.Column("charge_description", sa.Text(), nullable=True),
        sa.Column("charge_frequency", sa.String(length=32), nullable=True),
        sa.Column("charge_period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("charge_period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commitment_discount_category", sa.String(length=32), nullable=True),
        sa.Column("commitment_discount_id", sa.Text(), nullable=True),
        sa.Column("commitment_discount_name", sa.Text(), nullable=True),
        sa.Column(
            "commitment_discount_quantity", sa.Numeric(precision=38, scale=12), nullable=True
        ),
        sa.Column("commitment_discount_status", sa.String(length=32), nullable=True),
        sa.Column("commitment_discount_type", sa.String(length=200), nullable=True),
        sa.Column("commitment_discount_unit", sa.String(length=100), nullable=True),
        sa.Column("consumed_quantity", sa.Numeric(precision=38, scale=12), nullable=True),
        sa.Column("consumed_unit", sa.String(length=100), nullable=True),
        sa.Column("contracted_cost", sa.Numeric(precision=38, scale=12), nullable=True),
        sa.Column("contracted_unit_price", sa.Numeric(precision=38, scale=12), nullable=True),
        sa.Column("effective_cost", sa.Numeric(precision=38, scale=12), nullable=False),
        sa.Column("invoice_id", sa.String(length=200), nullable=True),
        sa.Column("invoice_issuer_name", sa.String(length=200), nullable=True),
        sa.Column("list_cost", sa.Numeric(precision=38, scale=12), nullable=True),
        sa.Column("list_unit_price", sa.Numeric(precision=38, scale=12), nullable=True),
        sa.Column("pricing_category", sa.String(length=32), nullable=True),
        sa.Column("pricing_currency", sa.String(length=3), nullable=True),
        sa.Column(
            "pricing_currency_contracted_unit_price",
            sa.Numeric(precision=38, scale=12),
            nullable=True,
        ),
        sa.Column(
            "pricing_currency_effective_cost", sa.Numeric(precision=38, scale=12), nullable=True
        ),
        sa.Column(
            "pricing_currency_list_unit_price", sa.Numeric(precision=38, scale=12), nullable=True
        ),
        sa.Column("pricing_quantity", sa.Numeric(precision=38, scale=12), nullable=True),
        sa.Column("pricing_unit", sa.String(length=100), nullable=True),
        sa.Column("provider_name", sa.String(length=200), nullable=False),
        sa.Column("publisher_name", sa.String(length=200), nullable=True),
        sa.Column("region_id", sa.String(length=100), nullable=True),
        sa.Column("region_name", sa.String(length=200), nullable=True),
        sa.Column("resource_id", sa.Text(), nullable=True),
        sa.Column("resource_name", sa.Text(), nullable=True),
        sa.Column("resource_type", sa.String(length=200), nullable=True),
        sa.Column("service_category", sa.String(length=64), nullable=True),
        sa.Column("service_name", sa.String(length=200), nullable=True),
        sa.Column("service_subcategory", sa.String(length=200), nullable=True),
        sa.Column("sku_id", sa.String(length=200), nullable=True),
        sa.Column("sku_meter", sa.Text(), nullable=True),
        sa.Column("sku_price_details", sa.JSON(), nullable=True),
        sa.Column("sku_price_id", sa.Text(), nullable=True),
        sa.Column("sub_account_id", sa.String(length=200), nullable=True),
        sa.Column("sub_account_name", sa.Text(), nullable=True),
        sa.Column("sub_account_type", sa.String(length=100), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cost_lines", schema=None) as batch_op:
        batch_op.create_index("ix_cost_lines_period", ["charge_period_start"], unique=False)
        batch_op.create_index(
            "ix_cost_lines_scope",
            ["source", "billing_account_id", "charge_period_start"],
            unique=False,
        )

    op.create_table(
        "cost_tag_totals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("provider_name", sa.String(length=200), nullable=False),
        sa.Column("billing_account_id", sa.String(length=200), nullable=False),
        sa.Column("tag_key", sa.String(length=128), nullable=False),
        sa.Column("tag_value", sa.String(length=256), nullable=False),
        sa.Column("charge_period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("charge_period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("billed_cost", sa.Numeric(precision=38, scale=12), nullable=False),
        sa.Column("effective_cost", sa.Numeric(precision=38, scale=12), nullable=False),
        sa.Column("contracted_cost", sa.Numeric(precision=38, scale=12), nullable=True),
        sa.Column("billing_currency", sa.String(length=3), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "source",
            "billing_account_id",
            "tag_key",
            "tag_value",
            "charge_period_start",
            name="uq_cost_tag_totals_day",
        ),
    )
    with op.batch_alter_table("cost_tag_totals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cost_tag_totals_period", ["tag_key", "charge_period_start"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cost_tag_totals", schema=None) as batch_op:
        batch_op.drop_index("ix_cost_tag_totals_period")

    op.drop_table("cost_tag_totals")
    with op.batch_alter_table("cost_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_cost_lines_scope")
        batch_op.drop_index("ix_cost_lines_period")

    op.drop_table("cost_lines")
    with op.batch_alter_table("cost_ingestions", schema=None) as batch_op:
        batch_op.drop_index("ix_cost_ingestions_scope")

    op.drop_table("cost_ingestions")
    with op.batch_alter_table("cost_anomalies", schema=None) as batch_op:
        batch_op.drop_index("ix_cost_anomalies_detected")

    op.drop_table("cost_anomalies")
