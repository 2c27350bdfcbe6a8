"""Alembic environment: the engine comes from ``config.attributes`` (see tasks.store.engine)."""

from __future__ import annotations

from alembic import context

from tasks.store import cost_models  # noqa: F401  (registers the cost tables on Base.metadata)
from tasks.store.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
