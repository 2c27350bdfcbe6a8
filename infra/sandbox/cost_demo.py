"""The cost-ingestion part of ``traceo demo``: real FOCUS sample + simulated Cost Explorer history.

:func:`run_cost_demo` starts a local AWS (moto) on 127.0.0.1, queues 90 days of clearly
*simulated* ``GetCostAndUsage`` results (five services, three linked accounts, a ``team`` tag; the
last two days provisional) with one injected spike, ingests them through the real
:class:`~tasks.cost.sources.aws_cost_explorer.CostExplorerSource` (paging included), ingests the
real FOCUS 1.0 sample (CC BY 4.0, ``tests/data/focus``), prints what was stored and stops the
server. It returns what it ingested so the anomaly demo (:mod:`infra.sandbox.anomaly_demo`) can
score the same store and check that it finds the spike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from tasks.cost.anomaly.calendar import holiday_dates
from tasks.cost.anomaly.scoring import FIRST_EXPECTED_DAY

__all__ = ["PAYER_ACCOUNT", "SAMPLE", "cost_explorer_history", "run_cost_demo"]

SAMPLE = (
    Path(__file__).resolve().parents[2] / "tests" / "data" / "focus" / "focus_1_0_sample_1000.csv"
)
SAMPLE_PERIOD = (date(2024, 9, 1), date(2024, 10, 1))
PAYER_ACCOUNT = "123456789012"
# Daily list of (service, typical daily USD) and (linked account, name, share of each service).
SERVICES = (
    ("Amazon Elastic Compute Cloud - Compute", 420.0),
    ("Amazon Relational Database Service", 160.0),
    ("Amazon Simple Storage Service", 85.0),
    ("Amazon CloudFront", 30.0),
    ("AWS Lambda", 12.0),
)
ACCOUNTS = (
    ("111122223333", "shop-prod", 0.7),
    ("444455556666", "shop-dev", 0.2),
    ("777788889999", "ml-research", 0.1),
)
TEAMS = (("shop", 0.6), ("platform", 0.25), ("ml", 0.1), ("", 0.05))
# The injected spike: EC2 in ml-research (team ml) costs this much more on one day.
SPIKE_SERVICE, SPIKE_ACCOUNT, SPIKE_TEAM, SPIKE_USD = SERVICES[0][0], ACCOUNTS[2][0], "ml", 900.0
# Normal billing nobody wants an alert about: a support fee on the 1st, batch jobs on EC2 in
# shop-prod (team shop) on the last day of each month, CloudFront traffic peaks on US holidays.
FEE_SERVICE, FEE_RECORD_TYPE, FEE_USD = "AWS Support (Business)", "Support", 400.0
MONTH_END_USD = 250.0
HOLIDAY_SERVICE, HOLIDAY_FACTOR = "Amazon CloudFront", 2.5
_DAYS_PER_PAGE = 30


def cost_explorer_history(
    end: date, days: int = 90, *, spike_day: date | None = None, seed: int = 7
) -> list[dict[str, Any]]:
    """Simulated ``GetCostAndUsage`` responses for ``[end - days, end)``, in moto's queue order.

    The SERVICE x LINKED_ACCOUNT query comes in pages of 30 days (``NextPageToken``), then the
    ``team`` tag query in one page, then the charges by RECORD_TYPE x SERVICE in one page.
    Weekends cost 15% less, every amount has 3% noise, the last two days are ``Estimated``, and
    ``spike_day`` adds :data:`SPIKE_USD` to EC2 in ml-research (team ml). Every month has the
    support fee on the 1st and the month-end batch jobs; US holidays have the CloudFront peak.
    """
    rng = np.random.default_rng(seed)
    first = end - timedelta(days=days)
    holidays = holiday_dates("US", first, end)
    line_days, tag_days, charge_days = [], [], []
    for offset in range(days):
        day = first + timedelta(days=offset)
        weekly = 0.85 if day.weekday() >= 5 else 1.0
        spike = SPIKE_USD if day == spike_day else 0.0
        batch = MONTH_END_USD if (day + timedelta(days=1)).day == 1 else 0.0
        estimated = offset >= days - 2
        groups = []
        extra = {"shop": batch}
        for service, typical in SERVICES:
            for account, _name, share in ACCOUNTS:
                amount = typical * share * weekly * (1 + rng.normal(0, 0.03))
                if service == SPIKE_SERVICE and account == SPIKE_ACCOUNT:
                    amount += spike
                if service == SERVICES[0][0] and account == ACCOUNTS[0][0]:
                    amount += batch
                if service == HOLIDAY_SERVICE and day in holidays:
                    peak = amount * (HOLIDAY_FACTOR - 1)
                    amount += peak
                    extra["shop"] += peak * TEAMS[0][1]
                groups.append(_group([service, account], amount))
        total = sum(typical for _s, typical in SERVICES) * weekly
        tags = [
            _group([f"team${team}"], total * share * (1 + rng.normal(0, 0.03)) + extra.get(team, 0))
            for team, share in TEAMS
        ]
        if spike:
            tags[[t for t, _s in TEAMS].index(SPIKE_TEAM)] = _group(
                [f"team${SPIKE_TEAM}"],
                total * TEAMS[2][1] * (1 + rng.normal(0, 0.03)) + spike,
            )
        period = {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()}
        line_days.append(
            {"TimePeriod": period, "Total": {}, "Groups": groups, "Estimated": estimated}
        )
        tag_days.append({"TimePeriod": period, "Total": {}, "Groups": tags, "Estimated": estimated})
        fees = [_group([FEE_RECORD_TYPE, FEE_SERVICE], FEE_USD)] if day.day == 1 else []
        charge_days.append(
            {"TimePeriod": period, "Total": {}, "Groups": fees, "Estimated": estimated}
        )
    pages: list[dict[str, Any]] = []
    chunks = [line_days[i : i + _DAYS_PER_PAGE] for i in range(0, days, _DAYS_PER_PAGE)]
    names = [{"Value": a, "Attributes": {"description": n}} for a, n, _s in ACCOUNTS]
    for index, chunk in enumerate(chunks):
        page: dict[str, Any] = {"ResultsByTime": chunk, "DimensionValueAttributes": names}
        if index + 1 < len(chunks):
            page["NextPageToken"] = f"page-{index + 2}"
        pages.append(page)
    pages.append({"ResultsByTime": tag_days, "DimensionValueAttributes": []})
    pages.append({"ResultsByTime": charge_days, "DimensionValueAttributes": []})
    return pages


def normal_billing(first: date, end: date) -> dict[str, date]:
    """The last fee day, month end and holiday in ``[first, end)`` that follow an earlier one far
    enough into the history for the scorer to know its effect (its 35th day on)."""
    known = first + timedelta(days=FIRST_EXPECTED_DAY)
    holidays = sorted(holiday_dates("US", first, end - timedelta(days=1)))
    days = [first + timedelta(days=i) for i in range((end - first).days)]
    kinds = {
        "fee": [d for d in days if d.day == 1],
        "month_end": [d for d in days if (d + timedelta(days=1)).day == 1],
        "holiday": holidays,
    }
    found = {}
    for kind, dates in kinds.items():
        # a fee is compared with last month's; a calendar effect is learned from earlier days
        learned = dates if kind == "fee" else [d for d in dates if d >= known]
        if len(learned) >= 2:
            found[kind] = learned[-1]
    return found


def run_cost_demo(
    echo: Callable[[str], None],
    engine: Engine | None = None,
    *,
    today: date | None = None,
    days: int = 90,
) -> dict[str, Any]:
    """Ingest the FOCUS sample and simulated Cost Explorer history; print and return the result.

    Returns:
        ``{"engine": Engine, "normal": {"fee" | "month_end" | "holiday": day},
        "periods": {source: (start, end)}, "reports": {source: report},
        "spike": {"day", "service", "sub_account_id", "tag_key", "tag_value", "extra_cost"}}``
        (dates are charge days, ``end`` exclusive; ``extra_cost`` is a ``Decimal`` in USD).
    """
    from botocore.config import Config

    from infra.sandbox.moto_server import MotoServer
    from tasks.cost.ingest import ingest_source
    from tasks.cost.report import render_report
    from tasks.cost.sources.aws_cost_explorer import CostExplorerSource
    from tasks.cost.sources.focus_files import FocusFileSource
    from tasks.store import get_engine

    engine = engine or get_engine()
    end = today or datetime.now(UTC).date()
    start = end - timedelta(days=days)
    spike_day = end - timedelta(days=3)
    echo(
        f"Cost: ingesting {days} days of SIMULATED AWS Cost Explorer history from a local moto "
        f"server (spike injected on {spike_day}) and the real FOCUS 1.0 sample (CC BY 4.0)"
    )
    no_retries = Config(retries={"mode": "standard", "total_max_attempts": 1})
    with MotoServer() as aws:
        aws.seed_cost_and_usage(cost_explorer_history(end, days, spike_day=spike_day))
        source = CostExplorerSource(
            "aws-ce",
            lambda: aws.client("ce", config=no_retries),
            billing_account_id=PAYER_ACCOUNT,
            billing_account_name="Acme payer (simulated)",
        )
        ce_report = ingest_source(engine, source, start, end)
    sample = FocusFileSource("focus-sample", str(SAMPLE))
    sample_report = ingest_source(engine, sample, *SAMPLE_PERIOD)
    for report in (ce_report, sample_report):
        echo(render_report(report))
    return {
        "engine": engine,
        "normal": normal_billing(start, end),
        "periods": {"aws-ce": (start, end), "focus-sample": SAMPLE_PERIOD},
        "reports": {"aws-ce": ce_report, "focus-sample": sample_report},
        "spike": {
            "day": spike_day,
            "service": SPIKE_SERVICE,
            "sub_account_id": SPIKE_ACCOUNT,
            "tag_key": "team",
            "tag_value": SPIKE_TEAM,
            "extra_cost": Decimal(str(SPIKE_USD)),
        },
    }


def _group(keys: list[str], amount: float) -> dict[str, Any]:
    unblended = Decimal(f"{amount:.10f}")
    metrics = {
        "UnblendedCost": unblended,
        "AmortizedCost": unblended * Decimal("0.97"),
        "NetUnblendedCost": unblended * Decimal("0.95"),
    }
    return {
        "Keys": keys,
        "Metrics": {k: {"Amount": f"{v:.10f}", "Unit": "USD"} for k, v in metrics.items()},
    }
