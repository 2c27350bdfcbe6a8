"""Prometheus metrics of the latest result per (check, region), read from the store per scrape.

Names follow blackbox_exporter, so dashboards and SLO tools built for it (Pyrra's bool-gauge SLIs
on ``probe_success``) work unchanged; every series is labelled ``check``, ``region``, ``service``:

- ``probe_success``: 1 when the latest result is ``pass`` or ``degraded``, 0 for ``fail``/``error``;
- ``probe_duration_seconds{phase}``: ``connect``, ``tls``, ``ttfb``, ``transfer`` from the result's
  timings where the check type measures them, and ``total`` (the judged duration) always;
- ``probe_ssl_earliest_cert_expiry``: unix seconds, when the result saw a certificate;
- ``traceo_probe_last_run_timestamp_seconds``: when that run started (stale series are visible);
- ``traceo_store_up``: 0 when the store could not be read for this scrape (no other series then).

Each scrape runs two queries: the newest row of every (check, region) that ran within ``lookback``
(default 2 h, twice the longest frequency; a check removed from the specs drops out after it),
found through the ``started_at`` index and joined back on the unique key, and the packed hours
within ``lookback`` (none unless it reaches past the compaction age; see
:func:`~tasks.store.raw_reads.read_newest`).
Simulated rows (the demo's backfill) are left out.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from tasks.errors import TraceoError
from tasks.reloaded import Reloaded
from tasks.store.packed_codec import from_micros
from tasks.store.raw_reads import read_newest

__all__ = [
    "DEFAULT_LOOKBACK",
    "PHASES",
    "LatestResult",
    "MetricsServer",
    "ServiceNames",
    "StoreCollector",
    "build_registry",
    "fetch_latest",
]

PHASES = ("connect", "tls", "ttfb", "transfer", "total")
DEFAULT_LOOKBACK = timedelta(hours=2)
_LABELS = ["check", "region", "service"]
log = logging.getLogger("traceo.metrics")


@dataclass(frozen=True)
class LatestResult:
    """The columns of a check's newest result that the metrics need."""

    check_id: str
    region: str
    started_at: datetime
    verdict: str
    duration_ms: float | None
    detail: dict[str, Any]
    cert_expires_at: datetime | None


def fetch_latest(
    engine: Engine, since: datetime, *, include_simulated: bool = False
) -> list[LatestResult]:
    """The newest result of each (check, region) with ``started_at >= since``, in one query."""
    with engine.connect() as conn:
        rows = read_newest(
            conn, since, include_simulated=include_simulated, extra=("detail", "cert_expires_at")
        )
    return [
        LatestResult(
            check_id=check,
            region=region,
            started_at=from_micros(started),
            verdict=verdict,
            duration_ms=None if math.isnan(ms) else ms,
            detail=detail,
            cert_expires_at=cert,
        )
        for check, region, started, verdict, ms, detail, cert in zip(
            rows.check_id.tolist(),
            rows.region.tolist(),
            rows.started_us.tolist(),
            rows.verdict.tolist(),
            rows.duration_ms.tolist(),
            rows.extra["detail"].tolist(),
            rows.extra["cert_expires_at"].tolist(),
            strict=True,
        )
    ]


class ServiceNames(Reloaded[Mapping[str, str]]):
    """Check id -> service from the check files, reloaded at most every ``ttl`` seconds.

    A file that stops validating keeps the last good mapping (and logs why) rather than
    dropping every ``service`` label from the dashboards.
    """

    def __init__(self, paths: Iterable[Path | str], ttl: float = 60.0) -> None:
        self.paths = list(paths)
        super().__init__(self._read, {}, "check -> service map", ttl)

    def _read(self) -> Mapping[str, str]:
        from tasks.probes.loader import load_checks

        return {c.id: c.service for c in load_checks(self.paths)}


def _seconds(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1000
    return None


class StoreCollector(Collector):
    """A custom collector: each scrape reads the latest results from the store.

    Args:
        engine: the store, or None to use the configured one (``TRACEO_DATABASE_URL``) at scrape.
        services: check id -> service (a mapping, or a callable such as :class:`ServiceNames`).
        lookback: how far back a result may be and still be exported.
        include_simulated: also export rows marked simulated.
    """

    def __init__(
        self,
        engine: Engine | None = None,
        services: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        lookback: timedelta = DEFAULT_LOOKBACK,
        include_simulated: bool = False,
    ) -> None:
        self.engine = engine
        self.services = services
        self.lookback = lookback
        self.include_simulated = include_simulated

    def describe(self) -> Iterable[Metric]:
        return []  # do not query the store when the collector is registered

    def _service_names(self) -> Mapping[str, str]:
        if self.services is None:
            return {}
        return self.services() if callable(self.services) else self.services

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("traceo_store_up", "1 when the results store answered this scrape")
        try:
            from tasks.store.engine import get_engine

            engine = self.engine if self.engine is not None else get_engine()
            since = datetime.now(UTC) - self.lookback
            rows = fetch_latest(engine, since, include_simulated=self.include_simulated)
        except (TraceoError, SQLAlchemyError) as exc:
            log.warning("Cannot read the store for metrics: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from self._families(rows, self._service_names())
        yield up

    @staticmethod
    def _families(rows: list[LatestResult], services: Mapping[str, str]) -> Iterator[Metric]:
        success = GaugeMetricFamily(
            "probe_success", "1 when the latest result passed or was degraded", labels=_LABELS
        )
        duration = GaugeMetricFamily(
            "probe_duration_seconds",
            "Duration of the latest result by phase",
            labels=[*_LABELS, "phase"],
        )
        expiry = GaugeMetricFamily(
            "probe_ssl_earliest_cert_expiry",
            "Earliest certificate expiry the latest result saw, in unix seconds",
            labels=_LABELS,
        )
        stamp = GaugeMetricFamily(
            "traceo_probe_last_run_timestamp_seconds",
            "When the latest result's run started, in unix seconds",
            labels=_LABELS,
        )
        for row in rows:
            labels = [row.check_id, row.region, services.get(row.check_id, "")]
            success.add_metric(labels, 1.0 if row.verdict in ("pass", "degraded") else 0.0)
            stamp.add_metric(labels, row.started_at.timestamp())
            timings = (row.detail or {}).get("timings") or {}
            for phase in PHASES:
                value = _seconds(timings.get(phase))
                if phase == "total" and value is None:
                    value = _seconds(row.duration_ms)
                if value is not None:
                    duration.add_metric([*labels, phase], value)
            if row.cert_expires_at is not None:
                expiry.add_metric(labels, row.cert_expires_at.timestamp())
        yield from (success, duration, expiry, stamp)


def build_registry(collector: Collector) -> CollectorRegistry:
    """A registry holding only ``collector`` (no process metrics, no global state)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


class MetricsServer:
    """Serve ``registry`` at ``http://host:port/metrics`` from a background thread.

    ``port=0`` picks a free port (see :attr:`port`). Use as a context manager, or call
    :meth:`serve_forever` to block until Ctrl-C or SIGTERM.
    """

    def __init__(self, registry: CollectorRegistry, host: str = "127.0.0.1", port: int = 9464):
        self.registry, self.host, self.port = registry, host, port
        self._httpd: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def start(self) -> MetricsServer:
        self._httpd, self._thread = start_http_server(self.port, self.host, self.registry)
        self.port = int(self._httpd.server_address[1])
        return self

    def close(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def serve_forever(self) -> None:
        """Block until Ctrl-C (SIGINT) or SIGTERM, then stop serving (main thread only).

        Both signals get a handler of their own: a shell that starts a command in the background
        makes it ignore SIGINT, and Ctrl-C must still stop the exporter.
        """
        stop = threading.Event()
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {s: signal.signal(s, lambda *_: stop.set()) for s in signals}
        try:
            while not stop.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
