"""data-subject requests keep less: closure time, keyed identity hashes, when identities went

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dsr_requests") as batch:
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("identity_hashes", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("identities_dropped_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_dsr_requests_closed", ["closed_at"])
    # Requests closed before this revision count as closed when they were last updated.
    op.execute(
        "UPDATE dsr_requests SET closed_at = updated_at WHERE status IN ('completed', 'rejected')"
    )


def downgrade() -> None:
    with op.batch_alter_table("dsr_requests") as batch:
        batch.drop_index("ix_dsr_requests_closed")
        batch.drop_column("identities_dropped_at")
        batch.drop_column("identity_hashes")
        batch.drop_column("closed_at")
