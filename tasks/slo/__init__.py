"""The SLO engine: OpenSLO v1 specs in, SLIs, error budgets and burn-rate alerts out.

Pure logic, no store and no Prefect: the flow fetches check results, and these functions turn
them into :class:`~tasks.slo.report.SloReport` objects.

    load_slos(paths)                      OpenSLO YAML -> [SloDefinition]   (loader, spec)
    select_events(indicator, results)     check results -> Events of one SLI (events)
    evaluate_slos(slos, events, now)      -> [SloReport] with AlertSignals   (evaluate, engine)

Semantics worth knowing (details in each module):

- Availability: pass and degraded are good, fail is bad, error (the probe could not run) is left
  out and only counts towards the absent-data alert.
- Alerts and the release gate use the GLOBAL series: a slot is bad only when at least N regions
  are bad in it (``traceo.dev/global-min-failing-regions``, default 1 = plain pooling). Per-region
  figures are for display.
- A tier fires only when both its windows burn at or above its threshold, and only when each
  window holds at least ``traceo.dev/min-events`` events (default 10); otherwise it reports
  "insufficient data".
- Rolling windows look back ``duration`` from now; calendar windows cover the current period so
  far, against the whole period's budget.
"""

from __future__ import annotations

from tasks.slo.burn import DEFAULT_TIERS, AlertSignal, AlertTier, NoDataRule
from tasks.slo.definition import Indicator, SloDefinition
from tasks.slo.evaluate import evaluate_results, evaluate_slo, evaluate_slos
from tasks.slo.events import CheckResults, Events, select_events
from tasks.slo.loader import SloSet, load_slo_set, load_slos, load_slos_from_text
from tasks.slo.report import RegionReport, SloReport, WindowBurn

__all__ = [
    "DEFAULT_TIERS",
    "AlertSignal",
    "AlertTier",
    "CheckResults",
    "Events",
    "Indicator",
    "NoDataRule",
    "RegionReport",
    "SloDefinition",
    "SloReport",
    "SloSet",
    "WindowBurn",
    "evaluate_results",
    "evaluate_slo",
    "evaluate_slos",
    "load_slo_set",
    "load_slos",
    "load_slos_from_text",
    "select_events",
]
