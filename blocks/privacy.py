"""Credentials of the datastores a data map names (SQL databases, Redis, S3).

A data map's datastore says ``connection: {block: NAME}``; the fulfilment flow loads this block
by that name at run time and asks it for a client of the datastore's kind. Secrets stay
``SecretStr`` and never reach logs or flow parameters.
"""

from __future__ import annotations

from typing import Any, Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

__all__ = ["DatastoreCredentials"]


class DatastoreCredentials(Block):
    """Access to one datastore holding personal data.

    Example:
        Load saved credentials and query the datastore:
        ```python
        from blocks.privacy import DatastoreCredentials

        shop_db = DatastoreCredentials.load("BLOCK_NAME")
        engine = shop_db.get_client("postgresql")
        ```
    """

    _block_type_name = "Traceo Datastore Credentials"
    _block_type_slug = "traceo-datastore-credentials"
    _documentation_url = "https://docs.sqlalchemy.org/en/20/core/engines.html"  # type: ignore[assignment]

    url: SecretStr | None = Field(
        default=None,
        description=(
            "SQL: a SQLAlchemy URL (postgresql+psycopg://, mysql+pymysql://, sqlite:///); "
            "Redis: redis://host:port/db. Not used for S3."
        ),
    )
    endpoint_url: str | None = Field(
        default=None, description="S3: an endpoint other than AWS (e.g. a local moto server)."
    )
    region_name: str | None = Field(default=None, description="S3: the AWS region.")
    aws_access_key_id: str | None = Field(default=None, description="S3: the access key id.")
    aws_secret_access_key: SecretStr | None = Field(
        default=None, description="S3: the secret access key."
    )

    def get_client(self, kind: Literal["postgresql", "mysql", "sqlite", "redis", "s3"]) -> Any:
        """A SQLAlchemy engine, a ``redis.Redis`` or a boto3 S3 client for ``kind``."""
        from tasks.privacy.datastores.clients import redis_client, s3_client, sql_engine

        if kind == "s3":
            secret = self.aws_secret_access_key
            return s3_client(
                endpoint_url=self.endpoint_url,
                region_name=self.region_name,
                aws_access_key_id=self.aws_access_key_id,
                aws_secret_access_key=secret.get_secret_value() if secret else None,
            )
        if self.url is None:
            raise ValueError(f"a {kind} datastore needs 'url'")
        url = self.url.get_secret_value()
        return redis_client(url) if kind == "redis" else sql_engine(url)
