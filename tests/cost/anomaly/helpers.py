"""Cost lines written straight into the lake (and the store), and a seasonal scenario."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, insert

from tasks.cost.anomaly.monitors import Monitor
from tasks.cost.focus import STORE_SCHEMA
from tasks.cost.lake import Lake, to_lake
from tasks.cost.lake.layout import partition_keys
from tasks.store import CostLine, CostTagTotal

START = date(2026, 7, 6)  # a Monday
DAYS = 100
THROUGH = START + timedelta(days=DAYS - 1)
WEEK = np.array([1.0, 1.04, 1.08, 1.04, 1.0, 0.62, 0.58])

EC2_US = ("Amazon Elastic Compute Cloud", "us-east-1", "111111111111", "BoxUsage:m5.xlarge")
EC2_EU = ("Amazon Elastic Compute Cloud", "eu-west-1", "222222222222", "BoxUsage:c6g.large")
S3_US = ("Amazon Simple Storage Service", "us-east-1", "111111111111", "TimedStorage-ByteHrs")
RDS_EU = ("Amazon Relational Database Service", "eu-west-1", "222222222222", "db.r6g.large")
LEVELS = {EC2_US: 1000.0, EC2_EU: 400.0, S3_US: 300.0, RDS_EU: 500.0}
TEAMS = {EC2_US: "web", S3_US: "web", RDS_EU: "data"}  # EC2_EU is untagged


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def cost_line(
    day: date,
    cost: float,
    labels: tuple[str, str, str, str] = EC2_US,
    *,
    provider: str = "AWS",
    account: str = "999999999999",
    currency: str = "USD",
    category: str = "Usage",
    tags: dict[str, str] | None = None,
    source: str = "test",
    billed: float | None = None,
    span_days: int = 1,
    **columns: Any,
) -> dict[str, Any]:
    service, region, sub_account, usage = labels
    return {
        "source": source,
        "estimated": False,
        "provider_name": provider,
        "billing_account_id": account,
        "billing_currency": currency,
        "charge_category": category,
        "charge_period_start": at(day),
        "charge_period_end": at(day + timedelta(days=span_days)),
        "service_name": service,
        "region_id": region,
        "sub_account_id": sub_account,
        "sku_meter": usage,
        "tags": tags,
        "effective_cost": Decimal(str(round(cost, 6))),
        "billed_cost": Decimal(str(round(billed if billed is not None else cost, 6))),
        **columns,
    }


def insert_lines(engine: Engine, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append lines to the lake (what the jobs read) and to the store's ``cost_lines`` (the
    path before the lake, which the differential tests compare with)."""
    rows = list(rows)
    keys = {k for r in rows for k in r}  # one executemany needs the same keys in every row
    with engine.begin() as conn:
        conn.execute(insert(CostLine), [{k: r.get(k) for k in keys} for r in rows])
    lake = Lake.from_settings()
    with lake.writer() as writer:
        for source in sorted({r["source"] for r in rows}):
            own = [r for r in rows if r["source"] == source]
            columns = {
                f.name: pa.array([_lake_value(r.get(f.name)) for r in own], f.type)
                for f in STORE_SCHEMA
            }
            lines = pa.table(columns, schema=STORE_SCHEMA.remove_metadata())
            for key, part in partition_keys(to_lake(lines, source)):
                writer.write(key, part)
        writer.commit(keep=pc.scalar(True))  # appended: every old row stays


def _lake_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict) else value


def insert_tag_totals(engine: Engine, rows: Iterable[Mapping[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(CostTagTotal), [dict(r) for r in rows])


def scenario(
    days: int = DAYS,
    spikes: Mapping[tuple[tuple[str, str, str, str], int], float] | None = None,
    seed: int = 5,
) -> list[dict[str, Any]]:
    """Four (service, region, account, usage) components with weekly seasonality and 2% noise;
    ``spikes`` adds cost to a component on a day index."""
    rng = np.random.default_rng(seed)
    rows = []
    for labels, level in LEVELS.items():
        noise = 1 + 0.02 * rng.standard_normal(days)
        for i in range(days):
            cost = level * WEEK[i % 7] * noise[i] + (spikes or {}).get((labels, i), 0.0)
            team = TEAMS.get(labels)
            rows.append(
                cost_line(
                    START + timedelta(days=i), cost, labels, tags={"team": team} if team else None
                )
            )
    return rows


def monitor(name: str, dimension: str, **fields: Any) -> Monitor:
    return Monitor(name=name, dimension=dimension, **fields)


# One monitor per dimension (and both metrics): what the engine-equality tests compare.
EVERY_DIMENSION = [
    monitor("total", "total"),
    monitor("services", "service"),
    monitor("accounts", "sub_account", metric="BilledCost"),
    monitor("teams", "tag", tag="team"),
]
