"""cost anomaly notices per target (immediate alerts and daily digests)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 16:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cost_anomaly_notices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "anomaly_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["anomaly_id"], ["cost_anomalies.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("anomaly_id", "target", "kind", name="uq_cost_anomaly_notices"),
    )
    with op.batch_alter_table("cost_anomaly_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cost_anomaly_notices_digest", ["target", "kind", "day"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cost_anomaly_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_cost_anomaly_notices_digest")
    op.drop_table("cost_anomaly_notices")
