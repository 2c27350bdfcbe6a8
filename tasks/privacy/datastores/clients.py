"""Driver clients for datastores, created once per URL per process (pools are reused).

Connection timeouts are short on purpose: a datastore that is down must surface quickly as a
:class:`~tasks.errors.ServiceUnavailableError` so the request waits and retries.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from tasks.errors import ConfigurationError
from tasks.privacy.datamap import Datastore

__all__ = ["client_for", "redis_client", "s3_client", "sql_engine"]

_CLIENTS: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()
CONNECT_TIMEOUT = 3


def _cached(key: tuple[Any, ...], factory: Any) -> Any:
    with _LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = factory()
        return _CLIENTS[key]


def sql_engine(url: str) -> Any:
    """A SQLAlchemy engine with connect timeouts for PostgreSQL and MySQL/MariaDB."""
    from sqlalchemy import create_engine

    def make() -> Any:
        args: dict[str, Any] = {}
        if url.startswith(("postgresql", "mysql")):
            args["connect_timeout"] = CONNECT_TIMEOUT
        return create_engine(url, connect_args=args, pool_pre_ping=True)

    return _cached(("sql", url), make)


def redis_client(url: str) -> Any:
    import redis

    return _cached(
        ("redis", url),
        lambda: redis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=30, decode_responses=True
        ),
    )


def s3_client(**kwargs: Any) -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    config = Config(connect_timeout=CONNECT_TIMEOUT, retries={"max_attempts": 2})
    options = {k: v for k, v in kwargs.items() if v}
    key = ("s3", *sorted(options.items()))
    return _cached(key, lambda: boto3.client("s3", config=config, **options))


def client_for(name: str, spec: Datastore) -> Any:
    """The client for datastore ``name``: from its Prefect block or its environment variable.

    With ``env``, the variable holds the URL (SQL, Redis) or the S3 endpoint (empty for AWS;
    credentials then come from the standard ``AWS_*`` variables).
    """
    conn = spec.connection
    if conn.block:
        from blocks.privacy import DatastoreCredentials

        try:
            block: Any = DatastoreCredentials.load(conn.block)
        except ValueError:
            raise ConfigurationError(
                f"datastore {name!r}: Prefect block {conn.block!r} is not saved"
            ) from None
        return block.get_client(spec.kind)
    assert conn.env is not None
    value = os.environ.get(conn.env)
    if value is None:
        raise ConfigurationError(f"datastore {name!r}: environment variable {conn.env} is unset")
    if spec.kind == "s3":
        return s3_client(endpoint_url=value or None)
    return redis_client(value) if spec.kind == "redis" else sql_engine(value)
