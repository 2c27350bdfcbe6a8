from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest

from tasks.chargeback.rounding import apportion, from_cents, split_cents, to_cents


def test_even_split_of_odd_cents_gives_the_extra_cent_to_the_first_team_by_name() -> None:
    assert split_cents(100, {"c": 1, "b": 1, "a": 1}) == {"a": 34, "b": 33, "c": 33}
    assert split_cents(1, {"zeta": 1, "alpha": 1}) == {"alpha": 1, "zeta": 0}


def test_largest_remainder_wins_over_name_order() -> None:
    # quotas 3.5, 2.1, 1.4 -> floors 3, 2, 1; the missing cent goes to the 0.5 remainder
    assert split_cents(7, {"a": Decimal("0.5"), "b": Decimal("0.3"), "c": Decimal("0.2")}) == {
        "a": 4,
        "b": 2,
        "c": 1,
    }
    assert split_cents(7, {"a": Decimal("0.2"), "b": Decimal("0.3"), "z": Decimal("0.5")})["z"] == 4


def test_many_parts_with_odd_cents_add_up_exactly() -> None:
    rng = random.Random(7)
    for total in (1, 99, 10_001, 123_456_789, -333):
        weights = {f"team-{i:03d}": rng.randint(0, 1000) for i in range(200)}
        weights["team-000"] = 1  # never all zero
        parts = split_cents(total, weights)
        assert sum(parts.values()) == total
        whole = sum(weights.values())
        for team, cents in parts.items():
            assert abs(cents - Fraction(total * weights[team], whole)) < 1


def test_apportion_reaches_the_rounded_sum_of_exact_parts() -> None:
    quotas = {f"p{i}": Decimal("100") / 7 for i in range(7)}  # 7 x 14.2857... cents
    assert sum(apportion(quotas, 100).values()) == 100
    with pytest.raises(ValueError, match="cannot apportion"):
        apportion({"a": Decimal("1.5")}, 5)


def test_split_refuses_negative_or_all_zero_weights() -> None:
    with pytest.raises(ValueError, match="negative"):
        split_cents(10, {"a": -1, "b": 2})
    with pytest.raises(ValueError, match="zero"):
        split_cents(10, {"a": 0})


def test_cents_round_half_even() -> None:
    assert to_cents(Decimal("0.125")) == 12
    assert to_cents(Decimal("0.135")) == 14
    assert from_cents(-5) == Decimal("-0.05")
