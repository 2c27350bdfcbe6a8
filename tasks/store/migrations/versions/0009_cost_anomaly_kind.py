"""cost anomalies: the kind of change (anomaly, step_change, new_spend)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cost_anomalies") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="anomaly")
        )


def downgrade() -> None:
    with op.batch_alter_table("cost_anomalies") as batch:
        batch.drop_column("kind")
