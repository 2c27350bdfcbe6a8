"""data-subject requests: indexes on the keyed identity hashes (finding a person's requests)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 00:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_KINDS = ("email", "phone", "customer_id")


def _hash_text(dialect: str, kind: str) -> str:
    """The hash of ``kind`` as JSON text, as ``tasks.store.sql.json_text`` writes it."""
    if dialect == "postgresql":
        return f"CAST(identity_hashes -> '{kind}' AS TEXT)"
    return f"CAST((identity_hashes -> '$.\"{kind}\"') AS TEXT)"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    hashed = sa.text("identity_hashes IS NOT NULL")
    for kind in _KINDS:
        op.create_index(
            f"ix_dsr_requests_hash_{kind}",
            "dsr_requests",
            [sa.text(_hash_text(dialect, kind))],
            sqlite_where=hashed,
            postgresql_where=hashed,
        )


def downgrade() -> None:
    for kind in _KINDS:
        op.drop_index(f"ix_dsr_requests_hash_{kind}", table_name="dsr_requests")
