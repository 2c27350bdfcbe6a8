"""AWS Cost Explorer against a real local moto server: paging, mapping, estimates, throttling."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from tasks.cost.ingest import ingest_source
from tasks.cost.sources.aws_cost_explorer import CostExplorerSource
from tasks.cost.sources.config import AwsCostExplorerConfig, build_source
from tasks.cost.sources.snapshot import CostExplorerSnapshot
from tasks.errors import ConfigurationError, PermanentError, ThrottledError
from tasks.store import CostLine, get_engine
from tests.cost.helpers import ce_day, ce_group, ce_page, lake_rows
from tests.cost.throttle_proxy import ThrottlingProxy

PERIOD = (date(2024, 9, 1), date(2024, 9, 3))


def _history(final: bool = False) -> list[dict]:
    """Two pages of SERVICE x LINKED_ACCOUNT, then one page of the team tag (moto's order)."""
    ec2 = "Amazon Elastic Compute Cloud - Compute"
    day2 = "7.00" if final else "6.50"
    accounts = [{"Value": "111122223333", "Attributes": {"description": "shop-prod"}}]
    return [
        ce_page(
            [ce_day("2024-09-01", [ce_group([ec2, "111122223333"], "10.25")])],
            token="page-2",
            DimensionValueAttributes=accounts,
        ),
        ce_page(
            [
                ce_day(
                    "2024-09-02",
                    [ce_group([ec2, "111122223333"], day2), ce_group(["Tax", "111122223333"], "1")],
                    estimated=not final,
                )
            ]
        ),
        ce_page(
            [
                ce_day("2024-09-01", [ce_group(["team$shop"], "10.25")]),
                ce_day("2024-09-02", [ce_group(["team$"], day2)], estimated=not final),
            ]
        ),
    ]


def _source(aws, **kwargs) -> CostExplorerSource:
    config = AwsCostExplorerConfig(
        name="aws-ce", type="aws_cost_explorer", billing_account_id="123456789012", **kwargs
    )
    source = build_source(config)
    assert isinstance(source, CostExplorerSource)
    source._sleep = lambda _s: None  # no real waiting between retries in tests
    return source


def test_every_page_is_followed_and_mapped_to_focus(aws):
    aws.seed_cost_and_usage(_history())
    source = _source(aws)
    [chunk] = source.fetch(*PERIOD)
    rows = chunk.lines.to_pylist()
    assert source.requests == 4  # two pages + the tag query + the (empty) charge query
    assert [(r["service_name"], r["billed_cost"]) for r in rows] == [
        ("Amazon Elastic Compute Cloud - Compute", Decimal("10.25")),
        ("Amazon Elastic Compute Cloud - Compute", Decimal("6.50")),
        ("Tax", Decimal("1")),
    ]
    first = rows[0]
    assert first["effective_cost"] == Decimal("9.225")  # AmortizedCost
    assert first["contracted_cost"] == Decimal("9.7375")  # NetUnblendedCost
    assert first["list_cost"] is None
    assert (first["provider_name"], first["billing_account_id"]) == ("AWS", "123456789012")
    assert (first["sub_account_id"], first["sub_account_name"]) == ("111122223333", "shop-prod")
    assert first["service_category"] == "Compute"
    assert first["charge_period_start"] == datetime(2024, 9, 1, tzinfo=UTC)
    assert first["charge_period_end"] == datetime(2024, 9, 2, tzinfo=UTC)
    assert first["billing_period_start"] == datetime(2024, 9, 1, tzinfo=UTC)
    assert first["billing_period_end"] == datetime(2024, 10, 1, tzinfo=UTC)
    assert [r["charge_category"] for r in rows] == ["Usage", "Usage", "Tax"]
    assert [r["estimated"] for r in rows] == [False, True, True]
    tags = chunk.tag_totals.to_pylist()
    assert [(t["tag_key"], t["tag_value"], t["billed_cost"]) for t in tags] == [
        ("team", "shop", Decimal("10.25")),
        ("team", "", Decimal("6.50")),
    ]


def test_estimated_days_are_replaced_when_final_numbers_arrive(aws, store_url):
    engine = get_engine(store_url)
    aws.seed_cost_and_usage(_history())
    first = ingest_source(engine, _source(aws), *PERIOD)
    aws.reset()  # moto keeps answering a repeated request the same way; queue the final run
    aws.seed_cost_and_usage(_history(final=True))
    second = ingest_source(engine, _source(aws), *PERIOD)

    assert (first.scopes[0].estimated, second.scopes[0].estimated) == (True, False)
    assert second.scopes[0].billed_total == Decimal("18.25")
    stored = lake_rows(
        select(CostLine.charge_period_start, CostLine.billed_cost, CostLine.estimated)
        .where(CostLine.service_name != "Tax")
        .order_by(CostLine.charge_period_start)
    )
    assert [(c, e) for _d, c, e in stored] == [(Decimal("10.25"), False), (Decimal("7"), False)]


def test_throttling_is_retried_with_backoff_then_succeeds(aws, monkeypatch):
    aws.seed_cost_and_usage(_history())
    with ThrottlingProxy(aws.url, ["ThrottlingException", "LimitExceededException"]) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        source = _source(aws)
        waits: list[float] = []
        source._sleep = waits.append
        [chunk] = source.fetch(*PERIOD)
    assert proxy.injected == ["ThrottlingException", "LimitExceededException"]
    assert chunk.lines.num_rows == 3
    assert len(waits) == 2 and 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0
    assert source.requests == 6


def test_throttling_that_never_stops_raises_a_transient_error_naming_the_request(aws, monkeypatch):
    aws.seed_cost_and_usage(_history())
    with ThrottlingProxy(aws.url, ["ThrottlingException"] * 10) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        with pytest.raises(ThrottledError) as caught:
            list(_source(aws, max_attempts=3).fetch(*PERIOD))
    message = str(caught.value)
    assert message == (
        "Cost Explorer GetCostAndUsage 2024-09-01..2024-09-03 by SERVICE,LINKED_ACCOUNT, page 1: "
        "still throttled (ThrottlingException) after 3 attempt(s)"
    )
    assert "testing" not in message  # the (dummy) access key and secret never appear


def test_other_client_errors_are_permanent(aws, monkeypatch):
    with ThrottlingProxy(aws.url, ["ValidationException"]) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        with pytest.raises(PermanentError, match=r"rejected .* \(ValidationException\)"):
            list(_source(aws).fetch(*PERIOD))


def test_the_snapshot_client_replays_recorded_pages_without_a_network():
    history = _history()
    snapshot = CostExplorerSnapshot(
        {"SERVICE,LINKED_ACCOUNT": history[:2], "TAG:team": history[2:]}
    )
    source = CostExplorerSource("aws", snapshot, billing_account_id="1")
    [chunk] = source.fetch(*PERIOD)
    assert chunk.lines.num_rows == 3
    assert [c.get("NextPageToken") for c in snapshot.calls] == [None, "page-2", None, None]


def test_fees_purchases_credits_and_refunds_are_charges_not_usage():
    """A monthly fee reported by Cost Explorer is a recurring purchase, not a day of usage."""
    ec2, support = "Amazon Elastic Compute Cloud - Compute", "AWS Support (Business)"
    usage = ce_page([ce_day("2024-09-01", [ce_group([ec2, "111122223333"], "10")])])
    charges = ce_page(
        [
            ce_day(
                "2024-09-01",
                [
                    ce_group(["RIFee", ec2], "300"),
                    ce_group(["Support", support], "100"),
                    ce_group(["Upfront", ec2], "1200"),
                    ce_group(["Credit", ec2], "-5"),
                    ce_group(["Refund", ec2], "-2"),
                    ce_group(["SomeNewType", ec2], "1"),
                ],
            )
        ]
    )
    snapshot = CostExplorerSnapshot(
        {"SERVICE,LINKED_ACCOUNT": [usage], "RECORD_TYPE,SERVICE": [charges]}
    )
    source = CostExplorerSource("aws", snapshot, billing_account_id="1", tag_key=None)

    [chunk] = source.fetch(*PERIOD)

    rows = chunk.lines.to_pylist()
    classified = [
        (r["service_name"], r["charge_category"], r["charge_class"], r["charge_frequency"])
        for r in rows
    ]
    assert classified == [
        (ec2, "Usage", None, "Usage-Based"),
        (ec2, "Purchase", None, "Recurring"),
        (support, "Purchase", None, "Recurring"),
        (ec2, "Purchase", None, "One-Time"),
        (ec2, "Credit", None, "Usage-Based"),
        (ec2, "Credit", "Correction", "One-Time"),
        (ec2, "Usage", None, "Usage-Based"),  # a record type AWS adds later is kept, as usage
    ]
    assert [r["sub_account_id"] for r in rows[1:]] == [None] * 6
    usage_request, charge_request = snapshot.calls
    listed = charge_request["Filter"]["Dimensions"]
    assert listed["Key"] == "RECORD_TYPE" and "RIFee" in listed["Values"]
    assert usage_request["Filter"] == {"Not": charge_request["Filter"]}  # nothing counted twice


def test_the_payer_account_defaults_to_the_callers_account(aws):
    aws.seed_cost_and_usage(_history())
    config = AwsCostExplorerConfig(name="aws-ce", type="aws_cost_explorer")
    [chunk] = build_source(config).fetch(*PERIOD)
    assert set(chunk.lines["billing_account_id"].to_pylist()) == {"123456789012"}  # moto's


def test_missing_credentials_are_a_configuration_error_not_retried(aws, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup here
    source = _source(aws)
    with pytest.raises(ConfigurationError, match="no usable AWS credentials"):
        list(source.fetch(*PERIOD))
    assert source.requests == 1
