"""Settings read from the environment (``TRACEO_*``), resolved at run time, never at import."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]

# The example specs ship in the repository next to the packages (deployments/checks, .../slos).
_REPO = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Traceo configuration.

    ``TRACEO_HOME`` holds local state (the SQLite store, artifacts); ``TRACEO_DATABASE_URL``
    overrides the store (PostgreSQL in production, e.g. ``postgresql+psycopg://host/db``).
    """

    model_config = SettingsConfigDict(env_prefix="TRACEO_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".traceo")
    database_url: str | None = None
    require_services: bool = False
    checks_path: Path = _REPO / "deployments" / "checks"
    slos_path: Path = _REPO / "deployments" / "slos"
    # Cost ingestion: the source definitions, and a Cloud Billing API endpoint for local runs
    # (e.g. http://127.0.0.1:8790, the fake in infra/sandbox) when no GCP block is named.
    cost_sources: Path = _REPO / "deployments" / "cost" / "sources.yaml"
    gcp_billing_endpoint: str | None = None
    # Browser checks: Chromium to drive (default /usr/bin/chromium, else Playwright's own),
    # contexts run at once, and the launch timeout; failure evidence goes to evidence_url
    # (default $TRACEO_HOME/evidence; s3://bucket/prefix with an optional S3 endpoint).
    chromium_path: Path | None = None
    browser_contexts: int = Field(default=2, ge=1, le=16)
    browser_launch_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    evidence_url: str | None = None
    evidence_endpoint_url: str | None = None
    # Store retention (tasks/store/retention.py): raw check results for drill-down and evidence;
    # minute rollups for the longest window judged per slot (quorum, time slices); hour and day
    # rollups for the longest SLO window plus the reporting horizon.
    raw_retention_days: int = Field(default=14, ge=1)
    minute_rollup_retention_days: int = Field(default=35, ge=1)
    rollup_retention_days: int = Field(default=400, ge=1)

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process settings (cached; ``get_settings.cache_clear()`` re-reads the env)."""
    return Settings()
