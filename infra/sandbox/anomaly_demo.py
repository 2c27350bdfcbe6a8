"""The anomaly part of ``traceo demo``: score the cost the ingestion demo just stored.

Call :func:`run_anomaly_demo` after :mod:`infra.sandbox.cost_demo` has ingested its FOCUS sample
and Cost Explorer history (with the injected spike). It scores the example monitors
(``deployments/cost/monitors.yaml``) through the last day that has cost, stores the anomalies
with their root causes, sends the alerts due to ``notify_via`` (the demo's webhook block) and
prints what it found. The same pipeline runs in the ``cost-anomalies`` flow; this calls it
directly so the demo does not need another flow run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from tasks.notify import Notifier

__all__ = ["last_cost_day", "run_anomaly_demo"]


def last_cost_day() -> date | None:
    """The last UTC day with a cost line in the lake (None when it holds no cost)."""
    from tasks.cost.lake import Lake, LakeQuery
    from tasks.store import CostLine

    with LakeQuery(Lake.from_settings()) as lake:
        last = lake.arrow(select(func.max(CostLine.charge_period_start))).column(0)[0].as_py()
    return None if last is None else last.date()


def run_anomaly_demo(
    echo: Callable[[str], None],
    engine: Engine,
    notify_via: str | None = None,
    monitors_path: Path | str | None = None,
    now: datetime | None = None,
    notifier: Notifier | None = None,
    spike: Mapping[str, Any] | None = None,
    normal: Mapping[str, date] | None = None,
) -> dict[str, Any]:
    """Score, store, alert and print.

    Returns:
        ``{"anomalies": ids in the window, "notices": delivered notices, "spike_found": bool
        or None, "alerted_normal": the kinds of normal billing an anomaly touched}``
        (``spike_found`` is None when no ``spike`` was given).

    Args:
        echo: where to print (``click.echo`` in the demo).
        engine: the demo's store, already holding the ingested cost.
        notify_via: a saved notification block (``custom-webhook/traceo-demo``) that receives
            every alert; None sends nothing.
        monitors_path: the monitors file (default: ``deployments/cost/monitors.yaml``).
        now: the time of the run (default: now, UTC).
        notifier: delivers the notices (default: Prefect blocks loaded by name).
        spike: what the ingestion demo injected (``run_cost_demo(...)["spike"]``: ``day``,
            ``service``); the demo then says whether the services monitor caught it.
        normal: days of normal billing (``run_cost_demo(...)["normal"]``: a fee day, a month
            end, a holiday); the demo says whether any anomaly touched them (none should).
    """
    from tasks.cost.anomaly.alerting import alert_anomalies
    from tasks.cost.anomaly.detect import score_and_save
    from tasks.cost.anomaly.report import render_listing
    from tasks.cost.anomaly.store import list_anomalies
    from tasks.cost.anomaly.tasks import load_monitor_specs
    from tasks.notify import BlockNotifier

    now = now or datetime.now(UTC).replace(microsecond=0)
    monitors = load_monitor_specs(monitors_path)
    through = last_cost_day()
    if through is None:
        echo("Cost anomalies: no cost in the store, nothing to score.")
        found_none = None if spike is None else False
        return {"anomalies": [], "notices": 0, "spike_found": found_none, "alerted_normal": []}
    detection, saved = score_and_save(engine, monitors, through, now)
    series = sum(detection.series.values())
    echo(
        f"Cost anomalies: {len(monitors)} monitors, {series} daily series scored through "
        f"{through} ({len(saved.created)} new, {len(saved.updated)} updated anomalies)"
    )
    short = [name for name, days in detection.days.items() if 0 < days < 48]
    if short:
        echo(f"  (under 48 days of cost for {', '.join(short)}: those series are not scored yet)")
    ids = sorted(saved.created + saved.updated + saved.unchanged)
    anomalies = list_anomalies(engine, ids=ids)
    echo(render_listing(anomalies))
    found = None
    if spike is not None:
        day, service = spike["day"], spike["service"]
        hits = [
            a
            for a in anomalies
            if a.dimension == "service" and a.key == service and a.start_date <= day <= a.end_date
        ]
        found = bool(hits)
        where = f"found as #{hits[0].id}" if hits else "NOT found"
        echo(f"Injected spike ({service}, {day}): {where}")
    quiet = _normal_billing(echo, anomalies, normal or {})
    delivered = 0
    if notify_via:
        since = through - timedelta(days=6)
        outcomes = alert_anomalies(
            engine, monitors, notifier or BlockNotifier(), now, since, 0, notify_via
        )
        for o in outcomes:
            state = "delivered" if o.delivered else f"NOT delivered: {o.error}"
            echo(f"  {o.kind} notice for {len(o.anomaly_ids)} anomalies to {o.target}: {state}")
        delivered = sum(o.delivered for o in outcomes)
    return {"anomalies": ids, "notices": delivered, "spike_found": found, "alerted_normal": quiet}


_NORMAL = {
    "fee": "support fee on the 1st",
    "month_end": "month-end batch jobs",
    "holiday": "US holiday traffic peak",
}


def _normal_billing(
    echo: Callable[[str], None], anomalies: Sequence[Any], normal: Mapping[str, date]
) -> list[str]:
    """Print whether each day of normal billing was left alone; return the ones that were not."""
    alerted = []
    for kind, day in normal.items():
        hits = [a for a in anomalies if a.start_date <= day <= a.end_date]
        if hits:
            alerted.append(kind)
        state = f"ALERTED as #{hits[0].id}" if hits else "not alerted (expected)"
        echo(f"Normal billing, {_NORMAL[kind]} ({day}): {state}")
    return alerted
