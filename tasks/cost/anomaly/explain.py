"""Why an episode was flagged: the expectation's terms, the baseline behind it, the floors.

Every stored usage anomaly carries an explanation (JSON, shown with each alert):

* ``days``: for each day of the episode (the first :data:`MAX_DAYS`), actual and expected
  cost, the weekday index and weekly level the expectation multiplies (absent where the
  sparse-series fallback was used), the calendar effect applied (the label and its factor, or
  none) and the score;
* ``baseline``: the days the expectation learned from (four weeks of weekday pattern and the
  week of level before the first day) and the 30 days of errors the spread comes from;
* ``flagged_in_baseline``: earlier flagged days inside that baseline; medians damp them (up to
  three in a week move nothing), they are listed so a reader can judge;
* ``charge_category``: what the series holds (fees and purchases are judged apart);
* ``thresholds``: the score and floors the days passed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

from tasks.cost.anomaly.calendar import (
    FIRST_OF_MONTH,
    HOLIDAY,
    LAST_OF_MONTH,
    SECOND_LAST_OF_MONTH,
    SECOND_OF_MONTH,
)
from tasks.cost.anomaly.monitors import Monitor
from tasks.cost.anomaly.scoring import FIRST_EXPECTED_DAY, SPREAD_DAYS, Scores

__all__ = ["LABEL_NAMES", "MAX_DAYS", "explain_episode", "explanation_text"]

MAX_DAYS = 7
LABEL_NAMES = {
    FIRST_OF_MONTH: "1st of the month",
    SECOND_OF_MONTH: "2nd of the month",
    SECOND_LAST_OF_MONTH: "second-last day of the month",
    LAST_OF_MONTH: "last day of the month",
    HOLIDAY: "public holiday",
}


def _figure(value: float) -> float | None:
    return round(float(value), 4) if np.isfinite(value) else None


def _day(scores: Scores, labels: np.ndarray, row: int, column: int, start: date) -> dict[str, Any]:
    terms = scores.terms
    label = LABEL_NAMES.get(int(labels[column]))
    factor = float(terms.calendar[row, column]) if terms is not None else 1.0
    return {
        "day": (start + timedelta(days=column)).isoformat(),
        "actual": _figure(scores.actual[row, column]),
        "expected": _figure(scores.expected[row, column]),
        "weekday_index": _figure(terms.weekday[row, column]) if terms is not None else None,
        "level": _figure(terms.level[row, column]) if terms is not None else None,
        "calendar": {"label": label, "factor": _figure(factor)} if label else None,
        "score": _figure(scores.score[row, column]),
    }


def explain_episode(
    scores: Scores,
    labels: np.ndarray,
    row: int,
    first: int,
    last: int,
    start: date,
    monitor: Monitor,
) -> dict[str, Any]:
    """The explanation of the episode ``first..last`` (columns) of series ``row``.

    ``start`` is the date of column 0 of the scored matrix.
    """

    def iso(column: int) -> str:
        return (start + timedelta(days=max(column, 0))).isoformat()

    pattern_from = first - FIRST_EXPECTED_DAY
    spread_from = first - SPREAD_DAYS
    earlier = np.flatnonzero(scores.anomalous[row, max(pattern_from, 0) : first])
    return {
        "days": [
            _day(scores, labels, row, c, start)
            for c in range(first, min(last, first + MAX_DAYS - 1) + 1)
        ],
        "baseline": {
            "pattern": [iso(pattern_from), iso(first - 1)],
            "spread": [iso(spread_from), iso(first - 1)],
        },
        "flagged_in_baseline": [iso(max(pattern_from, 0) + int(c)) for c in earlier],
        "charge_category": list(monitor.filter.charge_category),
        "thresholds": {
            "score": monitor.thresholds.score,
            "min_pct": monitor.thresholds.min_pct,
            "min_impact": float(monitor.thresholds.min_impact),
        },
    }


def explanation_text(explanation: dict[str, Any], currency: str) -> str:
    """One paragraph for people: the first day's expectation and what it rests on."""
    days = explanation.get("days") or []
    if not days:
        return ""
    first = days[0]
    parts = []
    if first.get("weekday_index") is not None and first.get("level") is not None:
        parts.append(
            f"expected {first['expected']:,.2f} {currency} on {first['day']} = weekday index "
            f"{first['weekday_index']:.2f} x weekly level {first['level']:,.2f}"
        )
    elif first.get("expected") is not None:
        parts.append(
            f"expected {first['expected']:,.2f} {currency} on {first['day']} "
            "(median of the last four same weekdays: a sparse series)"
        )
    calendar = first.get("calendar")
    if calendar:
        factor = calendar.get("factor")
        effect = f"x {factor:.2f}" if factor not in (None, 1.0) else "no effect applied"
        parts.append(f"{calendar['label']}: {effect}")
    baseline = explanation["baseline"]
    parts.append(
        f"baseline {baseline['pattern'][0]}..{baseline['pattern'][1]}, spread from "
        f"{baseline['spread'][0]}..{baseline['spread'][1]}"
    )
    flagged = explanation.get("flagged_in_baseline") or []
    if flagged:
        parts.append(f"{len(flagged)} earlier flagged day(s) in the baseline, damped by medians")
    categories = ", ".join(explanation.get("charge_category") or []) or "every charge category"
    parts.append(f"charges: {categories}")
    return "; ".join(parts)
