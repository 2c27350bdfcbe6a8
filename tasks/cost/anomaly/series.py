"""Daily cost series per monitor, read from the FOCUS cost lines in the cost lake.

A monitor's series are the daily sums of its metric (``EffectiveCost`` or ``BilledCost``) over
the lines its filter selects, one series per value of its dimension: ``total``, the service
name, the sub-account id, or the value of one tag (``(untagged)`` without it). A line whose
charge period spans several days (a monthly fee) is spread evenly over those days. Series in
different currencies are never summed: when one key carries cost in several currencies, each
currency is its own series with the currency in the key (``Amazon EC2 [EUR]``).

Tag series come from the lines' ``Tags``, except for the scopes (source and billing account)
that store daily tag totals (AWS Cost Explorer's GroupBy TAG view, whose lines carry no tags):
there the totals are used instead, never both.

Aggregation happens in SQL, grouped by day and the few columns a monitor needs; the result is
pivoted into the (series x day) matrix that :mod:`tasks.cost.anomaly.scoring` scores. Queries
over lines run on the configured engine (:func:`tasks.cost.lake.open_engine`: embedded DuckDB by
default) over the lake's partitions of the window's billing periods, or on the lake engine given
as ``lines``; given a store engine as ``lines`` instead, the same
statements run on the store's ``cost_lines`` (installs not yet migrated; the differential tests).
Tag totals are records of the store.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Double, Engine, and_, cast, func, select
from sqlalchemy.exc import OperationalError

from tasks.cost.anomaly.monitors import Monitor
from tasks.cost.lake import LakeEngine, months, open_engine
from tasks.errors import ServiceUnavailableError
from tasks.store import CostLine, CostTagTotal
from tasks.store.sql import json_text

__all__ = [
    "NO_VALUE",
    "UNTAGGED",
    "Breakdown",
    "MonitorSeries",
    "load_breakdown",
    "load_charges",
    "load_monitor_series",
]

UNTAGGED = "(untagged)"
NO_VALUE = "(none)"
TOTAL_KEY = "total"
_DAY = pd.Timedelta(days=1)
# Where lines are read: the configured engine (None), another lake engine, or a store engine.
Lines = Engine | LakeEngine | None


@dataclass(frozen=True)
class MonitorSeries:
    """A monitor's daily series: row ``i`` is ``keys[i]`` in ``currencies[i]``, column 0 is
    ``start``; days without cost are 0. Empty (no rows, no columns) when nothing matched."""

    monitor: Monitor
    keys: tuple[str, ...]
    values_of: tuple[str | None, ...]  # the dimension value behind each key (None: total)
    currencies: tuple[str, ...]
    start: date
    values: np.ndarray

    @property
    def days(self) -> int:
        return int(self.values.shape[1])

    def day(self, column: int) -> date:
        return self.start + timedelta(days=int(column))


@dataclass(frozen=True)
class Breakdown:
    """Daily cost of one series split by (service, region, sub-account, usage)."""

    labels: tuple[tuple[str | None, str | None, str | None, str | None], ...]
    start: date
    values: np.ndarray
    account_names: dict[str, str] = field(default_factory=dict)


def _metric(monitor: Monitor, model: type[CostLine] | type[CostTagTotal]) -> Any:
    column = model.billed_cost if monitor.metric == "BilledCost" else model.effective_cost
    return cast(func.sum(column), Double).label("cost")


def _filtered(
    stmt: Any, monitor: Monitor, model: Any, first: date, last: date, *, usage: bool = True
) -> Any:
    lo = pd.Timestamp(first, tz="UTC").to_pydatetime()
    hi = pd.Timestamp(last + timedelta(days=1), tz="UTC").to_pydatetime()
    stmt = stmt.where(model.charge_period_start < hi, model.charge_period_end > lo)
    if monitor.filter.provider:
        stmt = stmt.where(model.provider_name.in_(monitor.filter.provider))
    if monitor.filter.billing_account:
        stmt = stmt.where(model.billing_account_id.in_(monitor.filter.billing_account))
    if model is CostLine and usage and monitor.filter.charge_category:
        stmt = stmt.where(CostLine.charge_category.in_(monitor.filter.charge_category))
    return stmt


def _read_lines(lines: Lines, stmt: Any, first: date, last: date) -> pd.DataFrame:
    """Run a statement over cost lines: on a lake engine (periods of ``first..last``) or the
    store."""
    if isinstance(lines, Engine):
        return _read(lines, stmt)
    if lines is not None:
        return lines.frame(stmt)
    lo = pd.Timestamp(first).to_pydatetime()
    # one period more: a line charged over several days belongs to the period it starts in
    periods = months(lo - pd.Timedelta(days=31), lo + (last - first) + _DAY)
    with open_engine(periods) as query:
        return query.frame(stmt)


def _read(engine: Engine, stmt: Any) -> pd.DataFrame:
    try:
        with engine.connect() as conn:
            result = conn.execute(stmt)
            return pd.DataFrame(result.all(), columns=list(result.keys()))
    except OperationalError as exc:
        raise ServiceUnavailableError(
            f"cannot read cost lines: {exc.orig.__class__.__name__}"
        ) from None


def _spread_days(frame: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """One row per day: multi-day charge periods are spread evenly; days outside are dropped."""
    if frame.empty:
        return frame.assign(day=pd.Series(dtype="datetime64[ns]"))
    starts = pd.to_datetime(frame["charge_period_start"], utc=True).dt.tz_localize(None)
    ends = pd.to_datetime(frame["charge_period_end"], utc=True).dt.tz_localize(None)
    first_day = starts.dt.floor("D")
    spans = np.maximum(np.ceil((ends - first_day) / _DAY).to_numpy(dtype=np.float64), 1.0)
    spans = spans.astype(np.int64)
    repeated = frame.loc[frame.index.repeat(spans)].reset_index(drop=True)
    offsets = np.arange(len(repeated)) - np.repeat(np.cumsum(spans) - spans, spans)
    repeated["day"] = np.repeat(first_day.to_numpy(), spans) + offsets * np.timedelta64(1, "D")
    repeated["cost"] = repeated["cost"].astype(np.float64) / np.repeat(spans, spans)
    in_window = (repeated["day"] >= pd.Timestamp(first)) & (repeated["day"] <= pd.Timestamp(last))
    return repeated.loc[in_window]


def _tag_value(raw: str | None) -> str:
    """A series key from a tag's JSON text (:func:`~tasks.store.sql.json_text`)."""
    value = None if raw is None else json.loads(raw)
    return UNTAGGED if value in (None, "") else str(value)


def _line_frame(
    engine: Engine,
    monitor: Monitor,
    first: date,
    last: date,
    extra: Sequence[Any] = (),
    purchases: bool = False,
    lines: Lines = None,
) -> pd.DataFrame:
    columns: list[Any] = [
        CostLine.charge_period_start,
        CostLine.charge_period_end,
        CostLine.billing_currency.label("currency"),
        *extra,
    ]
    if monitor.dimension == "service":
        columns.append(CostLine.service_name.label("value"))
    elif monitor.dimension == "sub_account":
        columns.append(CostLine.sub_account_id.label("value"))
    elif monitor.dimension == "tag":
        assert monitor.tag is not None
        columns.append(json_text(CostLine.tags, monitor.tag).label("tag"))
    stmt = select(*columns, _metric(monitor, CostLine))
    stmt = _filtered(stmt, monitor, CostLine, first, last, usage=not purchases)
    if purchases:
        stmt = stmt.where(CostLine.charge_category == "Purchase")
    elif monitor.dimension == "tag":  # scopes with daily tag totals count those, not lines
        for source, account in sorted(_tag_total_scopes(engine, monitor, first, last)):
            stmt = stmt.where(
                ~and_(CostLine.source == source, CostLine.billing_account_id == account)
            )
    frame = _read_lines(lines, stmt.group_by(*columns).order_by(*columns), first, last)
    if monitor.dimension == "tag" and not frame.empty:
        distinct = {t: _tag_value(t) for t in frame["tag"].unique()}
        frame = frame.assign(value=frame["tag"].map(distinct)).drop(columns=["tag"])
    return frame


def _tag_total_scopes(
    engine: Engine, monitor: Monitor, first: date, last: date
) -> set[tuple[str, str]]:
    stmt = select(CostTagTotal.source, CostTagTotal.billing_account_id).distinct()
    stmt = _filtered(
        stmt.where(CostTagTotal.tag_key == monitor.tag), monitor, CostTagTotal, first, last
    )
    return {(s, a) for s, a in _read(engine, stmt).itertuples(index=False)}


def _tag_total_frame(engine: Engine, monitor: Monitor, first: date, last: date) -> pd.DataFrame:
    columns: list[Any] = [
        CostTagTotal.charge_period_start,
        CostTagTotal.charge_period_end,
        CostTagTotal.billing_currency.label("currency"),
        CostTagTotal.tag_value.label("value"),
    ]
    stmt = select(*columns, _metric(monitor, CostTagTotal)).where(
        CostTagTotal.tag_key == monitor.tag
    )
    stmt = _filtered(stmt, monitor, CostTagTotal, first, last)
    frame = _read(engine, stmt.group_by(*columns).order_by(*columns))
    return frame.assign(value=frame["value"].replace("", UNTAGGED))


def load_monitor_series(
    engine: Engine, monitor: Monitor, first: date, last: date, *, lines: Lines = None
) -> MonitorSeries:
    """The monitor's daily series from ``first`` to ``last`` (inclusive, UTC days).

    The matrix starts at the first day with any cost for the monitor (not at ``first``), so a
    store that only recently started receiving cost does not look like new spend.

    Raises:
        ServiceUnavailableError: the store cannot be reached.
    """
    frame = _line_frame(engine, monitor, first, last, lines=lines)
    if monitor.dimension == "tag":
        totals = _tag_total_frame(engine, monitor, first, last)
        frame = pd.concat([f for f in (frame, totals) if not f.empty]) if len(totals) else frame
    if monitor.dimension == "total":
        frame = frame.assign(value=None)
    frame = _spread_days(frame.reset_index(drop=True), first, last)
    if frame.empty:
        return MonitorSeries(monitor, (), (), (), first, np.zeros((0, 0)))
    if monitor.dimension != "total":
        frame = frame.assign(value=frame["value"].fillna(NO_VALUE).astype(str))
    else:
        frame = frame.assign(value=TOTAL_KEY)
    start = frame["day"].min()
    days = (pd.Timestamp(last) - start).days + 1
    daily = frame.groupby(["value", "currency", "day"], sort=True)["cost"].sum()
    series = daily.index.droplevel("day").unique()
    row = series.get_indexer(daily.index.droplevel("day"))
    column = ((daily.index.get_level_values("day") - start) / _DAY).to_numpy(dtype=np.int64)
    values = np.zeros((len(series), days))
    values[row, column] = daily.to_numpy(dtype=np.float64)
    values_of = tuple(None if monitor.dimension == "total" else str(v) for v, _ in series)
    currencies = tuple(str(c) for _, c in series)
    per_value = Counter(values_of)
    keys = tuple(
        (TOTAL_KEY if v is None else v) + (f" [{c}]" if per_value[v] > 1 else "")
        for v, c in zip(values_of, currencies, strict=True)
    )
    return MonitorSeries(monitor, keys, values_of, currencies, start.date(), values)


def load_charges(
    engine: Engine, monitor: Monitor, first: date, last: date, *, lines: Lines = None
) -> pd.DataFrame:
    """The monitor's ``Purchase`` lines from ``first`` to ``last``, one row per line group.

    Columns: ``key`` (the series key), ``value``, ``currency``, ``service``, ``frequency``,
    ``day`` (the day the charge period starts) and ``cost``. Purchases are never spread over
    their charge period: a fee belongs to the month it is charged for, a purchase to its day.

    Raises:
        ServiceUnavailableError: the store cannot be reached.
    """
    extra = [
        CostLine.service_name.label("service"),
        CostLine.charge_frequency.label("frequency"),
    ]
    frame = _line_frame(engine, monitor, first, last, extra, purchases=True, lines=lines)
    if frame.empty:
        return frame
    if monitor.dimension == "total":
        value = pd.Series(None, index=frame.index, dtype=object)
        key = pd.Series(TOTAL_KEY, index=frame.index)
    else:
        value = frame["value"].fillna(NO_VALUE).astype(str)
        key = value
    starts = pd.to_datetime(frame["charge_period_start"], utc=True).dt.tz_localize(None)
    return pd.DataFrame(
        {
            "key": key,
            "value": value,
            "currency": frame["currency"],
            "service": frame["service"].fillna(""),
            "frequency": frame["frequency"].fillna(""),
            "day": starts.dt.floor("D").astype("datetime64[ns]"),
            "cost": frame["cost"].astype(float),
        }
    )


def load_breakdown(
    engine: Engine,
    monitor: Monitor,
    value: str | None,
    currency: str,
    first: date,
    last: date,
    *,
    lines: Lines = None,
) -> Breakdown:
    """Daily cost of one of the monitor's series by (service, region, sub-account, usage).

    ``value`` is the dimension value behind the series key (None for ``total``). Tag series
    whose cost comes from daily tag totals have no lines to break down: the result is empty.
    """
    usage = func.coalesce(CostLine.sku_meter, CostLine.sku_id)
    columns: list[Any] = [
        CostLine.charge_period_start,
        CostLine.charge_period_end,
        CostLine.service_name.label("service"),
        CostLine.region_id.label("region"),
        CostLine.sub_account_id.label("sub_account"),
        usage.label("usage"),
    ]
    if monitor.dimension == "tag":
        assert monitor.tag is not None
        columns += [
            CostLine.source,
            CostLine.billing_account_id,
            json_text(CostLine.tags, monitor.tag).label("tag"),
        ]
    name = func.max(CostLine.sub_account_name).label("sub_account_name")
    stmt = select(*columns, name, _metric(monitor, CostLine))
    stmt = stmt.where(CostLine.billing_currency == currency)
    stmt = _filtered(stmt, monitor, CostLine, first, last)
    if monitor.dimension in ("service", "sub_account"):
        column = (
            CostLine.service_name if monitor.dimension == "service" else CostLine.sub_account_id
        )
        stmt = stmt.where(column.is_(None) if value == NO_VALUE else column == value)
    frame = _read_lines(lines, stmt.group_by(*columns).order_by(*columns), first, last)
    if monitor.dimension == "tag" and not frame.empty:
        covered = _tag_total_scopes(engine, monitor, first, last)
        keep = [
            (s, a) not in covered and _tag_value(t) == value
            for s, a, t in zip(
                frame["source"], frame["billing_account_id"], frame["tag"], strict=True
            )
        ]
        frame = frame.loc[keep]
    frame = _spread_days(frame.reset_index(drop=True), first, last)
    if frame.empty:
        return Breakdown((), first, np.zeros((0, (last - first).days + 1)))
    named = frame.dropna(subset=["sub_account", "sub_account_name"])
    names = dict(zip(named["sub_account"], named["sub_account_name"], strict=True))
    label_columns = ["service", "region", "sub_account", "usage"]
    frame[label_columns] = (
        frame[label_columns].astype(object).where(frame[label_columns].notna(), "")
    )
    daily = frame.groupby([*label_columns, "day"], sort=True)["cost"].sum()
    combos = daily.index.droplevel("day").unique()
    row = combos.get_indexer(daily.index.droplevel("day"))
    start = pd.Timestamp(first)
    column = ((daily.index.get_level_values("day") - start) / _DAY).to_numpy(dtype=np.int64)
    values = np.zeros((len(combos), (last - first).days + 1))
    values[row, column] = daily.to_numpy(dtype=np.float64)
    labels = tuple(tuple(part or None for part in combo) for combo in combos)
    return Breakdown(labels, first, values, names)  # type: ignore[arg-type]
