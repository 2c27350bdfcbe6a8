"""Cost source definitions (``deployments/cost/sources.yaml``) and their wiring to real clients.

A definition names a source and how to reach it; credentials come from Prefect blocks (a
prefect-aws ``AwsCredentials`` document, a ``GcpBillingCredentials`` document, which also serves
the BigQuery export) or, when no block is named, from the environment (boto3's default chain and
``AWS_ENDPOINT_URL``; Application Default Credentials or ``TRACEO_GCP_BILLING_ENDPOINT`` for
Google). Blocks are loaded when a source first needs a client, never at import. This module is
the composition root of the cost sources.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tasks.cost.sources.base import CostSource
from tasks.errors import NotFoundError, SpecError, SpecIssue

__all__ = [
    "AwsCostExplorerConfig",
    "AwsDataExportConfig",
    "FocusFilesConfig",
    "GcpBigQueryExportConfig",
    "GcpBillingConfig",
    "SourceConfig",
    "build_source",
    "get_source_config",
    "load_source_configs",
]

_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME, description="Set from the key in the sources file.")
    base_dir: Path | None = Field(default=None, exclude=True)


class AwsCostExplorerConfig(_Base):
    type: Literal["aws_cost_explorer"]
    aws_credentials: str | None = None  # an AwsCredentials block document name
    region: str = "us-east-1"
    billing_account_id: str | None = None
    billing_account_name: str | None = None
    tag_key: str | None = "team"
    max_attempts: int = Field(default=6, ge=1, le=12)


class FocusFilesConfig(_Base):
    type: Literal["focus_files"]
    location: str
    aws_credentials: str | None = None  # for s3:// locations
    region: str = "us-east-1"


class AwsDataExportConfig(_Base):
    type: Literal["aws_data_export"]
    # The export's folder: s3://bucket/prefix/export-name (holding data/ and metadata/).
    location: str = Field(pattern=r"^s3://[^/]+/.+")
    table: Literal["cur2", "focus"] = "cur2"  # the standard export (CUR 2.0) or a FOCUS 1.x one
    aws_credentials: str | None = None  # an AwsCredentials block document name
    region: str = "us-east-1"


class GcpBillingConfig(_Base):
    type: Literal["gcp_billing"]
    location: str  # the billing export in FOCUS form
    gcp_credentials: str | None = None  # a GcpBillingCredentials block document name
    billing_account_id: str | None = None
    aws_credentials: str | None = None  # when the export was copied to S3
    region: str = "us-east-1"


class GcpBigQueryExportConfig(_Base):
    """The billing export read in place in BigQuery (:mod:`tasks.cost.sources.bigquery_export`)."""

    type: Literal["gcp_bigquery_export"]
    dataset: str = Field(pattern=r"^[A-Za-z0-9_.:-]+\.[A-Za-z0-9_]+$")  # project.dataset
    export: Literal["standard", "detailed", "focus"] = "detailed"
    billing_account_id: str | None = Field(default=None, pattern=r"^[A-Z0-9-]+$")
    table: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]+$")  # else Google's name
    project: str | None = None  # where query jobs run; default: the dataset's project
    location: str | None = None
    gcp_credentials: str | None = None  # a GcpBillingCredentials block document name
    api_endpoint: str | None = None  # a BigQuery-compatible endpoint (tests: the local fake)

    @model_validator(mode="after")
    def _named(self) -> GcpBigQueryExportConfig:
        if not self.table and not self.billing_account_id:
            raise ValueError("set billing_account_id (Google's table name) or table")
        return self

    def full_table(self) -> str:
        """``project.dataset.table`` of the export."""
        if self.table:
            return f"{self.dataset}.{self.table}"
        from tasks.cost.sources.bigquery_export import export_table

        assert self.billing_account_id is not None  # checked by _named
        return export_table(self.dataset, self.export, self.billing_account_id)


SourceConfig = Annotated[
    AwsCostExplorerConfig
    | AwsDataExportConfig
    | FocusFilesConfig
    | GcpBillingConfig
    | GcpBigQueryExportConfig,
    Field(discriminator="type"),
]


_MODELS: dict[Any, type[_Base]] = {
    "aws_cost_explorer": AwsCostExplorerConfig,
    "aws_data_export": AwsDataExportConfig,
    "focus_files": FocusFilesConfig,
    "gcp_billing": GcpBillingConfig,
    "gcp_bigquery_export": GcpBigQueryExportConfig,
}


class _SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: dict[str, dict[str, Any]]


def load_source_configs(path: Path | None = None) -> dict[str, SourceConfig]:
    """Read the sources file (default: ``TRACEO_COST_SOURCES``); every problem is reported.

    Raises:
        SpecError: naming the file, the source and the field of each problem.
    """
    from tasks.settings import get_settings
    from tasks.specs import load_documents, validation_issues

    path = path or get_settings().cost_sources
    documents = load_documents(path)
    if len(documents) != 1:
        raise SpecError([SpecIssue(str(path), None, None, "expected one YAML document")])
    try:
        parsed = _SourcesFile.model_validate(documents[0])
    except ValidationError as exc:
        raise SpecError(validation_issues(path, None, exc)) from None
    configs: dict[str, SourceConfig] = {}
    issues: list[SpecIssue] = []
    for name, body in parsed.sources.items():
        body = body or {}
        kind = body.get("type")
        model = _MODELS.get(kind) if isinstance(kind, str) else None
        if model is None:
            known = ", ".join(_MODELS)
            issues.append(SpecIssue(str(path), name, "type", f"must be one of {known}"))
            continue
        try:
            payload = {**body, "name": name, "base_dir": path.parent}
            configs[name] = model.model_validate(payload)  # type: ignore[assignment]
        except ValidationError as exc:
            issues.extend(validation_issues(path, name, exc))
    if issues:
        raise SpecError(issues)
    return configs


def get_source_config(configs: dict[str, SourceConfig], name: str) -> SourceConfig:
    """The source called ``name``, or a :class:`NotFoundError` listing the known ones."""
    if name not in configs:
        known = ", ".join(sorted(configs)) or "none"
        raise NotFoundError(f"unknown cost source {name!r} (defined: {known})")
    return configs[name]


def build_source(config: SourceConfig) -> CostSource:
    """The :class:`CostSource` a definition describes, wired to lazily created clients."""
    if isinstance(config, AwsCostExplorerConfig):
        from tasks.cost.sources.aws_cost_explorer import CostExplorerSource

        return CostExplorerSource(
            config.name,
            _aws_client(config.aws_credentials, config.region, "ce", botocore_retries=False),
            billing_account_id=config.billing_account_id,
            billing_account_name=config.billing_account_name,
            account_id=_caller_account(config.aws_credentials, config.region),
            tag_key=config.tag_key,
            max_attempts=config.max_attempts,
        )
    if isinstance(config, AwsDataExportConfig):
        from tasks.cost.sources.aws_data_exports import DataExportSource

        return DataExportSource(
            config.name,
            config.location,
            table=config.table,
            s3_client=_aws_client(config.aws_credentials, config.region, "s3"),
        )
    if isinstance(config, FocusFilesConfig):
        from tasks.cost.sources.focus_files import FocusFileSource

        return FocusFileSource(
            config.name,
            config.location,
            s3_client=_aws_client(config.aws_credentials, config.region, "s3"),
            base_dir=config.base_dir,
        )
    if isinstance(config, GcpBigQueryExportConfig):
        from tasks.cost.sources.bigquery_export import BigQueryBillingExportSource
        from tasks.extras import require_extras

        require_extras("bigquery")  # one line naming the extra, not an ImportError in a task

        return BigQueryBillingExportSource(
            config.name, config.full_table(), config.export, client=_bigquery_client(config)
        )
    from tasks.cost.sources.gcp_billing import GcpBillingSource

    return GcpBillingSource(
        config.name,
        config.location,
        billing_client=_gcp_client(config, "billing"),
        catalog_client=_gcp_client(config, "catalog"),
        billing_account_id=config.billing_account_id,
        s3_client=_aws_client(config.aws_credentials, config.region, "s3"),
        base_dir=config.base_dir,
    )


def _aws_client(
    block: str | None, region: str, service: str, *, botocore_retries: bool = True
) -> Callable[[], Any]:
    def make() -> Any:
        from botocore.config import Config

        # Cost Explorer requests are retried by the source itself (one layer of backoff).
        retries = Config(retries={"mode": "standard", "total_max_attempts": 1})
        if block:
            from prefect_aws import AwsCredentials

            credentials = cast(AwsCredentials, AwsCredentials.load(block))
            session = credentials.get_boto3_session()
            params = credentials.aws_client_parameters.get_params_override()
        else:
            import boto3

            session = boto3.Session(region_name=region)
            params = {}
        if not botocore_retries:
            config = params.pop("config", None)
            params["config"] = config.merge(retries) if config else retries
        params.setdefault("region_name", session.region_name or region)
        return session.client(service, **params)

    return make


def _caller_account(block: str | None, region: str) -> Callable[[], str]:
    def lookup() -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        from tasks.errors import ConfigurationError

        try:
            return str(_aws_client(block, region, "sts")().get_caller_identity()["Account"])
        except (BotoCoreError, ClientError) as exc:
            raise ConfigurationError(
                f"cannot determine the AWS account ({type(exc).__name__}); set billing_account_id"
            ) from None

    return lookup


def _bigquery_client(config: GcpBigQueryExportConfig) -> Callable[[], Any]:
    def make() -> Any:
        from blocks.gcp import GcpBillingCredentials

        if config.gcp_credentials:
            block = cast(GcpBillingCredentials, GcpBillingCredentials.load(config.gcp_credentials))
        else:
            block = GcpBillingCredentials(billing_account_id=config.billing_account_id)
        project = config.project or config.dataset.split(".", 1)[0]
        return block.get_bigquery_client(project, config.location, config.api_endpoint)

    return make


def _gcp_client(config: GcpBillingConfig, kind: Literal["billing", "catalog"]) -> Callable[[], Any]:
    def make() -> Any:
        from blocks.gcp import GcpBillingCredentials
        from tasks.settings import get_settings

        if config.gcp_credentials:
            block = cast(GcpBillingCredentials, GcpBillingCredentials.load(config.gcp_credentials))
        else:
            endpoint = get_settings().gcp_billing_endpoint
            block = GcpBillingCredentials(
                billing_account_id=config.billing_account_id, api_endpoint=endpoint
            )
        return block.get_client(kind)

    return make
