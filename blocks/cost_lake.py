"""Where the cost lake lives: a directory, or a bucket on S3 or an S3-compatible store.

Ingestion, anomaly detection and chargeback load this block by name
(``TRACEO_COST_LAKE_BLOCK``) at run time. The keys stay in the referenced ``AwsCredentials``
block as secrets: they never reach logs, flow parameters or error messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect.blocks.core import Block
from prefect_aws import AwsCredentials
from pydantic import Field

if TYPE_CHECKING:
    from tasks.cost.lake import Lake

__all__ = ["CostLakeLocation"]


class CostLakeLocation(Block):
    """The cost lake: Parquet in FOCUS 1.2 columns, partitioned by provider, account and month.

    Example:
        Open the lake the flows use:
        ```python
        from blocks.cost_lake import CostLakeLocation

        lake = CostLakeLocation.load("BLOCK_NAME").open()
        ```
    """

    _block_type_name = "Traceo Cost Lake"
    _block_type_slug = "traceo-cost-lake"
    _documentation_url = "https://focus.finops.org/focus-specification/"  # type: ignore[assignment]

    url: str = Field(
        description="A directory, or s3://bucket/prefix (the bucket must exist).",
        examples=["s3://finops-lake/traceo", "/var/lib/traceo/lake"],
    )
    endpoint_url: str | None = Field(
        default=None, description="An S3-compatible server (MinIO, Ceph, ...); empty for AWS."
    )
    aws_credentials: AwsCredentials | None = Field(
        default=None,
        description="Keys and region for S3; empty: the worker's own (role, environment).",
    )

    def open(self) -> Lake:
        """The lake this block names (its bucket checked to exist)."""
        from tasks.cost.lake import Lake

        credentials = self.aws_credentials
        if credentials is None:
            return Lake.at(self.url, self.endpoint_url)
        secret = credentials.aws_secret_access_key
        return Lake.at(
            self.url,
            self.endpoint_url,
            access_key=credentials.aws_access_key_id,
            secret_key=secret.get_secret_value() if secret is not None else None,
            session_token=credentials.aws_session_token,
            region=credentials.region_name,
        )
