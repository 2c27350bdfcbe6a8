from __future__ import annotations

import pytest

from tasks.slo.burn import (
    DEFAULT_TIERS,
    AlertTier,
    budget_fraction_spent,
    burn_rate,
    burn_threshold,
    exceeds,
)

DAY = 86400
THIRTY_DAYS = 30 * DAY

# The Google SRE Workbook's recommended tiers for a 30-day SLO.
WORKBOOK = [
    ("page:1h/5m", 3600, 300, 14.4, 0.02),
    ("page:6h/30m", 6 * 3600, 1800, 6.0, 0.05),
    ("ticket:1d/2h", DAY, 2 * 3600, 3.0, 0.10),
    ("ticket:3d/6h", 3 * DAY, 6 * 3600, 1.0, 0.10),
]


@pytest.mark.parametrize(("key", "long", "short", "burn", "spent"), WORKBOOK)
def test_default_tiers_are_the_workbook_table(key, long, short, burn, spent):
    tier = {t.key: t for t in DEFAULT_TIERS}[key]
    assert (tier.long_seconds, tier.short_seconds) == (long, short)
    assert tier.threshold_for(THIRTY_DAYS) == burn  # exact: the gate compares with >=
    assert budget_fraction_spent(burn, long, THIRTY_DAYS) == pytest.approx(spent)


def test_short_window_is_a_twelfth_of_the_long_one():
    assert all(t.long_seconds == 12 * t.short_seconds for t in DEFAULT_TIERS)


def test_burn_rate_of_14_4_over_1h_spends_2_percent_of_a_30_day_budget():
    # 99.9%: 1.44% errors for an hour is a 14.4x burn; 14.4 x 1h / 720h = 2% of the budget.
    rate = burn_rate(bad=144, total=10_000, error_budget=0.001)
    assert rate == pytest.approx(14.4)
    assert budget_fraction_spent(rate, 3600, THIRTY_DAYS) == pytest.approx(0.02)


def test_threshold_formula_scales_with_the_slo_period():
    assert burn_threshold(0.02, 28 * DAY, 3600) == pytest.approx(13.44)
    tier = DEFAULT_TIERS[0]
    assert tier.threshold_for(28 * DAY) == pytest.approx(13.44)


def test_error_budget_of_99_9_over_30_days_is_43_2_minutes():
    budget_minutes = (1 - 0.999) * THIRTY_DAYS / 60
    assert budget_minutes == pytest.approx(43.2)


def test_burn_rate_without_events_is_none():
    assert burn_rate(0, 0, 0.001) is None
    assert not exceeds(None, "gte", 1.0)


def test_explicit_threshold_and_ops():
    tier = AlertTier("page", 3600, 300, threshold=10.0, op="gt")
    assert tier.threshold_for(THIRTY_DAYS) == 10.0
    assert exceeds(10.0, "gte", 10.0)
    assert not exceeds(10.0, "gt", 10.0)


def test_tier_needs_exactly_one_of_threshold_and_budget_fraction():
    with pytest.raises(ValueError):
        AlertTier("page", 3600, 300)
    with pytest.raises(ValueError):
        AlertTier("page", 3600, 300, threshold=1.0, budget_fraction=0.1)
