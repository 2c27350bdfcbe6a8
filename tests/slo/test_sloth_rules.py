"""Traceo's Prometheus alerts fire on what Sloth's do: same windows, factors and error budget.

For each SLO of Sloth's published examples (tests/data/sloth), the alerts Sloth generated are
read back from its output, and Traceo's rules for the same objective over the same 30-day
rolling period with its default tiers must hold the same (severity, long window, short window,
burn-rate factor) set and the same error budget. Sloth fires on ``>``, Traceo on ``>=`` (its own
evaluation's comparison); at equality the two differ by design.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import yaml

from tasks.slo.rules import build_rules
from tests.slo.helpers import slo

CORPUS = Path(__file__).resolve().parents[1] / "data" / "sloth"
SPECS = sorted(CORPUS.glob("*.yml"))
UNITS = {"m": 60, "h": 3600, "d": 86400}
Alert = tuple[str, int, int, float]  # severity, long s, short s, factor

_SLOTH_PAIR = re.compile(
    r"ratio_rate(\w+)\{[^}]*sloth_slo=\"([^\"]+)\"[^}]*\} > \(([\d.]+) \* ([\d.e-]+)\)"
)
_TRACEO_TERM = re.compile(r"ratio_rate(\w+)\{[^}]*\} / ([\d.e-]+) >= ([\d.]+)")


def seconds(window: str) -> int:
    return int(window[:-1]) * UNITS[window[-1]]


def sloth_objectives(spec: Path) -> dict[str, tuple[float, bool, bool]]:
    """SLO name -> (objective %, page alert on, ticket alert on) from a Sloth spec file."""
    out = {}
    for document in yaml.safe_load_all(spec.read_text()):
        for item in document["slos"]:
            alerting = item.get("alerting") or {}
            page = not (alerting.get("page_alert") or {}).get("disable", False)
            ticket = not (alerting.get("ticket_alert") or {}).get("disable", False)
            out[item["name"]] = (float(item["objective"]), page, ticket)
    return out


def sloth_alerts(generated: Path) -> tuple[dict[str, set[Alert]], dict[str, float]]:
    """Per SLO, Sloth's alert pairs and the error budget its expressions multiply."""
    alerts: dict[str, set[Alert]] = {}
    budgets: dict[str, float] = {}
    for document in yaml.safe_load_all(generated.read_text()):
        for group in (document or {}).get("groups", []):
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                severity = rule["labels"]["sloth_severity"]
                found = _SLOTH_PAIR.findall(rule["expr"])
                assert found and len(found) % 2 == 0, rule["expr"]
                for (short, name, factor, budget), (long, _, _, _) in zip(
                    found[::2], found[1::2], strict=True
                ):
                    alerts.setdefault(name, set()).add(
                        (severity, seconds(long), seconds(short), float(factor))
                    )
                    budgets[name] = float(budget)
    return alerts, budgets


def traceo_alerts(objective: float) -> tuple[set[Alert], float]:
    (group,) = build_rules([slo(target=objective / 100)]).groups
    alerts: set[Alert] = set()
    budgets = set()
    for rule in group["rules"]:
        if rule.get("alert") != "TraceoSloBurnRate":
            continue
        (long, budget, factor), (short, _, _) = _TRACEO_TERM.findall(rule["expr"])
        alerts.add((rule["labels"]["severity"], seconds(long), seconds(short), float(factor)))
        budgets.add(float(budget))
    (budget,) = budgets
    return alerts, budget


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_traceo_alerts_where_sloth_alerts(spec: Path) -> None:
    expected, budgets = sloth_alerts(CORPUS / "_gen" / spec.name)
    objectives = sloth_objectives(spec)
    assert objectives, f"{spec.name}: no SLO read"

    for name, (objective, page, ticket) in objectives.items():
        ours, budget = traceo_alerts(objective)
        wanted = {a for a in ours if (page if a[0] == "page" else ticket)}
        theirs = expected.get(name, set())
        assert {(s, lo, sh) for s, lo, sh, _ in wanted} == {(s, lo, sh) for s, lo, sh, _ in theirs}
        for alert in theirs:
            (mine,) = [a for a in wanted if a[:3] == alert[:3]]
            assert math.isclose(mine[3], alert[3], rel_tol=1e-9), (name, alert, mine)
        if theirs:
            assert math.isclose(budget, budgets[name], rel_tol=1e-9), name
