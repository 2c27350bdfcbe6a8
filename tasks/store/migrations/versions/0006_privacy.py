"""data-subject requests and intake deliveries

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dsr_requests",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ticket_id", sa.String(length=200), nullable=False),
        sa.Column("request_type", sa.String(length=16), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_detail", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extended_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("identities", sa.JSON(), nullable=False),
        sa.Column("corrections", sa.JSON(), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("start_attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("source", "ticket_id", name="uq_dsr_requests_ticket"),
    )
    with op.batch_alter_table("dsr_requests", schema=None) as batch_op:
        batch_op.create_index("ix_dsr_requests_status_due", ["status", "due_at"], unique=False)

    op.create_table(
        "intake_deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "delivery_id", name="uq_intake_deliveries_delivery"),
    )
    with op.batch_alter_table("intake_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_intake_deliveries_received", ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("intake_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_intake_deliveries_received")
    op.drop_table("intake_deliveries")
    with op.batch_alter_table("dsr_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_dsr_requests_status_due")
    op.drop_table("dsr_requests")
