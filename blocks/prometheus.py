"""Connection to a Prometheus server that SLIs with ``metricSource.type: prometheus`` read.

The SLO job loads this block by name at run time and reads with the client it returns; the
token stays a ``SecretStr`` and never reaches logs, flow parameters or error messages.
"""

from __future__ import annotations

import httpx
from prefect.blocks.core import Block
from pydantic import Field, SecretStr

__all__ = ["PrometheusConnection"]


class PrometheusConnection(Block):
    """A Prometheus HTTP API endpoint, with an optional auth header.

    Example:
        Read an SLO's events from Prometheus:
        ```python
        from blocks.prometheus import PrometheusConnection
        from tasks.slo.prometheus import PrometheusReader

        prometheus = PrometheusConnection.load("BLOCK_NAME")
        reader = PrometheusReader(prometheus.get_client())
        ```
    """

    _block_type_name = "Traceo Prometheus Connection"
    _block_type_slug = "traceo-prometheus-connection"
    _documentation_url = "https://prometheus.io/docs/prometheus/latest/querying/api/"  # type: ignore[assignment]

    url: str = Field(description="Base URL of the server, e.g. http://127.0.0.1:9090.")
    token: SecretStr | None = Field(
        default=None, description="Sent in auth_header (as 'Bearer <token>' for Authorization)."
    )
    auth_header: str = Field(default="Authorization", description="Header carrying the token.")
    timeout_seconds: float = Field(default=30.0, description="Per-request timeout.")

    def get_client(self) -> httpx.Client:
        """An ``httpx.Client`` on the server's URL, with the auth header when a token is set."""
        headers = {}
        if self.token is not None:
            secret = self.token.get_secret_value()
            is_bearer = self.auth_header.lower() == "authorization"
            headers[self.auth_header] = f"Bearer {secret}" if is_bearer else secret
        return httpx.Client(base_url=self.url, headers=headers, timeout=self.timeout_seconds)
