"""Benchmark ``anomaly_series_at_scale``: the monitors' daily series from a 100M-line month.

Ours: :func:`~tasks.cost.anomaly.series.load_monitor_series` for four monitors (total, service,
sub-account, and the ``business_unit`` tag; EffectiveCost of Usage lines, September 2024) over
the lake of :mod:`deployments.bench.lake_month`, one :class:`~tasks.cost.lake.LakeQuery` for all
four: DuckDB sums by day and the monitor's dimension, Python pivots the aggregates. Reference,
measured in the same run: every line of the window read into pandas, the tag parsed per line,
then ``groupby`` per monitor, at 10M lines (``--quick``: 1M), extrapolated to the full month and
stated as such; on those lines ours and the reference must give the same series (to 1e-6).
Each run is a fresh child process; generating the months is not timed and cached.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import date
from typing import Any

from deployments.bench import Measurement
from deployments.bench.child import in_child
from deployments.bench.lake_month import PERIOD, month_lake, sizes

__all__ = ["reference_series", "run", "series_of_month"]

FIRST, LAST = date(2024, 9, 1), date(2024, 9, 30)
_TARGET = "< 30 s for 100M lines; same series as the reference"
_MONITORS = (
    {"name": "total", "dimension": "total"},
    {"name": "services", "dimension": "service"},
    {"name": "accounts", "dimension": "sub_account"},
    {"name": "business-units", "dimension": "tag", "tag": "business_unit"},
)


def run(quick: bool) -> list[Measurement]:
    lines, reference_lines = sizes(quick)
    lake, small = month_lake(lines), month_lake(reference_lines)
    ours = in_child("anomaly_series_at_scale (lake)", series_of_month, lake.root)
    check = in_child("anomaly_series_at_scale (lake, small)", series_of_month, small.root)
    reference = in_child("anomaly_series_at_scale (pandas)", reference_series, small.root)
    agree = _same(check["series"], reference["series"])
    scale = lines / reference_lines
    ref_seconds = reference["seconds"] * scale
    met = agree and ours["seconds"] < 30
    note = (
        f"{lines:,} lines of {PERIOD} in a local lake; ours = 4 monitors' daily series "
        f"({ours['count']} series x 30 days) by DuckDB over the lake, peak RSS "
        f"{ours['peak_mb']:,.0f} MB; reference = the window's lines read into pandas, tags "
        f"parsed per line, groupby per monitor, measured on {reference_lines:,} lines: "
        f"{reference['seconds']:.1f} s, peak RSS {reference['peak_mb']:,.0f} MB, EXTRAPOLATED "
        f"x{scale:g} to {ref_seconds:.0f} s; ours on those lines {check['seconds']:.1f} s, "
        f"series {'IDENTICAL' if agree else 'DIFFER'}"
    )
    ratio = ref_seconds / ours["seconds"] if ours["seconds"] > 0 else float("inf")
    return [
        Measurement(
            "anomaly_series_at_scale", ours["seconds"], ref_seconds, "s", ratio, _TARGET, met, note
        )
    ]


def _monitors() -> list[Any]:
    from tasks.cost.anomaly.monitors import Monitor

    return [Monitor.model_validate(spec) for spec in _MONITORS]


def series_of_month(lake_root: str) -> dict[str, Any]:
    """The four monitors' series of the month from the lake at ``lake_root``, timed."""
    from tasks.cost.anomaly.series import load_monitor_series
    from tasks.cost.lake import Lake, LakeQuery
    from tasks.store import get_engine

    monitors = _monitors()
    with tempfile.TemporaryDirectory(prefix="traceo-bench-store-") as tmp:
        engine = get_engine(f"sqlite:///{tmp}/store.db")  # tag totals (none here) live there
        started = time.perf_counter()
        with LakeQuery(Lake.at(lake_root), [PERIOD]) as query:
            found = [load_monitor_series(engine, m, FIRST, LAST, lines=query) for m in monitors]
        seconds = time.perf_counter() - started
        engine.dispose()
    series = {
        f"{s.monitor.name}/{key}": [round(float(v), 6) for v in s.values[row]]
        for s in found
        for row, key in enumerate(s.keys)
    }
    return {"seconds": seconds, "count": len(series), "series": series}


def reference_series(lake_root: str) -> dict[str, Any]:
    """The same series computed in pandas from every line of the window, timed."""
    import pandas as pd
    import pyarrow.dataset as pads

    from tasks.cost.lake import Lake

    lake = Lake.at(lake_root)
    columns = ["ChargePeriodStart", "ChargeCategory", "ServiceName", "SubAccountId", "Tags"]
    started = time.perf_counter()
    table = lake.dataset(lake.partitions([PERIOD])).to_table(
        columns=[*columns, "EffectiveCost"], filter=pads.field("ChargeCategory") == "Usage"
    )
    frame = table.to_pandas()
    frame["day"] = frame["ChargePeriodStart"].dt.floor("D")
    frame["cost"] = frame["EffectiveCost"].astype(float)
    frame["tag"] = frame["Tags"].map(
        lambda t: json.loads(t).get("business_unit") if isinstance(t, str) else None
    )
    series: dict[str, list[float]] = {}
    days = pd.date_range(pd.Timestamp(FIRST, tz="UTC"), periods=30, freq="D")
    for name, column, missing in (
        ("total", None, None),
        ("services", "ServiceName", "(none)"),
        ("accounts", "SubAccountId", "(none)"),
        ("business-units", "tag", "(untagged)"),
    ):
        keys = frame[column].fillna(missing) if column else pd.Series("total", index=frame.index)
        daily = frame.groupby([keys.rename("key"), "day"])["cost"].sum()
        for key, values in daily.groupby(level="key"):
            by_day = values.droplevel("key").reindex(days, fill_value=0.0)
            series[f"{name}/{key}"] = [round(float(v), 6) for v in by_day]
    return {"seconds": time.perf_counter() - started, "series": series}


def _same(ours: dict[str, list[float]], reference: dict[str, list[float]]) -> bool:
    if ours.keys() != reference.keys():
        return False
    return all(
        abs(a - b) <= 1e-6 * max(1.0, abs(b))
        for key in ours
        for a, b in zip(ours[key], reference[key], strict=True)
    )
