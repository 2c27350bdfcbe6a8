from __future__ import annotations

from decimal import Decimal

import pytest

from tasks.chargeback.ratecard import MetricRate, price_usage

RATE = MetricRate.model_validate(
    {
        "unit": "metric",
        "per": 1_000_000,
        "price": "1.00",
        "tiers": [
            {"from": 0, "to": 10_000_000},
            {"from": 10_000_000, "to": 50_000_000, "discount": "0.10"},
            {"from": 50_000_000, "to": 100_000_000, "discount": "0.20"},
            {"from": 100_000_000, "discount": "0.35"},
        ],
    }
)


@pytest.mark.parametrize(
    ("quantity", "gross", "discounts", "net"),
    [
        (10_000_000, "10.00", [], "10.00"),  # exactly at 10M: no unit in the 10% tier yet
        (10_000_001, "10.00", ["0.00"], "10.00"),
        (50_000_000, "50.00", ["-4.00"], "46.00"),  # 40M at 10% off
        (100_000_000, "100.00", ["-4.00", "-10.00"], "86.00"),  # + 50M at 20% off
        (150_000_000, "150.00", ["-4.00", "-10.00", "-17.50"], "118.50"),  # + 50M at 35% off
        (0, "0.00", [], "0.00"),
    ],
)
def test_graduated_tiers_price_each_unit_at_its_tier(
    quantity: int, gross: str, discounts: list[str], net: str
) -> None:
    priced = price_usage(RATE, "metrics_ingested", Decimal(quantity))
    assert priced.gross == Decimal(gross)
    assert [d[2] for d in priced.discounts] == [Decimal(d) for d in discounts]
    assert priced.net == Decimal(net)


def test_discount_lines_name_the_tier_and_its_quantity() -> None:
    priced = price_usage(RATE, "metrics_ingested", Decimal(60_000_000))
    assert [(label, qty) for label, qty, _ in priced.discounts] == [
        ("metrics_ingested 10M-50M 10% off", Decimal(40_000_000)),
        ("metrics_ingested 50M-100M 20% off", Decimal(10_000_000)),
    ]


def test_a_metric_without_tiers_is_priced_flat() -> None:
    rate = MetricRate(unit="GB-month", price=Decimal("0.08"))
    priced = price_usage(rate, "storage", Decimal("1250.5"))
    assert (priced.gross, priced.discounts) == (Decimal("100.04"), ())
