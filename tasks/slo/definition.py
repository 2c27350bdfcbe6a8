"""Resolved SLO definitions: what the evaluator needs, with every reference and default applied.

The loader turns OpenSLO documents into these; tests and benchmarks may build them directly.
One :class:`SloDefinition` is one objective: an SLO with several objectives becomes several
definitions with ids ``slo-name/objective-name``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from tasks.slo.burn import DEFAULT_TIERS, AlertTier, NoDataRule
from tasks.slo.windows import Duration, RollingWindow, TimeWindow

__all__ = [
    "COUNTED_VERDICTS",
    "DEFAULT_MIN_EVENTS",
    "GOOD_VERDICTS",
    "VERDICTS",
    "BudgetingMethod",
    "Indicator",
    "PromQuery",
    "PrometheusSli",
    "SloDefinition",
]

VERDICTS = ("pass", "degraded", "fail", "error")
# ``error`` means the probe itself could not run: it says nothing about the service, so it is
# neither good nor bad by default (it still counts as "no data" for the absent-data alert).
COUNTED_VERDICTS = ("pass", "degraded", "fail")
# Degraded (slow but correct) does not spend availability budget, as in Checkly.
GOOD_VERDICTS = ("pass", "degraded")
# Below 10 events one bad event is >10% of the window: a burn rate that jumpy is noise.
DEFAULT_MIN_EVENTS = 10

BudgetingMethod = Literal["Occurrences", "Timeslices"]
THIRTY_DAYS_ROLLING = RollingWindow(Duration(30, "d"))
DEFAULT_NO_DATA = NoDataRule()


@dataclass(frozen=True)
class PromQuery:
    """A PromQL query of an SLI, with where it is written (errors about it name that place)."""

    query: str
    file: str
    item: str
    field: str


@dataclass(frozen=True)
class PrometheusSli:
    """An SLI read from Prometheus (``metricSource.type: prometheus``).

    Ratio: ``total`` with ``good`` or ``bad``, each giving the events of the slot ending at each
    step. Threshold: ``latency``, one value (milliseconds) per series and step, each an event.
    """

    total: PromQuery | None = None
    good: PromQuery | None = None
    bad: PromQuery | None = None
    latency: PromQuery | None = None


@dataclass(frozen=True)
class Indicator:
    """Which check results an SLI counts, and which of them are good.

    Availability: results whose verdict is in ``total_verdicts`` count; those in ``good_verdicts``
    are good. Latency (``latency_op`` set): results in ``total_verdicts`` with a duration count;
    those with ``duration_ms <op> latency_ms`` are good. With ``prometheus`` set, the events
    come from its queries instead of check results (``checks`` and ``service`` stay empty).
    """

    name: str
    checks: tuple[str, ...] = ()
    service: str | None = None
    total_verdicts: tuple[str, ...] = COUNTED_VERDICTS
    good_verdicts: tuple[str, ...] = GOOD_VERDICTS
    latency_op: Literal["lt", "lte"] | None = None
    latency_ms: float | None = None
    prometheus: PrometheusSli | None = None

    @property
    def kind(self) -> Literal["availability", "latency"]:
        return "latency" if self.latency_op else "availability"


@dataclass(frozen=True)
class SloDefinition:
    """One SLO objective, ready to evaluate.

    ``slot_seconds`` is the time slice for Timeslices and, for Occurrences, the slot in which the
    per-region quorum is judged (``traceo.dev/slot``). ``min_failing_regions`` is N in "a slot is
    globally bad only when at least N regions are bad in it" (capped at the regions that reported).
    """

    id: str
    service: str
    indicator: Indicator
    target: float
    window: TimeWindow = THIRTY_DAYS_ROLLING
    budgeting_method: BudgetingMethod = "Occurrences"
    time_slice_target: float | None = None
    slot_seconds: int = 60
    tiers: tuple[AlertTier, ...] = DEFAULT_TIERS
    no_data: NoDataRule | None = DEFAULT_NO_DATA
    min_events: int = DEFAULT_MIN_EVENTS
    min_failing_regions: int = 1
    name: str = ""
    objective: str | None = None
    display_name: str | None = None
    description: str | None = None
    file: str | None = None
    labels: dict[str, str | list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 < self.target < 1:
            raise ValueError(f"{self.id}: target must be between 0 and 1 (exclusive)")
        if self.budgeting_method == "Timeslices" and self.time_slice_target is None:
            raise ValueError(f"{self.id}: Timeslices needs a time_slice_target")
        if self.min_events < 1 or self.min_failing_regions < 1 or self.slot_seconds < 1:
            raise ValueError(f"{self.id}: min_events, min_failing_regions, slot must be >= 1")

    @property
    def error_budget(self) -> float:
        """``1 - target``, computed in decimal so 0.999 gives exactly 0.001."""
        return float(Decimal(1) - Decimal(repr(self.target)))
