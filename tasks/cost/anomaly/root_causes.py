"""Root causes of an anomaly, the way AWS Cost Anomaly Detection reports them.

The anomaly's cost is broken down into combinations of service, region, sub-account and usage
(SKU meter or SKU id). Each combination gets its own daily series, scored with the same
seasonal expectation as the monitor (:func:`tasks.cost.anomaly.scoring.expected_matrix`), all
at once as one matrix. A combination's contribution is its actual minus expected cost summed
over the anomaly's days; its share is that contribution over the sum of all positive
contributions, so the shares of everything that went up add up to 1. Combinations that went
down (offsets) and those under 1% of the increase are not listed. A combination with less than
four weeks of history is expected at the median of the days it has before the anomaly (0 for
brand-new spend).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from tasks.cost.anomaly.scoring import expected_matrix

__all__ = ["ROOT_CAUSE_FIELDS", "RootCause", "rank_root_causes", "to_money"]

ROOT_CAUSE_FIELDS = ("service", "region", "sub_account", "usage")
DEFAULT_TOP = 5
MIN_SHARE = 0.01
_CENT = Decimal("0.000001")


def to_money(value: float) -> Decimal:
    """A float from numpy as the store's money: a Decimal with 6 decimal places."""
    return Decimal(repr(float(value))).quantize(_CENT)


@dataclass(frozen=True)
class RootCause:
    """One combination that drove an anomaly, with its contribution and share of the impact."""

    service: str | None
    region: str | None
    sub_account: str | None
    usage: str | None
    impact: Decimal
    share: float
    sub_account_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "region": self.region,
            "sub_account": self.sub_account,
            "sub_account_name": self.sub_account_name,
            "usage": self.usage,
            "impact": str(self.impact),
            "share": round(self.share, 4),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RootCause:
        return cls(
            data.get("service"),
            data.get("region"),
            data.get("sub_account"),
            data.get("usage"),
            Decimal(str(data.get("impact", "0"))),
            float(data.get("share", 0.0)),
            data.get("sub_account_name"),
        )

    @property
    def label(self) -> str:
        account = self.sub_account
        if account and self.sub_account_name and self.sub_account_name != account:
            account = f"{account} ({self.sub_account_name})"
        parts = [self.service, self.region, account, self.usage]
        return " / ".join(p if p else "-" for p in parts)


def rank_root_causes(
    labels: Sequence[tuple[str | None, str | None, str | None, str | None]],
    values: np.ndarray,
    start: int,
    end: int,
    top: int = DEFAULT_TOP,
) -> list[RootCause]:
    """Rank the combinations behind an anomaly from day ``start`` to ``end`` (inclusive columns).

    Args:
        labels: ``(service, region, sub_account, usage)`` of each row of ``values``.
        values: ``(combinations, days)`` daily cost, consecutive days, missing days as 0; the
            columns before ``start`` are the baseline (58 days give the full model).
        start: first day of the anomaly (column index).
        end: last day of the anomaly (column index, inclusive).
        top: how many combinations to return at most.

    Returns:
        The combinations with at least 1% of the increase, largest first.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != len(labels):
        raise ValueError("values must be a (combinations, days) matrix with one label per row")
    if not 0 <= start <= end < x.shape[1]:
        raise ValueError(f"anomaly days {start}..{end} are outside the {x.shape[1]} days given")
    if not len(labels):
        return []
    expected = expected_matrix(x)[:, start : end + 1]
    missing = np.isnan(expected)
    if missing.any():
        fallback = np.median(x[:, :start], axis=1) if start else np.zeros(x.shape[0])
        expected = np.where(missing, fallback[:, None], expected)
    contribution = (x[:, start : end + 1] - expected).sum(axis=1)
    positive = np.flatnonzero(contribution > 0)
    total = contribution[positive].sum()
    if not len(positive) or total <= 0:
        return []
    order = positive[np.argsort(-contribution[positive], kind="stable")][:top]
    order = order[contribution[order] >= MIN_SHARE * total]
    return [
        RootCause(
            service=labels[i][0],
            region=labels[i][1],
            sub_account=labels[i][2],
            usage=labels[i][3],
            impact=to_money(contribution[i]),
            share=float(contribution[i] / total),
        )
        for i in order
    ]
