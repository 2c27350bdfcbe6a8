"""The core settings (``TRACEO_<NAME>``): local state, the store, specs, probes and results."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["REPO", "Settings"]

# The example specs ship in the repository next to the packages (deployments/checks, .../slos).
REPO = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Traceo's core configuration; the other areas are in :mod:`tasks.settings.areas`."""

    model_config = SettingsConfigDict(env_prefix="TRACEO_", extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path.home() / ".traceo",
        description="local state: the SQLite store, results, evidence, demo files",
    )
    database_url: str | None = Field(
        default=None,
        description="the store (default: SQLite under `TRACEO_HOME`); PostgreSQL in production, "
        "e.g. `postgresql+psycopg://traceo@db/traceo`",
    )
    migration_lock_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="how long a starting process waits for another to finish migrating the store",
    )
    result_storage: str | None = Field(
        default=None,
        description="where flows persist results: an absolute directory or a Prefect block slug "
        "such as `s3-bucket/traceo-results` (default: `$TRACEO_HOME/results`)",
    )
    files_url: str | None = Field(
        default=None,
        description="the base URL at which browsers reach `$TRACEO_HOME` files (chargeback "
        "statements, drift reports, signed access bundle links), e.g. the intake's "
        "`http://127.0.0.1:8787/files`; artifact links use it instead of `file://` paths",
    )
    repo_dir: Path | None = Field(
        default=None,
        description="the repository checkout on a worker; the pull step of "
        "`deployments/prefect.yaml` runs each flow there",
    )
    require_services: bool = Field(
        default=False,
        description="tests fail instead of skip when PostgreSQL, MariaDB, Redis or a browser "
        "is missing (CI sets it)",
    )
    checks_path: Path = Field(
        default=REPO / "deployments" / "checks", description="check files the probe flow loads"
    )
    slos_path: Path = Field(
        default=REPO / "deployments" / "slos", description="OpenSLO files the SLO flow loads"
    )
    status_page: Path = Field(
        default=REPO / "deployments" / "status" / "shop.yaml",
        description="the public status page spec `traceo status` publishes",
    )
    cost_sources: Path = Field(
        default=REPO / "deployments" / "cost" / "sources.yaml",
        description="cost ingestion's source definitions",
    )
    cost_monitors: Path = Field(
        default=REPO / "deployments" / "cost" / "monitors.yaml",
        description="cost anomaly monitors",
    )
    cost_lake: str | None = Field(
        default=None,
        description="where cost lines live (Parquet in FOCUS columns): a directory or "
        "`s3://bucket/prefix` (default: `$TRACEO_HOME/lake`)",
    )
    cost_lake_endpoint_url: str | None = Field(
        default=None, description="an S3-compatible server for `TRACEO_COST_LAKE`"
    )
    cost_engine: Literal["duckdb", "spark", "bigquery", "athena"] = Field(
        default="duckdb",
        description="the engine that runs cost queries (docs/scale.md): embedded `duckdb` over "
        "the lake, `spark` over the lake (local, or `TRACEO_SPARK_REMOTE`), or the `bigquery` / "
        "`athena` table that `TRACEO_COST_ENGINE_BLOCK` names",
    )
    spark_remote: str | None = Field(
        default=None,
        description="a Spark Connect URL for `TRACEO_COST_ENGINE=spark`, e.g. "
        "`sc://spark-master:15002` (default: Spark in local mode in the worker)",
    )
    cost_engine_block: str | None = Field(
        default=None,
        description="the saved `traceo-bigquery-cost-table` or `traceo-athena-cost-table` block "
        "that `TRACEO_COST_ENGINE=bigquery|athena` queries",
    )
    cost_lake_block: str | None = Field(
        default=None,
        description="a saved `traceo-cost-lake` block (its bucket, endpoint and AWS "
        "credentials block); wins over `TRACEO_COST_LAKE`",
    )
    gcp_billing_endpoint: str | None = Field(
        default=None,
        description="a Cloud Billing API endpoint for local runs (e.g. the fake in "
        "`infra/sandbox`) when no GCP block is named",
    )
    prometheus_block: str | None = Field(
        default=None,
        description="a saved `traceo-prometheus-connection` block: the Prometheus that SLIs "
        "with `metricSource.type: prometheus` read",
    )
    prometheus_url: str | None = Field(
        default=None,
        description="that Prometheus for local runs when no block is named, e.g. "
        "`http://127.0.0.1:9090`",
    )
    prometheus_token: SecretStr | None = Field(
        default=None, description="a bearer token sent to `TRACEO_PROMETHEUS_URL`"
    )
    chromium_path: Path | None = Field(
        default=None,
        description="the Chromium browser checks drive (default: `/usr/bin/chromium`, else "
        "Playwright's own)",
    )
    browser_contexts: int = Field(
        default=2, ge=1, le=16, description="browser contexts a probe run uses at once"
    )
    browser_launch_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="how long a browser launch may take"
    )
    evidence_url: str | None = Field(
        default=None,
        description="where failure evidence goes: a directory or `s3://bucket/prefix` "
        "(default: `$TRACEO_HOME/evidence`)",
    )
    evidence_endpoint_url: str | None = Field(
        default=None, description="an S3-compatible server for `TRACEO_EVIDENCE_URL`"
    )
    # Store retention (tasks/store/retention.py): raw check results for drill-down and evidence;
    # minute rollups for the longest window judged per slot (quorum, time slices); hour and day
    # rollups for the longest SLO window plus the reporting horizon.
    raw_retention_days: int = Field(default=14, ge=1, description="days raw check results are kept")
    minute_rollup_retention_days: int = Field(
        default=35, ge=1, description="days per-minute check rollups are kept"
    )
    rollup_retention_days: int = Field(
        default=400, ge=1, description="days hourly and daily check rollups are kept"
    )
    # Compaction (tasks/store/compaction.py): past this age an hour of raw results is stored as
    # one compressed row per check and region. Later writes into a packed hour still land
    # (they take the slot out of it), so this only needs to exceed how late results usually come.
    compact_after_hours: int = Field(
        default=6,
        ge=1,
        description="hours after which raw check results are packed, one row per check, region"
        " and hour",
    )

    @model_validator(mode="after")
    def _retention_nests(self) -> Settings:
        # Rollups are recomputed from what is one level finer: that level must outlive them.
        if not (
            self.raw_retention_days
            <= self.minute_rollup_retention_days
            <= self.rollup_retention_days
        ):
            raise ValueError(
                "retention must nest: raw_retention_days <= minute_rollup_retention_days"
                " <= rollup_retention_days"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'traceo.db'}"
