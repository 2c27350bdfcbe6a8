"""check rollups (minute, hour, day) and store marks (retention cutoffs, rebuild progress)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_rollups",
        sa.Column("check_id", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("bucket_start", sa.BigInteger(), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("pass_count", sa.Integer(), nullable=False),
        sa.Column("degraded_count", sa.Integer(), nullable=False),
        sa.Column("fail_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("no_latency_count", sa.Integer(), nullable=False),
        sa.Column("latency_sum_ms", sa.Float(), nullable=False),
        sa.Column("last_pass_at", sa.BigInteger(), nullable=True),
        sa.Column("last_degraded_at", sa.BigInteger(), nullable=True),
        sa.Column("last_fail_at", sa.BigInteger(), nullable=True),
        sa.Column("last_error_at", sa.BigInteger(), nullable=True),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("check_id", "region", "resolution", "bucket_start"),
    )
    with op.batch_alter_table("check_rollups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_check_rollups_bucket", ["resolution", "bucket_start"], unique=False
        )
    op.create_table(
        "store_marks",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("store_marks")
    with op.batch_alter_table("check_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_check_rollups_bucket")
    op.drop_table("check_rollups")
