"""The settings of each job area (``TRACEO_<AREA>_<NAME>``): chaos, data-subject requests,
ticketing systems and the ticket intake. :mod:`tasks.settings.catalogue` lists them all."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tasks.settings.core import REPO

__all__ = [
    "ChaosMeshSettings",
    "ChaosSettings",
    "IntakeSettings",
    "JiraSettings",
    "PrivacySettings",
    "ServiceNowSettings",
    "ZendeskSettings",
]


class ChaosSettings(BaseSettings):
    """The operator's limits, stronger than any experiment's own."""

    model_config = SettingsConfigDict(env_prefix="TRACEO_CHAOS_", extra="ignore")

    allowed_targets: str | None = Field(
        default=None,
        description="comma-separated patterns of targets experiments may touch, e.g. "
        "`proxy:shop,process:*` (unset: any)",
    )
    max_duration_seconds: float = Field(
        default=900.0, gt=0, description="the longest experiment allowed"
    )
    process_allowed_dirs: str | None = Field(
        default=None,
        description="directories (`:`-separated) whose pid files the process driver may signal "
        "(default: `$TRACEO_HOME/run`)",
    )

    @property
    def allowlist(self) -> list[str] | None:
        if self.allowed_targets is None:
            return None
        return [p.strip() for p in self.allowed_targets.split(",") if p.strip()]


class ChaosMeshSettings(BaseSettings):
    """Where the Kubernetes API is and how long to wait for Chaos Mesh (an experiment's own
    configuration overrides these)."""

    model_config = SettingsConfigDict(env_prefix="TRACEO_CHAOS_MESH_", extra="ignore")

    host: str | None = Field(
        default=None, description="Kubernetes API URL, e.g. `https://10.0.0.1:6443`"
    )
    token: SecretStr | None = Field(default=None, description="bearer token of the account")
    namespace: str = Field(default="default", description="namespace of the chaos resources")
    verify_ssl: bool = Field(default=True, description="verify the API's TLS certificate")
    ca_cert: Path | None = Field(default=None, description="CA bundle for the API's TLS")
    inject_timeout_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="how long to wait for a fault to be injected"
    )
    delete_timeout_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="how long to wait for a fault to be removed"
    )
    poll_interval_seconds: float = Field(
        default=0.5, gt=0, le=30, description="how often to ask Chaos Mesh"
    )
    request_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="timeout of one Kubernetes API request"
    )


class PrivacySettings(BaseSettings):
    """Data-subject request fulfilment."""

    model_config = SettingsConfigDict(env_prefix="TRACEO_DSR_", extra="ignore")

    datamap: Path = Field(
        default=REPO / "deployments" / "datamaps" / "shop.yaml",
        description="the data map: datastores, fields and how to reach them",
    )
    bundle_dir: Path | None = Field(
        default=None,
        description="local access bundles when the data map names no destination "
        "(default: `$TRACEO_HOME/dsr/bundles`)",
    )
    notify: str | None = Field(
        default=None, description="deadline alert target (a notification block slug)"
    )
    warn_days: int = Field(
        default=7, ge=0, le=60, description="how close to its due date a request gets an alert"
    )
    deployment: str = Field(
        default="data-subject-request/fulfil-data-subject-request",
        description="the deployment the intake starts for each request",
    )
    identity_key: SecretStr | None = Field(
        default=None,
        description="HMAC key (>= 16 characters) of the identity hashes a request keeps (a "
        "person's requests are matched by them, also once their plaintext identities are "
        "dropped); required by `enforce_retention`",
    )
    identity_retention_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="days after closure (or a failed request's last activity) a request keeps "
        "its plaintext identities and corrections",
    )

    @property
    def resolved_bundle_dir(self) -> Path:
        from tasks.settings import get_settings

        return self.bundle_dir or get_settings().home / "dsr" / "bundles"


class JiraSettings(BaseSettings):
    """Jira, for requests that arrive as Jira tickets."""

    model_config = SettingsConfigDict(env_prefix="TRACEO_JIRA_", extra="ignore")

    url: str | None = Field(default=None, description="Jira's base URL")
    user: str | None = Field(default=None, description="the Jira account progress is posted as")
    token: SecretStr | None = Field(
        default=None, description="its API token (else the Secret block `traceo-jira-token`)"
    )


class ServiceNowSettings(BaseSettings):
    """ServiceNow, for requests that arrive as ServiceNow records."""

    model_config = SettingsConfigDict(env_prefix="TRACEO_SERVICENOW_", extra="ignore")

    url: str | None = Field(default=None, description="the instance's base URL")
    user: str | None = Field(default=None, description="the account progress is posted as")
    password: SecretStr | None = Field(
        default=None,
        description="its password (else the Secret block `traceo-servicenow-password`)",
    )
    table: str = Field(default="incident", description="the table requests live in")


class ZendeskSettings(BaseSettings):
    """Zendesk, for requests that arrive as Zendesk tickets."""

    model_config = SettingsConfigDict(env_prefix="TRACEO_ZENDESK_", extra="ignore")

    url: str | None = Field(default=None, description="Zendesk's base URL")
    email: str | None = Field(default=None, description="the agent progress is posted as")
    token: SecretStr | None = Field(
        default=None, description="its API token (else the Secret block `traceo-zendesk-token`)"
    )


class IntakeSettings(BaseSettings):
    """The ticket intake API (`traceo intake serve`)."""

    model_config = SettingsConfigDict(env_prefix="TRACEO_INTAKE_", extra="ignore")

    jira_fields: str | None = Field(
        default=None,
        description='JSON mapping our field names to Jira\'s, e.g. `{"email": "customfield_1"}`',
    )
    secret_jira: SecretStr | None = Field(
        default=None, description="Jira webhook secret (else block `traceo-intake-jira`)"
    )
    secret_servicenow: SecretStr | None = Field(
        default=None,
        description="ServiceNow webhook secret (else block `traceo-intake-servicenow`)",
    )
    secret_zendesk: SecretStr | None = Field(
        default=None, description="Zendesk webhook secret (else block `traceo-intake-zendesk`)"
    )
    secret_generic: SecretStr | None = Field(
        default=None, description="generic webhook secret (else block `traceo-intake-generic`)"
    )
    delivery_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="days a delivery id without a timestamp (Jira's) is remembered against "
        "replays; a later replay of a stored ticket is answered as a duplicate",
    )
