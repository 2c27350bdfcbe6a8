"""Daily series per monitor from stored cost lines (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from tasks.cost.anomaly.series import UNTAGGED, load_breakdown, load_monitor_series

from .helpers import (
    EC2_EU,
    EC2_US,
    RDS_EU,
    S3_US,
    START,
    at,
    cost_line,
    insert_lines,
    insert_tag_totals,
    monitor,
)

D = [START + timedelta(days=i) for i in range(10)]


def as_dict(series):
    return {k: series.values[i].tolist() for i, k in enumerate(series.keys)}


def test_total_service_and_sub_account_series(store_engine):
    insert_lines(
        store_engine,
        [
            cost_line(D[1], 10, EC2_US),
            cost_line(D[1], 5, S3_US),
            cost_line(D[2], 7, EC2_EU),
            cost_line(D[3], 2, RDS_EU),
        ],
    )
    total = load_monitor_series(store_engine, monitor("t", "total"), D[0], D[4])
    assert total.start == D[1]  # the matrix starts at the first day with cost
    assert as_dict(total) == {"total": [15.0, 7.0, 2.0, 0.0]}
    assert total.values_of == (None,) and total.currencies == ("USD",)
    services = load_monitor_series(store_engine, monitor("s", "service"), D[0], D[4])
    assert as_dict(services) == {
        "Amazon Elastic Compute Cloud": [10.0, 7.0, 0.0, 0.0],
        "Amazon Relational Database Service": [0.0, 0.0, 2.0, 0.0],
        "Amazon Simple Storage Service": [5.0, 0.0, 0.0, 0.0],
    }
    accounts = load_monitor_series(store_engine, monitor("a", "sub_account"), D[0], D[4])
    assert as_dict(accounts) == {
        "111111111111": [15.0, 0.0, 0.0, 0.0],
        "222222222222": [0.0, 7.0, 2.0, 0.0],
    }


def test_filters_metric_and_charge_categories(store_engine):
    insert_lines(
        store_engine,
        [
            cost_line(D[0], 10, billed=12),
            cost_line(D[0], 4, provider="Google Cloud", account="gcp-1"),
            cost_line(D[0], 3, account="888888888888"),
            cost_line(D[0], 100, category="Tax"),
            cost_line(D[0], -50, category="Credit"),
        ],
    )
    assert as_dict(load_monitor_series(store_engine, monitor("t", "total"), D[0], D[0])) == {
        "total": [17.0]
    }
    aws = monitor("aws", "total", filter={"provider": "AWS", "billing_account": "999999999999"})
    assert as_dict(load_monitor_series(store_engine, aws, D[0], D[0])) == {"total": [10.0]}
    billed = monitor(
        "b", "total", metric="BilledCost", filter={"billing_account": ["999999999999"]}
    )
    assert as_dict(load_monitor_series(store_engine, billed, D[0], D[0])) == {"total": [12.0]}
    everything = monitor("e", "total", filter={"charge_category": ["Usage", "Tax", "Credit"]})
    assert as_dict(load_monitor_series(store_engine, everything, D[0], D[0])) == {"total": [67.0]}


def test_multi_day_charges_are_spread_and_clipped_to_the_window(store_engine):
    insert_lines(store_engine, [cost_line(D[0], 100, span_days=10), cost_line(D[3], 1)])
    series = load_monitor_series(store_engine, monitor("t", "total"), D[2], D[5])
    assert series.start == D[2]
    assert as_dict(series) == {"total": pytest.approx([10.0, 11.0, 10.0, 10.0])}


def test_hourly_lines_add_up_to_their_day(store_engine):
    rows = []
    for hour in range(24):
        line = cost_line(D[0], 0.5)
        line["charge_period_start"] = at(D[0]) + timedelta(hours=hour)
        line["charge_period_end"] = at(D[0]) + timedelta(hours=hour + 1)
        rows.append(line)
    insert_lines(store_engine, rows)
    assert as_dict(load_monitor_series(store_engine, monitor("t", "total"), D[0], D[1])) == {
        "total": [12.0, 0.0]
    }


def test_currencies_are_never_summed(store_engine):
    insert_lines(
        store_engine,
        [cost_line(D[0], 10), cost_line(D[0], 8, currency="EUR"), cost_line(D[0], 1, S3_US)],
    )
    series = load_monitor_series(store_engine, monitor("s", "service"), D[0], D[0])
    assert as_dict(series) == {
        "Amazon Elastic Compute Cloud [EUR]": [8.0],
        "Amazon Elastic Compute Cloud [USD]": [10.0],
        "Amazon Simple Storage Service": [1.0],
    }
    assert series.values_of[0] == "Amazon Elastic Compute Cloud" and series.currencies[0] == "EUR"
    total = load_monitor_series(store_engine, monitor("t", "total"), D[0], D[0])
    assert as_dict(total) == {"total [EUR]": [8.0], "total [USD]": [11.0]}


def test_tag_series_use_line_tags_or_tag_totals_never_both(store_engine):
    insert_lines(
        store_engine,
        [
            cost_line(D[0], 10, tags={"team": "web", "env": "prod"}),
            cost_line(D[0], 3, S3_US, tags={"env": "prod"}),
            cost_line(D[0], 2, RDS_EU),
            # a Cost Explorer scope: its lines carry no tags, its tag totals do
            cost_line(D[0], 40, source="aws-ce", account="777777777777"),
        ],
    )
    base = {
        "source": "aws-ce",
        "provider_name": "AWS",
        "billing_account_id": "777777777777",
        "tag_key": "team",
        "charge_period_start": at(D[0]),
        "charge_period_end": at(D[1]),
        "billing_currency": "USD",
        "estimated": False,
    }
    insert_tag_totals(
        store_engine,
        [
            {**base, "tag_value": "data", "billed_cost": 30, "effective_cost": 30},
            {**base, "tag_value": "", "billed_cost": 10, "effective_cost": 10},
        ],
    )
    series = load_monitor_series(store_engine, monitor("teams", "tag", tag="team"), D[0], D[0])
    assert as_dict(series) == {UNTAGGED: [15.0], "data": [30.0], "web": [10.0]}


def test_no_cost_gives_an_empty_series(store_engine):
    series = load_monitor_series(store_engine, monitor("t", "total"), D[0], D[5])
    assert series.keys == () and series.values.shape == (0, 0)


def test_breakdown_of_one_series_by_service_region_account_and_usage(store_engine):
    insert_lines(
        store_engine,
        [
            cost_line(D[1], 10, EC2_US, tags={"team": "web"}, sub_account_name="shop-prod"),
            cost_line(D[2], 7, EC2_EU),
            cost_line(D[2], 5, S3_US, tags={"team": "web"}),
            cost_line(D[2], 1, (None, None, None, None)),
        ],
    )
    ec2 = load_breakdown(store_engine, monitor("s", "service"), EC2_US[0], "USD", D[0], D[3])
    assert ec2.labels == (EC2_EU, EC2_US)
    np.testing.assert_array_equal(ec2.values, [[0, 0, 7, 0], [0, 10, 0, 0]])
    assert ec2.account_names == {"111111111111": "shop-prod"}
    web = load_breakdown(store_engine, monitor("w", "tag", tag="team"), "web", "USD", D[0], D[3])
    assert web.labels == (EC2_US, S3_US)
    none = load_breakdown(store_engine, monitor("s", "service"), "(none)", "USD", D[0], D[3])
    assert none.labels == ((None, None, None, None),)
    assert load_breakdown(store_engine, monitor("t", "total"), None, "EUR", D[0], D[3]).labels == ()
