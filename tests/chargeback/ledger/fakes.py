"""Small stand-ins for ``tasks.chargeback``'s Allocation, TeamStatement and StatementLine.

The ledger depends only on their attributes (:class:`tasks.chargeback.ledger.AllocationLike`),
so these keep the ledger tests independent of the allocation rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["FakeAllocation", "FakeReconciliationError", "Line", "Statement", "allocation"]


class FakeReconciliationError(Exception):
    """Raised by :meth:`FakeAllocation.reconcile` when the parts do not add up."""


@dataclass(frozen=True)
class Line:
    team: str | None
    category: str
    item: str
    amount: Decimal
    quantity: Decimal | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Statement:
    team: str
    tier: str
    lines: list[Line]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))


@dataclass(frozen=True)
class FakeAllocation:
    period: str
    currency: str
    source_total: Decimal
    statements: dict[str, Statement]
    unallocated: list[Line] = field(default_factory=list)
    metric: str = "EffectiveCost"

    def reconcile(self) -> None:
        cloud = ("direct", "shared")
        lines = [ln for s in self.statements.values() for ln in s.lines if ln.category in cloud]
        parts = sum((ln.amount for ln in lines), Decimal("0"))
        parts += sum((line.amount for line in self.unallocated), Decimal("0"))
        if parts != self.source_total:
            raise FakeReconciliationError(f"{parts} != {self.source_total}")


def allocation(
    ec2: str = "100.00",
    *,
    source_total: str | None = None,
    period: str = "2024-09",
    metric: str = "EffectiveCost",
) -> FakeAllocation:
    """Shop (hard) and ml (showback), 5.00 unallocated; the source total is direct + shared +
    unallocated (platform charges are internal), unless ``source_total`` says otherwise."""
    shop = Statement(
        "shop",
        "hard",
        [
            Line("shop", "direct", "Amazon EC2", Decimal(ec2), Decimal("720"), "Hours"),
            Line("shop", "direct", "Amazon S3", Decimal("20.50")),
            Line("shop", "shared", "Shared networking", Decimal("12.25")),
            Line("shop", "platform", "Kubernetes platform", Decimal("30.00")),
            Line("shop", "discount", "Savings plan", Decimal("-8.75")),
        ],
    )
    ml = Statement(
        "ml",
        "showback",
        [
            Line("ml", "direct", "Amazon SageMaker", Decimal("40.00")),
            Line("ml", "shared", "Shared networking", Decimal("7.75")),
        ],
    )
    unallocated = [Line(None, "unallocated", "untagged", Decimal("5.00"))]
    cloud = [ln.amount for s in (shop, ml) for ln in s.lines if ln.category in ("direct", "shared")]
    total = sum(cloud, Decimal("5.00"))
    return FakeAllocation(
        period,
        "USD",
        Decimal(source_total) if source_total else total,
        {"shop": shop, "ml": ml},
        unallocated,
        metric,
    )
