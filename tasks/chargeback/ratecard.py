"""The platform rate card: a price per metric with graduated volume tiers.

Tiers are **graduated** (like AWS tiered pricing, not "all units at the reached tier"): each unit
is priced at the tier it falls in. With 10% off 10M-50M and 20% off 50M-100M, a team that
ingested 60M metrics pays the list price on the first 10M, 10% less on the next 40M and 20% less
on the last 10M. Tier bounds are in raw units (``from`` inclusive, ``to`` exclusive), so a
quantity of exactly 10M has no unit in the 10M-50M tier. Volumes count per team and period.

A statement shows the gross charge (``platform``) and, per discounted tier, a negative
``discount`` line; each is rounded half-even to the cent, so the net is their sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tasks.chargeback.rounding import from_cents, to_cents

__all__ = ["MetricRate", "PricedUsage", "RateCard", "Tier", "price_usage"]


class Tier(BaseModel):
    """A volume band ``[from, to)`` in raw units with its discount (``0.10`` = 10% off)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: Decimal = Field(alias="from", ge=0)
    end: Decimal | None = Field(default=None, alias="to")
    discount: Decimal = Field(default=Decimal(0), ge=0, lt=1)


class MetricRate(BaseModel):
    """The price of one platform metric: ``price`` per ``per`` raw units, with tiers."""

    model_config = ConfigDict(extra="forbid")

    unit: str = Field(min_length=1, description="what a raw unit is, e.g. 'metric', 'GB-month'")
    per: Decimal = Field(default=Decimal(1), gt=0, description="raw units the price is for")
    price: Decimal = Field(ge=0)
    tiers: list[Tier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _tiers_are_contiguous(self) -> MetricRate:
        if not self.tiers:
            return self
        if self.tiers[0].start != 0:
            raise ValueError("tiers must start at 0 (tiers[0].from)")
        for i, (low, high) in enumerate(zip(self.tiers, self.tiers[1:], strict=False)):
            if low.end is None:
                raise ValueError(f"tiers[{i}] has no 'to' but is not the last tier")
            if low.end <= low.start:
                raise ValueError(f"tiers[{i}]: 'to' must be greater than 'from'")
            if high.start < low.end:
                raise ValueError(
                    f"tiers[{i + 1}] overlaps tiers[{i}] (from {high.start} < to {low.end})"
                )
            if high.start > low.end:
                raise ValueError(
                    f"gap between tiers[{i}] and tiers[{i + 1}] ({low.end}..{high.start})"
                )
        last = self.tiers[-1]
        if last.end is not None and last.end <= last.start:
            raise ValueError(f"tiers[{len(self.tiers) - 1}]: 'to' must be greater than 'from'")
        return self


class RateCard(BaseModel):
    """Prices for platform usage, keyed by metric name (``metrics_ingested``, ...)."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field(min_length=3, max_length=3)
    metrics: dict[str, MetricRate] = Field(min_length=1)


@dataclass(frozen=True)
class PricedUsage:
    """One metric's charge for one team: gross, per-tier discounts (negative), net."""

    metric: str
    quantity: Decimal
    unit: str
    gross: Decimal
    discounts: tuple[tuple[str, Decimal, Decimal], ...]  # (tier label, quantity, amount < 0)

    @property
    def net(self) -> Decimal:
        return self.gross + sum((d[2] for d in self.discounts), Decimal(0))


def price_usage(rate: MetricRate, metric: str, quantity: Decimal) -> PricedUsage:
    """Price ``quantity`` raw units of ``metric`` with graduated tiers (see module docstring)."""
    gross = from_cents(to_cents(quantity * rate.price / rate.per))
    discounts = []
    for tier in rate.tiers:
        if not tier.discount or quantity <= tier.start:
            continue
        top = quantity if tier.end is None else min(quantity, tier.end)
        in_tier = top - tier.start
        amount = -from_cents(to_cents(in_tier * rate.price / rate.per * tier.discount))
        percent = f"{(tier.discount * 100).normalize():f}"
        label = f"{metric} {_short(tier.start)}-{_short(tier.end)} {percent}% off"
        discounts.append((label, in_tier, amount))
    return PricedUsage(metric, quantity, rate.unit, gross, tuple(discounts))


def _short(value: Decimal | None) -> str:
    if value is None:
        return ""
    for size, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if value >= size and value % size == 0:
            return f"{value // size}{suffix}"
    return f"{value}"
