"""The indexes on the keyed identity hashes: migrated both ways, and used by the lookup."""

from __future__ import annotations

from sqlalchemy import Engine, select

from tasks.privacy.minimise import same_person
from tasks.store.migrate import _alembic_config
from tasks.store.privacy_models import IDENTITY_KINDS, DsrRequest

INDEXES = {f"ix_dsr_requests_hash_{kind}" for kind in IDENTITY_KINDS}


def _hash_indexes(engine: Engine) -> set[str]:
    """From the catalogue: SQLAlchemy does not reflect expression indexes on SQLite."""
    catalogue = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index'",
        "postgresql": "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()",
    }
    with engine.connect() as conn:
        names = {row[0] for row in conn.exec_driver_sql(catalogue[conn.dialect.name])}
    return {name for name in names if name.startswith("ix_dsr_requests_hash_")}


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    from alembic import command

    with engine.connect() as conn:
        config = _alembic_config()
        config.attributes["connection"] = conn
        getattr(command, direction)(config, revision)
        conn.commit()


def test_the_hash_indexes_migrate_down_and_up_again(store_engine):
    assert _hash_indexes(store_engine) == INDEXES
    _migrate(store_engine, "downgrade", "0014")
    assert _hash_indexes(store_engine) == set()
    _migrate(store_engine, "upgrade", "head")
    assert _hash_indexes(store_engine) == INDEXES


def test_finding_a_persons_requests_reads_the_hash_indexes(store_engine):
    query = select(DsrRequest.public_id).where(same_person({"email": "ab" * 32, "phone": "cd"}))
    with store_engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = " ".join(
                str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            )
        else:  # an empty table is scanned whatever the indexes: ask whether one can be used
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {sql}"))
    assert "ix_dsr_requests_hash_email" in plan and "ix_dsr_requests_hash_phone" in plan, plan
