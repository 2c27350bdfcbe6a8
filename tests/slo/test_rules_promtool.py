"""The generated rules, run by ``promtool test rules``, fire what Traceo's own evaluation fires.

Seven hours of probe results from three regions (an outage, a slow burn, one region failing
alone, then two, a probe outage, a trickle of traffic, recovery) are turned into the counters the
exporter would serve, minute by minute, through the same :class:`SloCounters`. The exporter
counts a slot when it closes, so at each minute Prometheus must fire exactly the alerts Traceo
reports at the end of the last closed slot (one second before that minute for 1-minute slots,
up to 5 minutes earlier for the 5-minute time slices), with the same long-window burn rate in the
summary.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import yaml

from tasks.slo.burn import AlertTier, NoDataRule
from tasks.slo.counters import SLO_METRICS, SloCounters, grid_floor
from tasks.slo.definition import Indicator, SloDefinition
from tasks.slo.evaluate import evaluate_slos
from tasks.slo.events import Events
from tasks.slo.report import SloReport
from tasks.slo.rules import build_rules, render_rules
from tasks.slo.windows import CalendarWindow, Duration, RollingWindow
from tests.services import require_prometheus

T0 = int(datetime(2025, 3, 10, tzinfo=UTC).timestamp())
MINUTES = 420
REGIONS = ("ap", "eu", "us")
SLI = Indicator("sli", checks=("shop-health",))

SLOS = [
    # The Workbook tiers scaled to 30 days, the low-traffic guard (met exactly by one region
    # alone over 5 minutes) and the no-data alert.
    SloDefinition(id="avail", service="shop", indicator=SLI, target=0.99, min_events=5),
    # A slot fails only when two regions fail in it.
    SloDefinition(
        id="quorum",
        service="shop",
        indicator=SLI,
        target=0.99,
        window=RollingWindow(Duration(7, "d")),
        min_failing_regions=2,
        min_events=5,
        no_data=None,
        tiers=(
            AlertTier("page", 600, 120, threshold=10.0),
            AlertTier("ticket", 1800, 300, threshold=5.0, op="gt"),
        ),
    ),
    # 5-minute time slices of a calendar month with a quorum, as the shipped order journey SLO.
    SloDefinition(
        id="slices",
        service="orders",
        indicator=SLI,
        target=0.95,
        window=CalendarWindow(Duration(1, "M"), datetime(2024, 1, 1), "Europe/Paris"),
        budgeting_method="Timeslices",
        time_slice_target=0.9,
        slot_seconds=300,
        min_failing_regions=2,
        min_events=5,
        no_data=NoDataRule(after_seconds=900, severity="page"),
        tiers=(AlertTier("page", 3600, 600, threshold=4.0),),
    ),
]


def _failure_chance(minute: int, region: str) -> float:
    if 60 <= minute < 100:
        return 0.5  # an outage everywhere
    if 100 <= minute < 200:
        return 0.04  # a slow burn
    if 200 <= minute < 230:
        return 1.0 if region == "eu" else 0.0  # one region's network path
    if 230 <= minute < 260:
        return 0.0 if region == "ap" else 1.0  # two regions: the service
    return 0.3 if 290 <= minute < 350 else 0.0


def scenario() -> Events:
    rng = np.random.default_rng(20)
    ts, region, good = [], [], []
    for minute in range(MINUTES):
        if 260 <= minute < 290:
            continue  # the probes stopped
        for name in REGIONS:
            if 290 <= minute < 350 and (name != "ap" or (minute >= 320 and minute % 5)):
                continue  # one region left, then a trickle of one result every 5 minutes
            ts.append(T0 + minute * 60 + 20)
            region.append(name)
            good.append(bool(rng.random() >= _failure_chance(minute, name)))
    return Events.from_arrays(ts, region, good)


def input_series(events: Events) -> list[dict[str, str]]:
    """The exporter's counters sampled every minute, as promtool's ``input_series``."""
    counters = SloCounters(SLOS, T0)
    values: dict[tuple[str, str], list[int]] = {}
    for minute in range(MINUTES + 1):
        counters.advance({slo.id: events for slo in SLOS}, T0 + minute * 60)
        for slo in SLOS:
            totals = counters.totals[slo.id]
            for part, count in (("events", totals.events), ("units", totals.units)):
                values.setdefault((slo.id, part), []).append(count)
            values.setdefault((slo.id, "bad"), []).append(totals.bad)
    service = {slo.id: slo.service for slo in SLOS}
    return [
        {
            "series": f'{SLO_METRICS[part][0]}_total{{slo="{slo}", service="{service[slo]}"}}',
            "values": " ".join(map(str, counts)),
        }
        for (slo, part), counts in values.items()
    ]


def traceo_view(slo: SloDefinition, events: Events, t: int) -> SloReport:
    """What Traceo reports when the last slot that closed by ``t`` had just ended."""
    now = datetime.fromtimestamp(grid_floor(slo, t) - 1, UTC)
    return evaluate_slos([slo], [events], now)[0]


def expected_alerts(events: Events) -> tuple[list[dict], dict[str, int]]:
    """At every minute, per alert name, the alerts Traceo fires as of the last closed slot."""
    tests, fired = [], {"TraceoSloBurnRate": 0, "TraceoSloNoData": 0}
    for minute in range(1, MINUTES + 1):
        by_name: dict[str, list[dict]] = {name: [] for name in fired}
        for slo in SLOS:
            for alert in traceo_view(slo, events, T0 + minute * 60).alerts:
                if not alert.firing:
                    continue
                labels = {"slo": slo.id, "service": slo.service, "severity": alert.severity}
                if alert.key == "no-data":
                    name = "TraceoSloNoData"
                    summary = f"SLO {slo.id}: no results counted for {alert.long_window}"
                else:
                    name = "TraceoSloBurnRate"
                    labels["windows"] = f"{alert.long_window}/{alert.short_window}"
                    summary = (
                        f"SLO {slo.id} burns its error budget at {alert.burn_long:.1f}x over "
                        f"{alert.long_window} and over {alert.short_window} "
                        f"(threshold {alert.threshold!r}x)"
                    )
                annotations = {"summary": summary}
                by_name[name].append({"exp_labels": labels, "exp_annotations": annotations})
                fired[name] += 1
        for name, alerts in by_name.items():
            tests.append({"eval_time": f"{minute}m", "alertname": name, "exp_alerts": alerts})
    return tests, fired


def test_promtool_fires_the_alerts_traceo_fires_at_the_same_minutes(tmp_path: Path) -> None:
    promtool = Path(require_prometheus()).with_name("promtool")
    rules = build_rules(SLOS)
    assert not rules.issues
    (tmp_path / "rules.yml").write_text(render_rules(rules))
    events = scenario()
    alert_tests, fired = expected_alerts(events)
    # The scenario exercises every tier, the quorum and the no-data alert, not just silence.
    assert fired["TraceoSloBurnRate"] > 50 and fired["TraceoSloNoData"] > 10
    test_file = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": input_series(events),
                "alert_rule_test": alert_tests,
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test_file, sort_keys=False, width=10**6))

    run = subprocess.run(
        [str(promtool), "test", "rules", "test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
