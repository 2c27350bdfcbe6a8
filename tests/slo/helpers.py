"""Builders for SLO tests: steady probe traffic with chosen failures, and SLO definitions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tasks.slo.definition import Indicator, SloDefinition
from tasks.slo.events import Events

NOW = datetime(2025, 3, 10, 12, 0, 0, tzinfo=UTC)
REGIONS = ("eu-west-1", "us-east-1", "ap-northeast-1")


def traffic(
    minutes: int,
    bad: Callable[[int, str], bool] = lambda age, region: False,
    regions: tuple[str, ...] = REGIONS,
    now: datetime = NOW,
    every: int = 60,
) -> Events:
    """One result per region every ``every`` seconds for ``minutes``, ending at ``now``.

    ``bad(age_minutes, region)`` says which results failed; age 0 is the minute of ``now``.
    """
    end = int(now.timestamp())
    ts, region, good = [], [], []
    for offset in range(0, minutes * 60, every):
        for name in regions:
            ts.append(end - offset)
            region.append(name)
            good.append(not bad(offset // 60, name))
    return Events.from_arrays(ts, region, good)


def slo(**overrides: object) -> SloDefinition:
    """A 99.9%, 30-day rolling availability SLO with the default tiers, overridable."""
    fields: dict[str, object] = {
        "id": "test-slo",
        "service": "shop-api",
        "indicator": Indicator("test-sli", checks=("shop-health",)),
        "target": 0.999,
    }
    fields.update(overrides)
    return SloDefinition(**fields)  # type: ignore[arg-type]
