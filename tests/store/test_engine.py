from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from tasks.errors import ServiceUnavailableError, TransientError
from tasks.store import CheckResult, get_engine, session_scope


def _result(**overrides):
    values = dict(
        check_id="api-health",
        region="eu-west-1",
        scheduled_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        started_at=datetime(2026, 11, 1, 12, 0, 1, tzinfo=UTC),
        verdict="pass",
    )
    values.update(overrides)
    return CheckResult(**values)


def test_migrations_create_every_table(store_engine):
    tables = set(inspect(store_engine).get_table_names())
    assert {"check_results", "slo_evaluations", "alert_states", "alert_events"} <= tables
    assert "alembic_version" in tables


def test_datetimes_round_trip_as_aware_utc(store_engine):
    cet = timezone(timedelta(hours=1))
    with session_scope(store_engine) as session:
        session.add(_result(started_at=datetime(2026, 11, 1, 13, 0, 1, tzinfo=cet)))
    with session_scope(store_engine) as session:
        row = session.scalars(select(CheckResult)).one()
    assert row.started_at == datetime(2026, 11, 1, 12, 0, 1, tzinfo=UTC)
    assert row.started_at.tzinfo is not None


def test_naive_datetimes_are_refused(store_engine):
    with pytest.raises(Exception, match="naive datetime"), session_scope(store_engine) as session:
        session.add(_result(started_at=datetime(2026, 11, 1, 12, 0)))


def test_natural_key_rejects_a_duplicate_run(store_engine):
    with session_scope(store_engine) as session:
        session.add(_result())
    with pytest.raises(IntegrityError), session_scope(store_engine) as session:
        session.add(_result(verdict="fail"))
    with session_scope(store_engine) as session:
        assert session.scalars(select(CheckResult.verdict)).all() == ["pass"]


def test_default_store_is_sqlite_under_traceo_home(traceo_home):
    engine = get_engine()
    assert engine.url.get_backend_name() == "sqlite"
    assert (traceo_home / "traceo.db").exists()


def test_unreachable_store_is_a_transient_error():
    with pytest.raises(ServiceUnavailableError, match="store unreachable") as info:
        get_engine("postgresql+psycopg://nobody:hunter2@127.0.0.1:1/none?connect_timeout=2")
    assert isinstance(info.value, TransientError)
    assert "hunter2" not in str(info.value)


def test_a_password_given_as_a_query_parameter_is_hidden_too():
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?password=hunter2&connect_timeout=2"
    with pytest.raises(ServiceUnavailableError, match="store unreachable") as info:
        get_engine(url)
    assert "hunter2" not in str(info.value)
    assert "password=REDACTED" in str(info.value) and "connect_timeout=2" in str(info.value)


def test_migrations_match_every_model(store_engine):
    """Autogenerate finds nothing to do at head: no model lacks a migration, nothing drifts."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import tasks.cost.anomaly.models  # noqa: F401  (registers its table)
    from tasks.store import Base
    from tasks.store.partitions import is_partition

    def include_name(name, kind, _parents) -> bool:  # as the migrations' env.py does
        return not (kind == "table" and is_partition(name or ""))

    with store_engine.connect() as conn:
        opts = {"compare_type": False, "include_name": include_name}
        context = MigrationContext.configure(conn, opts=opts)
        assert compare_metadata(context, Base.metadata) == []


@pytest.mark.parametrize(
    "url", ["postgresql//traceo:hunter2@db/traceo", "postgres://traceo:hunter2@db/traceo"]
)
def test_a_malformed_store_url_is_one_line_without_its_password(monkeypatch, url):
    from tasks.errors import ConfigurationError
    from tasks.settings import get_settings

    monkeypatch.setenv("TRACEO_DATABASE_URL", url)
    get_settings.cache_clear()
    with pytest.raises(ConfigurationError, match=r"^TRACEO_DATABASE_URL: ") as info:
        get_engine()
    assert "hunter2" not in str(info.value) and "\n" not in str(info.value)
