"""Burn rates and multi-window, multi-burn-rate alert tiers (SRE Workbook, "Alerting on SLOs").

burn rate = error ratio / (1 - objective): at 1x the budget lasts exactly the SLO period.
A tier fires only when BOTH its long and its short window burn at or above its threshold: the long
window proves the burn is significant, the short one that it is still happening (so the alert
resets minutes after a fix instead of hours).

The default tiers spend a fixed share of the budget: threshold = budget_fraction x period / long
window, which for a 30-day SLO gives the Workbook's 14.4 / 6 / 3 / 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from tasks.slo.windows import format_seconds

__all__ = [
    "DEFAULT_TIERS",
    "AlertSignal",
    "AlertTier",
    "NoDataRule",
    "Severity",
    "budget_fraction_spent",
    "burn_rate",
    "burn_threshold",
    "exceeds",
]

Severity = Literal["page", "ticket"]
THIRTY_DAYS = 30 * 86400


def burn_rate(bad: float, total: float, error_budget: float) -> float | None:
    """Return ``(bad / total) / error_budget``, or None when there is nothing to measure."""
    if total <= 0:
        return None
    return (bad / total) / error_budget


def burn_threshold(budget_fraction: float, period_seconds: float, long_seconds: float) -> float:
    """Burn rate that spends ``budget_fraction`` of a period's budget within ``long_seconds``."""
    return budget_fraction * period_seconds / long_seconds


def budget_fraction_spent(burn: float, window_seconds: float, period_seconds: float) -> float:
    """Share of the period's budget a constant ``burn`` spends over ``window_seconds``."""
    return burn * window_seconds / period_seconds


def exceeds(value: float | None, op: str, threshold: float) -> bool:
    """Compare a burn rate against a threshold (``gte`` or ``gt``); None never exceeds."""
    if value is None:
        return False
    return value >= threshold if op == "gte" else value > threshold


@dataclass(frozen=True)
class AlertTier:
    """One burn-rate condition: a severity, a long and a short window and a threshold.

    Exactly one of ``threshold`` (an absolute burn rate, from an AlertCondition) and
    ``budget_fraction`` (the default tiers: scaled to the SLO period) is set.
    """

    severity: Severity
    long_seconds: int
    short_seconds: int
    threshold: float | None = None
    budget_fraction: float | None = None
    op: Literal["gte", "gt"] = "gte"
    targets: tuple[str, ...] = ()
    notify_resolved: bool = True
    policy: str | None = None
    condition: str | None = None

    def __post_init__(self) -> None:
        if (self.threshold is None) == (self.budget_fraction is None):
            raise ValueError("give exactly one of threshold and budget_fraction")

    @property
    def long_label(self) -> str:
        return format_seconds(self.long_seconds)

    @property
    def short_label(self) -> str:
        return format_seconds(self.short_seconds)

    @property
    def key(self) -> str:
        """Stable identity of the tier, e.g. ``page:1h/5m`` (alert state is keyed on it)."""
        return f"{self.severity}:{self.long_label}/{self.short_label}"

    def threshold_for(self, period_seconds: float) -> float:
        """The burn-rate threshold for an SLO whose period lasts ``period_seconds``."""
        if self.threshold is not None:
            return self.threshold
        assert self.budget_fraction is not None
        return burn_threshold(self.budget_fraction, period_seconds, self.long_seconds)


DEFAULT_TIERS: tuple[AlertTier, ...] = (
    AlertTier("page", 3600, 300, budget_fraction=0.02),
    AlertTier("page", 6 * 3600, 1800, budget_fraction=0.05),
    AlertTier("ticket", 86400, 2 * 3600, budget_fraction=0.10),
    AlertTier("ticket", 3 * 86400, 6 * 3600, budget_fraction=0.10),
)


@dataclass(frozen=True)
class NoDataRule:
    """Alert when the SLI had no events for ``after_seconds`` (probes stopped or all erroring)."""

    after_seconds: int = 15 * 60
    severity: Severity = "ticket"
    targets: tuple[str, ...] = ()
    notify_resolved: bool = True


@dataclass(frozen=True)
class AlertSignal:
    """The state of one alert of one SLO at one instant; ``key`` is stable across evaluations.

    Burn-rate tiers have ``key`` like ``page:1h/5m``; the absent-data alert has ``key`` "no-data",
    its ``long_window`` is the silence that triggers it and burn fields are None. A burn is None
    when its window held fewer events than the SLO's ``min-events`` guard ("insufficient data").
    """

    key: str
    severity: Severity
    firing: bool
    long_window: str
    short_window: str | None
    burn_long: float | None
    burn_short: float | None
    threshold: float | None
    summary: str
    status: Literal["ok", "firing", "insufficient-data"] = "ok"
    targets: tuple[str, ...] = field(default=())
    notify_resolved: bool = True
    policy: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["targets"] = list(self.targets)
        return data
