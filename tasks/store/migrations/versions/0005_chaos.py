"""chaos experiment runs and their journals

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chaos_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("experiment_file", sa.String(length=1000), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deviated", sa.Boolean(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("steady_states", sa.JSON(), nullable=False),
        sa.Column("activities", sa.JSON(), nullable=False),
        sa.Column("probe_success", sa.Float(), nullable=True),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", _AT, nullable=False),
        sa.Column("ended_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id"),
    )
    with op.batch_alter_table("chaos_runs", schema=None) as batch_op:
        batch_op.create_index("ix_chaos_runs_service", ["service", "started_at"], unique=False)

    op.create_table(
        "chaos_faults",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("driver", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=400), nullable=False),
        sa.Column("handle", sa.JSON(), nullable=False),
        sa.Column("injected_at", _AT, nullable=False),
        sa.Column("removed_at", _AT, nullable=True),
        sa.Column("verified_clean", sa.Boolean(), nullable=True),
        sa.Column("verification", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["chaos_runs.run_id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("chaos_faults", schema=None) as batch_op:
        batch_op.create_index("ix_chaos_faults_run", ["run_id"], unique=False)

    op.create_table(
        "chaos_check_results",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("check_id", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("scheduled_at", _AT, nullable=False),
        sa.Column("started_at", _AT, nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "run_id", "check_id", "scheduled_at", name="uq_chaos_check_results_run"
        ),
    )
    with op.batch_alter_table("chaos_check_results", schema=None) as batch_op:
        batch_op.create_index(
            "ix_chaos_check_results_started", ["run_id", "started_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("chaos_check_results", schema=None) as batch_op:
        batch_op.drop_index("ix_chaos_check_results_started")
    op.drop_table("chaos_check_results")
    with op.batch_alter_table("chaos_faults", schema=None) as batch_op:
        batch_op.drop_index("ix_chaos_faults_run")
    op.drop_table("chaos_faults")
    with op.batch_alter_table("chaos_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_chaos_runs_service")
    op.drop_table("chaos_runs")
