"""Alembic environment: the connection, already locked, comes from ``config.attributes``.

See :mod:`tasks.store.migrate`: the caller holds the migration lock on this connection and
commits the transaction the migrations run in.
"""

from __future__ import annotations

from alembic import context

# Imported to register their tables on Base.metadata (autogenerate must see every model).
import tasks.cost.anomaly.models  # noqa: F401
from tasks.store import (  # noqa: F401
    chaos_models,
    chargeback_models,
    cost_models,
    fulfilment_models,
    model_registry_models,
    packed_models,
    privacy_models,
    rollup_models,
)
from tasks.store.models import Base
from tasks.store.partitions import is_partition

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # The daily partitions of check results are data, not schema.
    include_name=lambda name, kind, _parents: not (kind == "table" and is_partition(name or "")),
)
context.run_migrations()
