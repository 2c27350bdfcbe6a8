"""Root causes: contributions per (service, region, sub-account, usage) and their shares."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from tasks.cost.anomaly.root_causes import RootCause, rank_root_causes, to_money

WEEK = np.array([1.0, 1.04, 1.08, 1.04, 1.0, 0.6, 0.55])
DAYS = 70
EC2 = ("Amazon EC2", "us-east-1", "111111111111", "BoxUsage:m5.xlarge")
RDS = ("Amazon RDS", "eu-west-1", "222222222222", "InstanceUsage:db.r6g.large")
S3 = ("Amazon S3", "us-east-1", "111111111111", "TimedStorage-ByteHrs")
LAMBDA = ("AWS Lambda", "us-east-1", "111111111111", "Request")


def series(level: float) -> np.ndarray:
    return level * WEEK[np.arange(DAYS) % 7]


def test_shares_split_the_impact_among_what_went_up_and_sum_to_one():
    values = np.stack([series(1000), series(400), series(300)])
    values[0, 66:68] += 750.0  # EC2: +1,500 over two days
    values[1, 66:68] += 250.0  # RDS: +500
    causes = rank_root_causes([EC2, RDS, S3], values, 66, 67)
    assert [c.service for c in causes] == ["Amazon EC2", "Amazon RDS"]
    assert [c.share for c in causes] == pytest.approx([0.75, 0.25])
    assert sum(c.share for c in causes) == pytest.approx(1.0)
    assert causes[0].impact == Decimal("1500.000000")
    assert (causes[0].region, causes[0].sub_account, causes[0].usage) == EC2[1:]


def test_offsets_are_left_out_and_shares_count_only_increases():
    values = np.stack([series(1000), series(400), series(300)])
    values[0, 66] += 800.0
    values[2, 66] -= 200.0  # S3 went down the same day
    causes = rank_root_causes([EC2, RDS, S3], values, 66, 66)
    assert [c.service for c in causes] == ["Amazon EC2"]
    assert causes[0].share == pytest.approx(1.0)


def test_new_spend_counts_in_full_and_top_limits_the_list():
    values = np.stack([series(1000), series(400), series(300), np.zeros(DAYS)])
    values[3, 66:] = 120.0  # Lambda appears on the anomaly's first day
    values[0, 66:] += 500.0
    values[1, 66:] += 100.0
    causes = rank_root_causes([EC2, RDS, S3, LAMBDA], values, 66, 69, top=2)
    assert [c.service for c in causes] == ["Amazon EC2", "AWS Lambda"]
    assert causes[1].impact == Decimal("480.000000")
    assert causes[0].share + causes[1].share < 1.0  # RDS's share is not listed


def test_short_history_falls_back_to_the_median_before_the_anomaly():
    values = np.stack([np.full(20, 100.0), np.full(20, 50.0)])
    values[0, 18:] = 400.0
    causes = rank_root_causes([EC2, RDS], values, 18, 19)
    assert len(causes) == 1 and causes[0].impact == Decimal("600.000000")


def test_nothing_went_up_gives_no_root_causes():
    values = np.stack([series(1000), series(400)])
    assert rank_root_causes([EC2, RDS], values, 66, 67) == []
    assert rank_root_causes([], np.zeros((0, DAYS)), 66, 67) == []


@pytest.mark.parametrize(("start", "end"), [(5, 3), (-1, 2), (66, DAYS)])
def test_days_outside_the_matrix_are_rejected(start, end):
    with pytest.raises(ValueError, match="outside"):
        rank_root_causes([EC2], series(10)[None, :], start, end)


def test_labels_must_match_rows():
    with pytest.raises(ValueError, match="one label per row"):
        rank_root_causes([EC2, RDS], series(10)[None, :], 66, 67)


def test_json_round_trip_and_label():
    cause = RootCause("Amazon EC2", None, "111111111111", "BoxUsage", Decimal("12.5"), 0.51234)
    data = cause.to_json()
    assert data == {
        "service": "Amazon EC2",
        "region": None,
        "sub_account": "111111111111",
        "sub_account_name": None,
        "usage": "BoxUsage",
        "impact": "12.5",
        "share": 0.5123,
    }
    assert RootCause.from_json(data).label == "Amazon EC2 / - / 111111111111 / BoxUsage"
    named = RootCause.from_json({**data, "sub_account_name": "shop-prod"})
    assert named.label == "Amazon EC2 / - / 111111111111 (shop-prod) / BoxUsage"


def test_money_has_six_decimal_places():
    assert to_money(0.1 + 0.2) == Decimal("0.300000")
    assert to_money(-1234.5678912) == Decimal("-1234.567891")


def test_combinations_under_one_percent_of_the_increase_are_not_listed():
    values = np.stack([series(1000), series(400)])
    values[0, 66] += 1000.0
    values[1, 66] += 5.0  # 0.5% of the increase: noise, not a cause
    causes = rank_root_causes([EC2, RDS], values, 66, 66)
    assert [c.service for c in causes] == ["Amazon EC2"]
    assert causes[0].share == pytest.approx(1000 / 1005)
