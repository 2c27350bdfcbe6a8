"""Google Cloud Billing connection: billing account, credentials and the API endpoint.

``get_client("billing")`` returns a ``CloudBillingClient`` (billing accounts, project billing
info), ``get_client("catalog")`` a ``CloudCatalogClient`` (services, SKUs and list prices) and
``get_bigquery_client(project)`` a BigQuery client (the billing export read in place).
Credentials: the service-account key in ``service_account_info`` if set, else Application Default
Credentials. An ``api_endpoint`` starting with ``http://`` (the local fake in
``infra/sandbox/gcp_billing_fake.py``) gets anonymous credentials over REST, as Google's clients
require for plain HTTP.
"""

from __future__ import annotations

from typing import Any, Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks.google_auth import BIGQUERY_SCOPES, google_credentials

__all__ = ["GcpBillingCredentials"]

_SCOPES = ["https://www.googleapis.com/auth/cloud-billing.readonly"]


class GcpBillingCredentials(Block):
    """Access to Google Cloud Billing (accounts, projects' billing, the SKU price catalogue).

    Example:
        Load stored credentials and list billing accounts:
        ```python
        from blocks.gcp import GcpBillingCredentials

        gcp_billing = GcpBillingCredentials.load("BLOCK_NAME")
        for account in gcp_billing.get_client("billing").list_billing_accounts():
            print(account.name, account.display_name)
        ```
    """

    _block_type_name = "GCP Billing Credentials"
    _block_type_slug = "traceo-gcp-billing-credentials"
    _logo_url = "https://cdn.sanity.io/images/3ugk85nk/production/10424e311932e31c477ac2b9ef3d53cefbaad708-250x250.png"  # type: ignore[assignment]
    _documentation_url = "https://cloud.google.com/billing/docs/reference/rest"  # type: ignore[assignment]

    billing_account_id: str | None = Field(
        default=None,
        description="The billing account the export belongs to, e.g. 01A2B3-C4D5E6-F7A8B9.",
    )
    project_id: str | None = Field(
        default=None, description="The project that hosts the billing export (optional)."
    )
    service_account_info: SecretStr | None = Field(
        default=None,
        description=(
            "The service-account key (JSON) with billing viewer access; leave empty to use "
            "Application Default Credentials."
        ),
    )
    api_endpoint: str | None = Field(
        default=None,
        description=(
            "Overrides the API endpoint, e.g. http://127.0.0.1:8790 for the local fake "
            "(anonymous, REST)."
        ),
    )

    def get_client(self, kind: Literal["billing", "catalog"] = "billing") -> Any:
        """A ``CloudBillingClient`` (``"billing"``) or ``CloudCatalogClient`` (``"catalog"``)."""
        from google.cloud import billing_v1

        classes = {
            "billing": billing_v1.CloudBillingClient,
            "catalog": billing_v1.CloudCatalogClient,
        }
        if kind not in classes:
            raise ValueError(f"unknown client kind {kind!r}; use 'billing' or 'catalog'")
        options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
        return classes[kind](
            credentials=self._credentials(), transport="rest", client_options=options
        )

    def get_bigquery_client(
        self, project: str, location: str | None = None, api_endpoint: str | None = None
    ) -> Any:
        """A ``google.cloud.bigquery.Client`` running jobs in ``project`` with these credentials.

        ``api_endpoint`` overrides BigQuery's (e.g. the local fake in tests; anonymous over
        ``http://``). Reading a billing export needs ``bigquery.jobs.create`` in ``project``
        and BigQuery Data Viewer on the export's dataset.
        """
        from google.cloud import bigquery

        credentials = google_credentials(self.service_account_info, BIGQUERY_SCOPES, api_endpoint)
        options = {"api_endpoint": api_endpoint} if api_endpoint else None
        return bigquery.Client(
            project=project, credentials=credentials, location=location, client_options=options
        )

    def _credentials(self) -> Any:
        credentials = google_credentials(self.service_account_info, _SCOPES, self.api_endpoint)
        if credentials is not None:
            return credentials
        import google.auth

        credentials, _project = google.auth.default(scopes=_SCOPES)
        return credentials
