"""Charges that are not usage: recurring fees compared month to month, purchases announced once.

A monitor scores usage (its ``charge_category`` filter, ``Usage`` by default). The FOCUS
``Purchase`` lines of the same scope are judged here instead, by their ``ChargeFrequency``:

* **Recurring** (support plans, subscriptions, reserved-instance and savings-plan fees): each
  fee, one per series key and service, is summed per calendar month (the month its charge
  period starts in) and compared with the same fee in the month before. It is reported as a
  :data:`FEE_CHANGE` only when it rose by at least the monitor's floors (``min_pct`` and
  ``min_impact``), or when it is new (nothing the month before, a month the store holds cost
  for) and at least ``min_impact``.
  An unchanged fee is never reported, however large; a fee that falls or stops is not an alert.
* **One-Time** (upfront payments, one-off fees): the purchases per series key and service on
  one day (or on consecutive days) of at least ``min_impact`` in all are one :data:`PURCHASE`,
  announced once.

Records carry their own keys (``<series key> / <service> [fee]`` and ``[purchase]``; the service
alone for a service monitor; ``[EUR]`` after the series key when it is charged in several
currencies), so they never merge with a usage anomaly of the same series.
Credits, refunds and taxes are neither usage nor purchases: monitors that want them list them in
``charge_category``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
from sqlalchemy import Engine

from tasks.cost.anomaly.monitors import Monitor
from tasks.cost.anomaly.root_causes import to_money
from tasks.cost.anomaly.series import load_charges
from tasks.cost.anomaly.store import AnomalyRecord

__all__ = ["FEE_CHANGE", "PURCHASE", "charge_records", "charges_from"]

FEE_CHANGE, PURCHASE = "fee_change", "purchase"


def charges_from(report_from: date) -> date:
    """The first day to read: the month before the one ``report_from`` falls in."""
    month = report_from.replace(day=1)
    return (month - timedelta(days=1)).replace(day=1)


def charge_records(
    engine: Engine, monitor: Monitor, report_from: date, through: date, known_from: date
) -> list[AnomalyRecord]:
    """Fee changes and purchases of ``monitor`` whose month or day touches the report window.

    ``known_from`` is the first day the store holds cost for the monitor: a fee is "new" only
    when its previous month lies wholly after it (the first months of a fresh store are not
    news).

    Raises:
        ServiceUnavailableError: the store cannot be reached.
    """
    frame = load_charges(engine, monitor, charges_from(report_from), through)
    if frame.empty:
        return []
    # a key charged in several currencies gets one record per currency, named apart
    several = frame.groupby("key")["currency"].nunique()
    frame = frame.assign(
        label=[
            f"{k} [{c}]" if several[k] > 1 else k
            for k, c in zip(frame["key"], frame["currency"], strict=True)
        ]
    )
    recurring = frame[frame["frequency"] == "Recurring"]
    one_time = frame[frame["frequency"] == "One-Time"]
    return [
        *_fee_changes(monitor, recurring, report_from, known_from),
        *_purchases(monitor, one_time, report_from),
    ]


def _key(monitor: Monitor, key: str, service: str, label: str) -> str:
    if monitor.dimension == "service":
        return f"{key} [{label}]"
    return f"{key} / {service or '(no service)'} [{label}]"


def _fee_changes(
    monitor: Monitor, frame: pd.DataFrame, report_from: date, known_from: date
) -> Iterable[AnomalyRecord]:
    if frame.empty:
        return
    frame = frame.assign(month=frame["day"].dt.to_period("M"))
    monthly = frame.groupby(["label", "value", "currency", "service", "month"])["cost"].sum()
    floors = monitor.thresholds
    for (key, value, currency, service), months in monthly.groupby(level=[0, 1, 2, 3]):
        by_month = months.droplevel([0, 1, 2, 3])
        for month, cost in by_month.items():
            start = month.start_time.date()
            if month.end_time.date() < report_from:
                continue
            if month - 1 not in by_month.index and (month - 1).start_time.date() < known_from:
                continue  # no earlier month on record: nothing to compare with
            previous = float(by_month.get(month - 1, 0.0))
            rise = float(cost) - previous
            pct = 100 * rise / previous if previous > 0 else None
            if rise < float(floors.min_impact) or (pct is not None and pct < floors.min_pct):
                continue
            yield _record(
                monitor,
                _key(monitor, key, service, "fee"),
                value,
                currency,
                start,
                start,
                expected=previous,
                actual=float(cost),
                pct=pct,
                kind=FEE_CHANGE,
            )


def _purchases(monitor: Monitor, frame: pd.DataFrame, report_from: date) -> Iterable[AnomalyRecord]:
    if frame.empty:
        return
    daily = frame.groupby(["label", "value", "currency", "service", "day"])["cost"].sum()
    for (key, value, currency, service), days in daily.groupby(level=[0, 1, 2, 3]):
        by_day = days.droplevel([0, 1, 2, 3])
        # purchases on consecutive days are one announcement (the store merges touching days)
        run = (by_day.index.to_series().diff() != pd.Timedelta(days=1)).cumsum()
        for _, spent in by_day.groupby(run.to_numpy()):
            first, last = spent.index.min().date(), spent.index.max().date()
            total = float(spent.sum())
            if last < report_from or total < float(monitor.thresholds.min_impact):
                continue
            key_ = _key(monitor, key, service, "purchase")
            yield _record(
                monitor,
                key_,
                value,
                currency,
                first,
                last,
                expected=0.0,
                actual=total,
                pct=None,
                kind=PURCHASE,
            )


def _record(
    monitor: Monitor,
    key: str,
    value: str | None,
    currency: str,
    start: date,
    end: date,
    *,
    expected: float,
    actual: float,
    pct: float | None,
    kind: str,
) -> AnomalyRecord:
    impact: Decimal = to_money(actual - expected)
    return AnomalyRecord(
        monitor=monitor.name,
        dimension=monitor.dimension,
        key=key,
        value=value,
        currency=currency,
        start_date=start,
        end_date=end,
        expected_total=to_money(expected),
        actual_total=to_money(actual),
        total_impact=impact,
        max_impact=impact,
        impact_pct=None if pct is None else round(pct, 6),
        score=0.0,
        kind=kind,
    )
