"""the model registry and drift-monitoring decisions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ml_model_versions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("algorithm", sa.String(length=200), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("train_start", _AT, nullable=True),
        sa.Column("train_end", _AT, nullable=True),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("artifact_uri", sa.String(length=1000), nullable=False),
        sa.Column("rolled_back", sa.Boolean(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model", "version", name="uq_ml_model_versions"),
    )
    op.create_table(
        "ml_model_aliases",
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("alias", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("model", "alias"),
    )
    op.create_table(
        "ml_model_alias_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("alias", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("at", _AT, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ml_model_alias_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ml_model_alias_events_model", ["model", "alias", "at"], unique=False
        )
    op.create_table(
        "ml_decisions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("natural_key", sa.String(length=300), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("window_start", _AT, nullable=True),
        sa.Column("window_end", _AT, nullable=True),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("drifted", sa.Boolean(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("report_path", sa.String(length=1000), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("natural_key", name="uq_ml_decisions_key"),
    )
    with op.batch_alter_table("ml_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_ml_decisions_model", ["model", "kind", "at"], unique=False)
    op.create_table(
        "ml_retrain_leases",
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("acquired_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("model"),
    )


def downgrade() -> None:
    op.drop_table("ml_retrain_leases")
    with op.batch_alter_table("ml_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_ml_decisions_model")
    op.drop_table("ml_decisions")
    with op.batch_alter_table("ml_model_alias_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ml_model_alias_events_model")
    op.drop_table("ml_model_alias_events")
    op.drop_table("ml_model_aliases")
    op.drop_table("ml_model_versions")
