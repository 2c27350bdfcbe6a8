"""Exact splitting of money into cents: the largest remainder method.

Every split in a chargeback must add up to the whole *to the cent*. Rounding each part on its own
does not (three parts of 1.00 round to 0.33 each), so parts are apportioned: each part gets the
floor of its exact quota in cents, and the cents still missing go one each to the parts with the
largest fractional remainders. Ties are broken by the part's key (team name), so the result is
deterministic whatever the input order.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any, TypeVar

__all__ = ["CENT", "apportion", "from_cents", "split_cents", "to_cents"]

CENT = Decimal("0.01")
K = TypeVar("K", bound=Hashable)


def to_cents(amount: Decimal) -> int:
    """``amount`` rounded half-even to whole cents, as an integer number of cents."""
    return int(amount.quantize(CENT, rounding=ROUND_HALF_EVEN).scaleb(2))


def from_cents(cents: int) -> Decimal:
    """An integer number of cents as a two-decimal :class:`Decimal`."""
    return Decimal(cents).scaleb(-2).quantize(CENT)


def apportion(quotas: Mapping[K, Fraction | Decimal | int], total: int) -> dict[K, int]:
    """Integer parts (cents) of ``quotas`` (exact, in cents) that add up to ``total``.

    Each key gets ``floor(quota)``; the ``total - sum(floors)`` units left go to the keys with the
    largest remainders, ties broken by key order. ``total`` must be within ``len(quotas)`` units
    above the sum of the floors (true whenever ``total`` is the rounded sum of the quotas).

    Raises:
        ValueError: ``total`` cannot be reached by adding at most one unit per part.
    """
    # Decimal quotas stay Decimal (exact, and much faster than Fraction); others become Fraction
    exact: dict[K, Fraction | Decimal] = {
        k: q if isinstance(q, Decimal) else Fraction(q) for k, q in quotas.items()
    }
    floors = {k: math.floor(q) for k, q in exact.items()}
    missing = total - sum(floors.values())
    if missing < 0 or missing > len(exact):
        raise ValueError(f"cannot apportion {total} over quotas summing to {sum(exact.values())}")
    if missing:
        order = sorted(exact, key=lambda k: (-(exact[k] - floors[k]), _sort_key(k)))
        for key in order[:missing]:
            floors[key] += 1
    return floors


def split_cents(total: int, weights: Mapping[K, Fraction | Decimal | int]) -> dict[K, int]:
    """Split ``total`` cents in proportion to ``weights`` (non-negative, not all zero).

    Raises:
        ValueError: a weight is negative or all weights are zero.
    """
    exact = {k: Fraction(w) for k, w in weights.items()}
    if any(w < 0 for w in exact.values()):
        raise ValueError("weights must not be negative")
    whole = sum(exact.values(), Fraction(0))
    if whole == 0:
        raise ValueError("weights must not all be zero")
    return apportion({k: total * w / whole for k, w in exact.items()}, total)


def _sort_key(key: Any) -> Any:
    # keys are team names or tuples of names/None; None sorts first without comparing to str
    if isinstance(key, tuple):
        return tuple(("", "") if p is None else ("1", str(p)) for p in key)
    return str(key)
