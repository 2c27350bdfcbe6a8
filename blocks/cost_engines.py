"""Cost query engines a user already runs: a BigQuery table and an Athena table of cost lines.

``TRACEO_COST_ENGINE=bigquery|athena`` with ``TRACEO_COST_ENGINE_BLOCK=<block name>`` sends every
cost query to the table the block names (see :mod:`tasks.cost.lake.engines`). The table holds
lake rows: the FOCUS 1.2 columns under their FOCUS names, plus ``x_Source``, ``x_Estimated`` and
``x_Extra`` (docs/scale.md says how to define one over the lake's files or an export).
"""

from __future__ import annotations

from typing import Any

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks.google_auth import BIGQUERY_SCOPES, google_credentials

__all__ = ["AthenaCostTable", "BigQueryCostTable"]

_PERIOD = (
    "The table's billing-period partition column (values YYYY-MM), so a query reads only the "
    "periods it needs; empty if the table has none."
)


class BigQueryCostTable(Block):
    """A BigQuery table (or view) of cost lines in the lake's columns.

    Example:
        Load a saved table (Traceo does so with TRACEO_COST_ENGINE=bigquery and
        TRACEO_COST_ENGINE_BLOCK=BLOCK_NAME) and count its rows:
        ```python
        from blocks.cost_engines import BigQueryCostTable

        cost_table = BigQueryCostTable.load("BLOCK_NAME")
        name = ".".join(cost_table.table_parts())
        rows = cost_table.get_client().query(f"SELECT count(*) FROM `{name}`").result()
        ```
    """

    _block_type_name = "Traceo BigQuery Cost Table"
    _block_type_slug = "traceo-bigquery-cost-table"
    _documentation_url = "https://cloud.google.com/bigquery/docs/reference/libraries"  # type: ignore[assignment]

    project: str = Field(description="The Google Cloud project of the table.")
    dataset: str = Field(description="The dataset of the table.")
    table: str = Field(description="The table or view of cost lines.")
    billing_period_column: str | None = Field(default=None, description=_PERIOD)
    location: str | None = Field(
        default=None, description="Where queries run (e.g. EU, US); default: the dataset's."
    )
    service_account_info: SecretStr | None = Field(
        default=None,
        description=(
            "The service-account key (JSON) allowed to query the table; leave empty to use "
            "Application Default Credentials."
        ),
    )

    api_endpoint: str | None = Field(
        default=None,
        description=(
            "A BigQuery-compatible endpoint, e.g. http://127.0.0.1:PORT for the local fake "
            "(anonymous over http://); empty for BigQuery itself."
        ),
    )

    def table_parts(self) -> tuple[str, ...]:
        """The table's full name, part by part."""
        return (self.project, self.dataset, self.table)

    def get_client(self) -> Any:
        """A ``google.cloud.bigquery.Client`` billed to :attr:`project`."""
        from google.cloud import bigquery

        credentials = google_credentials(
            self.service_account_info, BIGQUERY_SCOPES, self.api_endpoint
        )
        options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
        return bigquery.Client(
            project=self.project,
            credentials=credentials,
            location=self.location,
            client_options=options,
        )


class AthenaCostTable(Block):
    """An Athena (Glue catalog) table of cost lines in the lake's columns.

    Example:
        Load a saved table (Traceo does so with TRACEO_COST_ENGINE=athena and
        TRACEO_COST_ENGINE_BLOCK=BLOCK_NAME) and list its workgroup's recent queries:
        ```python
        from blocks.cost_engines import AthenaCostTable

        cost_table = AthenaCostTable.load("BLOCK_NAME")
        athena = cost_table.get_client()
        print(athena.list_query_executions(WorkGroup=cost_table.workgroup))
        ```
    """

    _block_type_name = "Traceo Athena Cost Table"
    _block_type_slug = "traceo-athena-cost-table"
    _documentation_url = "https://docs.aws.amazon.com/athena/latest/APIReference/Welcome.html"  # type: ignore[assignment]

    database: str = Field(description="The Glue database of the table.")
    table: str = Field(description="The table of cost lines.")
    output_location: str = Field(
        description="Where Athena writes query results, e.g. s3://acme-athena-results/traceo/."
    )
    workgroup: str = Field(default="primary", description="The Athena workgroup queries run in.")
    catalog: str = Field(default="AwsDataCatalog", description="The data catalog of the database.")
    billing_period_column: str | None = Field(default="billing_period", description=_PERIOD)
    region_name: str | None = Field(
        default=None, description="The AWS region; default: the environment's."
    )
    endpoint_url: str | None = Field(
        default=None, description="An Athena-compatible endpoint (tests: the local moto server)."
    )

    def table_parts(self) -> tuple[str, ...]:
        """The table's full name, part by part."""
        return (self.catalog, self.database, self.table)

    def get_client(self) -> Any:
        """A boto3 Athena client (credentials from the environment's default chain)."""
        import boto3

        return boto3.client("athena", region_name=self.region_name, endpoint_url=self.endpoint_url)
