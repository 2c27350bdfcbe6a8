"""chargeback runs and the immutable ledger

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 16:47:15.671590
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_MONEY = sa.Numeric(precision=38, scale=12)


def upgrade() -> None:
    op.create_table(
        "chargeback_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("source_total", _MONEY, nullable=True),
        sa.Column("allocated_total", _MONEY, nullable=True),
        sa.Column("unallocated_total", _MONEY, nullable=True),
        sa.Column("statement_totals", sa.JSON(), nullable=False),
        sa.Column("entries_posted", sa.Integer(), nullable=False),
        sa.Column("input_checksum", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id"),
    )
    with op.batch_alter_table("chargeback_runs", schema=None) as batch_op:
        batch_op.create_index("ix_chargeback_runs_period", ["period", "started_at"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("entry_key", sa.String(length=64), nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=400), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("quantity", _MONEY, nullable=True),
        sa.Column("unit", sa.String(length=100), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("charged", sa.Boolean(), nullable=False),
        sa.Column("correction", sa.Boolean(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["chargeback_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_key"),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entries_period_team", ["period", "team"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_period_team")
    op.drop_table("ledger_entries")
    with op.batch_alter_table("chargeback_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_chargeback_runs_period")
    op.drop_table("chargeback_runs")
