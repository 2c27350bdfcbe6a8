"""Cost sources: one :class:`CostSource` interface, one implementation per provider.

========================  ===============================================================
``aws_cost_explorer``     AWS Cost Explorer ``GetCostAndUsage`` (daily, by service/account
                          and by a cost-allocation tag)
``aws_data_export``       AWS Data Exports (CUR 2.0 or FOCUS 1.x) read in place from S3
``focus_files``           FOCUS CSV / CSV.gz / Parquet files, local or in S3
``gcp_billing``           the Google Cloud billing export (FOCUS) + the Cloud Billing API
``bigquery_export``       the Google Cloud billing export read in place in BigQuery
                          (standard, detailed or FOCUS table; ``type: gcp_bigquery_export``)
``snapshot``              recorded Cost Explorer pages and in-memory rows (no network)
========================  ===============================================================

Definitions live in ``deployments/cost/sources.yaml`` (:mod:`tasks.cost.sources.config`).
"""

from tasks.cost.sources.base import TAG_TOTALS_SCHEMA, CostChunk, CostSource
from tasks.cost.sources.config import (
    SourceConfig,
    build_source,
    get_source_config,
    load_source_configs,
)

__all__ = [
    "TAG_TOTALS_SCHEMA",
    "CostChunk",
    "CostSource",
    "SourceConfig",
    "build_source",
    "get_source_config",
    "load_source_configs",
]
