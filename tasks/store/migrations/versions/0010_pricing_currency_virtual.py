"""cost lines: PricingCurrency holds virtual currencies too ("Token"), up to 100 characters

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cost_lines") as batch:
        batch.alter_column(
            "pricing_currency", type_=sa.String(length=100), existing_type=sa.String(length=3)
        )


def downgrade() -> None:
    with op.batch_alter_table("cost_lines") as batch:
        batch.alter_column(
            "pricing_currency", type_=sa.String(length=3), existing_type=sa.String(length=100)
        )
