"""packed hours of raw check results and minute rollups (one compressed row per check, region
and hour)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_packed_hours",
        sa.Column("check_id", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("hour_start", sa.BigInteger(), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("first_scheduled", sa.BigInteger(), nullable=False),
        sa.Column("last_scheduled", sa.BigInteger(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("minute_buckets", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("check_id", "region", "hour_start"),
    )
    with op.batch_alter_table("check_packed_hours", schema=None) as batch_op:
        batch_op.create_index("ix_check_packed_hours_hour", ["hour_start"], unique=False)
        batch_op.create_index(
            "ix_check_packed_hours_last_scheduled", ["last_scheduled"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("check_packed_hours", schema=None) as batch_op:
        batch_op.drop_index("ix_check_packed_hours_last_scheduled")
        batch_op.drop_index("ix_check_packed_hours_hour")
    op.drop_table("check_packed_hours")
