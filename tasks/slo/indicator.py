"""Turn OpenSLO SLIs (``ratioMetric`` / ``thresholdMetric``) into Indicators.

Mapping to check results:

- ``ratioMetric``: ``total`` selects checks (``checks: [ids]`` or ``service: name``) and the
  verdicts that count (default pass, degraded, fail: ``error`` means the probe could not run);
  ``good`` (default verdicts pass, degraded) or ``bad`` (default fail) names the numerator's
  verdicts. ``good``/``bad`` may omit the selection; if they give one it must equal ``total``'s.
- ``thresholdMetric``: the same selection with ``metric: duration_ms``; the objective's ``op``
  (lt, lte) and ``value`` (ms) say which results are good.
- ``type: prometheus`` (``spec: {query: PromQL}``): the queries are kept as written, with where
  they are, for :mod:`tasks.slo.prometheus` to run; a ratio's ``good``/``bad`` and ``total``
  must all be Prometheus queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from tasks.slo.definition import (
    COUNTED_VERDICTS,
    GOOD_VERDICTS,
    Indicator,
    PrometheusSli,
    PromQuery,
)
from tasks.slo.spec import MetricQuery, PrometheusQuery, SliSpec, TraceoSelector

__all__ = ["IndicatorBuilder"]

IssueSink = Callable[[str, str | None, str | None, str], None]


@dataclass
class _Document:
    file: str
    item: str
    spec: SliSpec
    indicator: Indicator | None = None


class IndicatorBuilder:
    """Builds Indicators, reporting problems to ``issue(file, item, field, reason)``.

    A threshold SLI comes back with ``latency_op`` set and ``latency_ms`` None until
    :meth:`with_threshold` applies its objective.
    """

    def __init__(self, issue: IssueSink) -> None:
        self.issue = issue
        self.documents: dict[str, _Document] = {}

    def add_document(self, name: str, file: str, item: str, spec: SliSpec) -> None:
        """Register an SLI document (problems are reported against it, once)."""
        self.documents[name] = _Document(
            file, item, spec, self.build(name, file, item, spec, "spec")
        )

    def resolved(self, name: str) -> Indicator | None:
        """The Indicator of a registered SLI document (None when it had problems)."""
        return self.documents[name].indicator

    @staticmethod
    def with_threshold(
        indicator: Indicator, op: Literal["lt", "lte"] | None, value: float | None
    ) -> Indicator:
        return replace(indicator, latency_op=op, latency_ms=value)

    def build(self, name: str, file: str, item: str, spec: SliSpec, where: str) -> Indicator | None:
        """Build an Indicator from an SLI spec located at ``where`` in its document."""
        if (spec.ratioMetric is None) == (spec.thresholdMetric is None):
            self.issue(file, item, f"{where}.ratioMetric", "give ratioMetric or thresholdMetric")
            return None
        if spec.thresholdMetric is not None:
            selector = spec.thresholdMetric.metricSource.spec
            sel_where = f"{where}.thresholdMetric.metricSource.spec"
            if isinstance(selector, PrometheusQuery):
                latency = PromQuery(selector.query, file, item, f"{sel_where}.query")
                return Indicator(
                    name=name, latency_op="lte", prometheus=PrometheusSli(latency=latency)
                )
            checks = self._selection(file, item, sel_where, selector)
            if checks is None:
                return None
            return Indicator(
                name=name,
                checks=checks[0],
                service=checks[1],
                total_verdicts=tuple(selector.verdicts or COUNTED_VERDICTS),
                latency_op="lte",
            )

        ratio = spec.ratioMetric
        assert ratio is not None
        where = f"{where}.ratioMetric"
        if ratio.total is None:
            self.issue(file, item, f"{where}.total", "total is required (with good or bad)")
            return None
        if (ratio.good is None) == (ratio.bad is None):
            self.issue(file, item, f"{where}.good", "give good or bad (exactly one)")
            return None
        total_sel = ratio.total.metricSource.spec
        total_where = f"{where}.total.metricSource.spec"
        part, query = ("good", ratio.good) if ratio.good is not None else ("bad", ratio.bad)
        assert isinstance(query, MetricQuery)
        sel = query.metricSource.spec
        part_where = f"{where}.{part}.metricSource.spec"
        if isinstance(total_sel, PrometheusQuery) != isinstance(sel, PrometheusQuery):
            self.issue(file, item, part_where, "must use the same metric source type as total")
            return None
        if isinstance(total_sel, PrometheusQuery) and isinstance(sel, PrometheusQuery):
            queries = {
                "total": PromQuery(total_sel.query, file, item, f"{total_where}.query"),
                part: PromQuery(sel.query, file, item, f"{part_where}.query"),
            }
            return Indicator(name=name, prometheus=PrometheusSli(**queries))
        assert isinstance(total_sel, TraceoSelector) and isinstance(sel, TraceoSelector)
        checks = self._selection(file, item, total_where, total_sel)
        if checks is None:
            return None
        total_verdicts = tuple(total_sel.verdicts or COUNTED_VERDICTS)
        if not self._same_selection(file, item, part_where, sel, total_sel):
            return None
        default = GOOD_VERDICTS if part == "good" else ("fail",)
        verdicts = tuple(sel.verdicts or default)
        outside = [v for v in verdicts if v not in total_verdicts]
        if outside:
            self.issue(
                file,
                item,
                f"{part_where}.verdicts",
                f"{', '.join(outside)} not among total's verdicts ({', '.join(total_verdicts)})",
            )
            return None
        good = verdicts if part == "good" else tuple(v for v in total_verdicts if v not in verdicts)
        return Indicator(
            name=name,
            checks=checks[0],
            service=checks[1],
            total_verdicts=total_verdicts,
            good_verdicts=good,
        )

    def _selection(
        self, file: str, item: str, where: str, selector: TraceoSelector
    ) -> tuple[tuple[str, ...], str | None] | None:
        if (selector.checks is None) == (selector.service is None):
            self.issue(file, item, where, "select checks with checks: [ids] or service: name")
            return None
        return tuple(selector.checks or ()), selector.service

    def _same_selection(
        self, file: str, item: str, where: str, part: TraceoSelector, total: TraceoSelector
    ) -> bool:
        if part.metric is not None or total.metric is not None:
            self.issue(file, item, where, "metric is only used with thresholdMetric")
            return False
        given = part.checks is not None or part.service is not None
        if given and (part.checks, part.service) != (total.checks, total.service):
            self.issue(
                file,
                item,
                where,
                "must select the same checks as total (or leave checks/service out)",
            )
            return False
        return True
