"""Read Prometheus-backed SLIs (``metricSource.type: prometheus``) as the engine's Events.

Each query is read with the HTTP API's ``query_range`` at the SLO's slot as the step, over the
closed slots of the lookback. The value at step ``T`` is taken as what happened in the slot
``[T - slot, T)``, so a query's range should be the slot (``increase(x[1m])`` for the default
1-minute slot); the events are dated at the slot's start.

- Ratio: per step, the series of ``total`` are summed, and so are those of ``good`` (or ``bad``),
  each rounded to whole events; a ``good``/``bad`` with no sample at a step counts 0 (a counter of
  errors that never happened has no series), a step without ``total`` has no events. Good events
  are capped at the total.
- Threshold: every sample of every series is one event (a value in milliseconds), good when it is
  ``<`` / ``<=`` the objective's value; NaN samples (a quantile of nothing) are not events.

All events fall in one region, :data:`REGION`. Errors say what to fix and never show a secret:
Prometheus down or failing (5xx) is a :class:`~tasks.errors.ServiceUnavailableError` naming the
URL without credentials; a query it rejects is a :class:`~tasks.errors.SpecError` naming the
file, the SLO, the field and Prometheus' message; refused credentials are a
:class:`~tasks.errors.ConfigurationError`.
"""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from tasks.errors import (
    ConfigurationError,
    ServiceUnavailableError,
    SpecError,
    SpecIssue,
    ThrottledError,
)
from tasks.slo.definition import PromQuery, SloDefinition
from tasks.slo.events import Events

__all__ = ["REGION", "PrometheusReader", "public_url"]

REGION = "prometheus"
# Prometheus refuses a range query of more than 11,000 points per series.
_MAX_STEPS = 10_000


def public_url(url: httpx.URL) -> str:
    """``url`` as it may be shown: no user info, query or fragment."""
    return str(url.copy_with(userinfo=b"", query=None, fragment=None))


class PrometheusReader:
    """Reads the events of Prometheus-backed SLOs through one ``httpx.Client``.

    The client carries the base URL and any auth header (see :mod:`blocks.prometheus`).
    """

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.url = public_url(client.base_url)

    def events(self, slo: SloDefinition, start: int, now: int) -> Events:
        """The events of ``slo`` in the closed slots between ``start`` and ``now`` (epoch s).

        Raises:
            ConfigurationError: the SLO does not read Prometheus, or the credentials are refused.
            ServiceUnavailableError: Prometheus is unreachable or failing.
            ThrottledError: Prometheus asked to slow down.
            SpecError: Prometheus rejected one of the SLO's queries.
        """
        sli = slo.indicator.prometheus
        if sli is None:
            raise ConfigurationError(f"SLO {slo.id} does not read Prometheus")
        step = slo.slot_seconds
        first, last = (start // step + 1) * step, (now // step) * step
        if sli.latency is not None:
            ts, values = self._samples(slo, sli.latency, first, last, step)
            keep = ~np.isnan(values)
            limit = float("nan") if slo.indicator.latency_ms is None else slo.indicator.latency_ms
            op = np.less if slo.indicator.latency_op == "lt" else np.less_equal
            return _events(ts[keep] - step, op(values[keep], limit), None)
        assert sli.total is not None
        n = max(0, (last - first) // step + 1)
        total, seen = self._per_step(slo, sli.total, first, last, step, n)
        part = sli.good if sli.good is not None else sli.bad
        assert part is not None
        counted, _ = self._per_step(slo, part, first, last, step, n)
        counted = np.minimum(counted, total)
        good = counted if sli.good is not None else total - counted
        at = first + step * np.flatnonzero(seen) - step
        weights = np.concatenate([good[seen], (total - good)[seen]])
        flags = np.repeat([True, False], int(seen.sum()))
        keep = weights > 0
        return _events(np.concatenate([at, at])[keep], flags[keep], weights[keep])

    def _per_step(
        self, slo: SloDefinition, query: PromQuery, first: int, last: int, step: int, n: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Whole events per step (series summed), and which steps had a sample."""
        ts, values = self._samples(slo, query, first, last, step)
        index = (ts - first) // step
        finite = ~np.isnan(values)
        sums = np.bincount(index[finite], weights=values[finite], minlength=n)
        seen = np.bincount(index, minlength=n) > 0
        return np.maximum(np.rint(sums), 0).astype(np.int64), seen

    def _samples(
        self, slo: SloDefinition, query: PromQuery, first: int, last: int, step: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Timestamps and values of every series' samples, read in ranges Prometheus accepts."""
        ts: list[npt.NDArray[np.int64]] = []
        values: list[npt.NDArray[np.float64]] = []
        for chunk in range(first, last + 1, _MAX_STEPS * step):
            end = min(last, chunk + (_MAX_STEPS - 1) * step)
            for series in self._query_range(slo, query, chunk, end, step):
                pairs = series.get("values", [])
                ts.append(np.fromiter((int(p[0]) for p in pairs), np.int64, len(pairs)))
                values.append(np.fromiter((float(p[1]) for p in pairs), np.float64, len(pairs)))
        if not ts:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        return np.concatenate(ts), np.concatenate(values)

    def _query_range(
        self, slo: SloDefinition, query: PromQuery, start: int, end: int, step: int
    ) -> list[dict[str, Any]]:
        params = {"query": query.query, "start": start, "end": end, "step": step}
        try:
            response = self.client.post("/api/v1/query_range", data=params)
        except httpx.TransportError as exc:
            raise ServiceUnavailableError(
                f"Prometheus at {self.url} is unreachable ({type(exc).__name__})"
            ) from None
        code = response.status_code
        if code in (400, 422):
            reason = f"Prometheus rejected the query of SLO {slo.id}: {_message(response)}"
            raise SpecError([SpecIssue(query.file, query.item, query.field, reason)])
        if code in (401, 403):
            raise ConfigurationError(
                f"Prometheus at {self.url} refused the credentials (HTTP {code}); check its block"
            )
        if code == 429:
            raise ThrottledError(f"Prometheus at {self.url} asked to slow down (HTTP 429)")
        if code != 200:
            raise ServiceUnavailableError(f"Prometheus at {self.url} answered HTTP {code}")
        try:
            result: list[dict[str, Any]] = response.json()["data"]["result"]
        except (ValueError, KeyError, TypeError):
            raise ConfigurationError(
                f"{self.url} did not answer as a Prometheus query API; check the URL"
            ) from None
        return result


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"])
    except (ValueError, KeyError):
        return f"HTTP {response.status_code}"


def _events(
    ts: npt.NDArray[np.int64], good: npt.NDArray[np.bool_], weight: npt.NDArray[np.int64] | None
) -> Events:
    regions = (REGION,) if len(ts) else ()
    return Events(
        ts.astype(np.int64), np.zeros(len(ts), np.intp), good.astype(np.bool_), regions, weight
    )
