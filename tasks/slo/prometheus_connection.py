"""Which Prometheus the SLO job reads: a saved block, or a URL in the settings for local runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from tasks.errors import ConfigurationError
from tasks.slo.prometheus import PrometheusReader

__all__ = ["prometheus_reader"]


@contextmanager
def prometheus_reader() -> Iterator[PrometheusReader]:
    """A reader on ``TRACEO_PROMETHEUS_BLOCK``'s server, else on ``TRACEO_PROMETHEUS_URL``.

    Raises:
        ConfigurationError: neither is set.
    """
    from blocks.prometheus import PrometheusConnection
    from tasks.settings import get_settings

    settings = get_settings()
    if settings.prometheus_block:
        block = cast(PrometheusConnection, PrometheusConnection.load(settings.prometheus_block))
    elif settings.prometheus_url:
        block = PrometheusConnection(url=settings.prometheus_url, token=settings.prometheus_token)
    else:
        raise ConfigurationError(
            "an SLO reads Prometheus: set TRACEO_PROMETHEUS_BLOCK or TRACEO_PROMETHEUS_URL"
        )
    with block.get_client() as client:
        yield PrometheusReader(client)
