"""check results partitioned by day on PostgreSQL (retention drops a day whole)

The table is rebuilt as ``PARTITION BY RANGE (scheduled_at)`` with a default partition and one
partition per day that holds rows; every row is copied, ids and their sequence kept. The primary
key becomes ``(id, scheduled_at)`` (PostgreSQL requires the partition key in it). SQLite is
unchanged.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 19:40:00
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from tasks.store.partitions import DEFAULT_PARTITION, PARENT, ensure_partitions

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_OLD = f"{PARENT}_unpartitioned"
_COLUMNS = (
    "id, check_id, region, scheduled_at, started_at, verdict, duration_ms, status_code, "
    "failing_step, error, attempts, detail, cert_expires_at, flow_run_id, simulated"
)
# The current table, its constraints, indexes and id sequence renamed out of the way.
_SET_ASIDE = (
    f"ALTER TABLE {PARENT} RENAME TO {_OLD}",
    f"ALTER TABLE {_OLD} RENAME CONSTRAINT uq_check_results_run TO uq_{_OLD}_run",
    f"ALTER TABLE {_OLD} RENAME CONSTRAINT {PARENT}_pkey TO {_OLD}_pkey",
    f"ALTER INDEX ix_check_results_check_started RENAME TO ix_{_OLD}_check_started",
    f"ALTER INDEX ix_check_results_started RENAME TO ix_{_OLD}_started",
    f"ALTER SEQUENCE {PARENT}_id_seq OWNED BY NONE",
)
# The new table takes the id sequence and the indexes under their usual names.
_TAKE_OVER = (
    f"ALTER SEQUENCE {PARENT}_id_seq OWNED BY {PARENT}.id",
    f"CREATE INDEX ix_check_results_check_started ON {PARENT} (check_id, started_at)",
    f"CREATE INDEX ix_check_results_started ON {PARENT} (started_at)",
)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for statement in (
        *_SET_ASIDE,
        f"""CREATE TABLE {PARENT} (
            id BIGINT NOT NULL DEFAULT nextval('{PARENT}_id_seq'),
            check_id VARCHAR(200) NOT NULL,
            region VARCHAR(64) NOT NULL,
            scheduled_at TIMESTAMP WITH TIME ZONE NOT NULL,
            started_at TIMESTAMP WITH TIME ZONE NOT NULL,
            verdict VARCHAR(16) NOT NULL,
            duration_ms FLOAT,
            status_code INTEGER,
            failing_step VARCHAR(200),
            error TEXT,
            attempts INTEGER NOT NULL,
            detail JSON NOT NULL,
            cert_expires_at TIMESTAMP WITH TIME ZONE,
            flow_run_id VARCHAR(64),
            simulated BOOLEAN NOT NULL,
            CONSTRAINT {PARENT}_pkey PRIMARY KEY (id, scheduled_at),
            CONSTRAINT uq_check_results_run UNIQUE (check_id, region, scheduled_at)
        ) PARTITION BY RANGE (scheduled_at)""",
        *_TAKE_OVER,
        f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {PARENT} DEFAULT",
    ):
        conn.execute(text(statement))
    days = conn.execute(
        text(
            "SELECT DISTINCT date_trunc('day', scheduled_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' "
            f"FROM {_OLD}"
        )
    )
    ensure_partitions(conn, [day for (day,) in days])
    conn.execute(text(f"INSERT INTO {PARENT} ({_COLUMNS}) SELECT {_COLUMNS} FROM {_OLD}"))
    conn.execute(text(f"DROP TABLE {_OLD}"))


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for statement in (
        *_SET_ASIDE,
        f"CREATE TABLE {PARENT} (LIKE {_OLD} INCLUDING DEFAULTS)",
        f"ALTER TABLE {PARENT} ADD CONSTRAINT {PARENT}_pkey PRIMARY KEY (id)",
        f"ALTER TABLE {PARENT} ADD CONSTRAINT uq_check_results_run "
        "UNIQUE (check_id, region, scheduled_at)",
        *_TAKE_OVER,
        f"INSERT INTO {PARENT} ({_COLUMNS}) SELECT {_COLUMNS} FROM {_OLD}",
        f"DROP TABLE {_OLD} CASCADE",
    ):
        conn.execute(text(statement))
