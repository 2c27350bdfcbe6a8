"""Alembic environment: the engine comes from ``config.attributes`` (see tasks.store.engine)."""

from __future__ import annotations

from alembic import context

# Imported to register their tables on Base.metadata (autogenerate must see every model).
import tasks.cost.anomaly.models  # noqa: F401
from tasks.store import chargeback_models, cost_models  # noqa: F401
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
