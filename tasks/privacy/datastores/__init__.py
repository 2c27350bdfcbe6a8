"""Datastores holding personal data, behind one interface (:class:`Datastore`).

One module per kind: :mod:`.sql` (PostgreSQL, MySQL/MariaDB, SQLite), :mod:`.redis_store` and
:mod:`.s3`. :func:`open_datastore` builds the right one from a data map entry.
"""

from __future__ import annotations

from tasks.privacy.datamap import SQL_KINDS, DataMap
from tasks.privacy.datastores.base import Datastore, Row, is_masked, mask_value

__all__ = ["Datastore", "Row", "is_masked", "mask_value", "open_datastore"]


def open_datastore(datamap: DataMap, name: str) -> Datastore:
    """The datastore ``name`` of ``datamap``, connected through its block or environment."""
    from tasks.errors import NotFoundError
    from tasks.privacy.datastores.clients import client_for

    spec = datamap.datastores.get(name)
    if spec is None:
        raise NotFoundError(f"datastore {name!r} is not in the data map")
    client = client_for(name, spec)
    if spec.kind in SQL_KINDS:
        from tasks.privacy.datastores.sql import SqlDatastore

        return SqlDatastore(name, client)
    if spec.kind == "redis":
        from tasks.privacy.datastores.redis_store import RedisDatastore

        return RedisDatastore(name, client)
    from tasks.privacy.datastores.s3 import S3Datastore

    assert spec.bucket is not None
    return S3Datastore(name, client, spec.bucket)
