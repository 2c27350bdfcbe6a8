"""Detection end to end: series from the cost lake, scoring, episodes, root causes, persistence.

Each run reports the anomalies that touch the last ``lookback_days`` up to ``through`` (by
default yesterday: today's cost is still arriving). It reads enough history before that for
every reported day to get the full model (:data:`~tasks.cost.anomaly.scoring.FULL_HISTORY_DAYS`)
plus :data:`MERGE_MARGIN_DAYS` of flags before the window, so an episode that began shortly
before the window is seen whole rather than cut in two; a monitor with a holiday calendar reads
:data:`HOLIDAY_HISTORY_DAYS` more, so a holiday's effect can be learned from earlier ones. Each
episode is classified as an anomaly, a step change or new spend
(:mod:`tasks.cost.anomaly.shifts`). Purchases are judged apart: recurring fees month to month,
one-time purchases once (:mod:`tasks.cost.anomaly.charges`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine

from tasks.cost.anomaly.calendar import day_labels, holiday_dates
from tasks.cost.anomaly.charges import charge_records
from tasks.cost.anomaly.episodes import Episodes, find_episodes
from tasks.cost.anomaly.explain import explain_episode
from tasks.cost.anomaly.monitors import Holidays, Monitor, Thresholds
from tasks.cost.anomaly.root_causes import rank_root_causes, to_money
from tasks.cost.anomaly.scoring import FULL_HISTORY_DAYS, MIN_HISTORY_DAYS, Scores, score_matrix
from tasks.cost.anomaly.series import MonitorSeries, load_breakdown, load_monitor_series
from tasks.cost.anomaly.shifts import classify_episodes
from tasks.cost.anomaly.store import AnomalyRecord, SaveResult, save_anomalies

__all__ = [
    "DEFAULT_LOOKBACK_DAYS",
    "HOLIDAY_HISTORY_DAYS",
    "MERGE_MARGIN_DAYS",
    "Detection",
    "Scored",
    "detect_anomalies",
    "explain_anomaly",
    "score_and_save",
    "score_series",
]

DEFAULT_LOOKBACK_DAYS = 14
MERGE_MARGIN_DAYS = 14
HOLIDAY_HISTORY_DAYS = 120


@dataclass(frozen=True)
class Detection:
    """What one run found: the records (new, grown and unchanged) and series counts."""

    records: list[AnomalyRecord]
    series: dict[str, int]
    days: dict[str, int]
    starts: dict[str, date]


@dataclass(frozen=True)
class Scored:
    """A matrix scored as a monitor scores it: per-day scores, episodes and each one's kind."""

    scores: Scores
    episodes: Episodes
    kinds: np.ndarray
    labels: np.ndarray


def score_series(
    values: np.ndarray,
    start: date,
    thresholds: Thresholds,
    holidays: Holidays,
    scored_from: int,
) -> Scored:
    """Score a ``(series, days)`` matrix from ``start`` with a monitor's thresholds and calendar.

    Month boundaries and the ``holidays`` calendar label the days; consecutive anomalous days
    form episodes, each classified as an anomaly, a step change or new spend.
    """
    days = values.shape[1]
    last = start + timedelta(days=max(days - 1, 0))
    labels = day_labels(start, days, holiday_dates(holidays, start, last))
    scores = score_matrix(
        values,
        score_threshold=thresholds.score,
        min_pct=thresholds.min_pct,
        min_impact=float(thresholds.min_impact),
        scored_from=scored_from,
        labels=labels,
    )
    episodes = find_episodes(scores)
    floors = {"min_pct": thresholds.min_pct, "min_impact": float(thresholds.min_impact)}
    return Scored(scores, episodes, classify_episodes(values, episodes, **floors), labels)


def _records(series: MonitorSeries, report_from: date, flag_from: date) -> Iterable[AnomalyRecord]:
    monitor = series.monitor
    if not series.keys:
        return
    first_flag = max((flag_from - series.start).days, MIN_HISTORY_DAYS)
    scored = score_series(
        series.values, series.start, monitor.thresholds, monitor.holidays, first_flag
    )
    episodes, kinds = scored.episodes, scored.kinds
    keep = np.flatnonzero(episodes.end >= (report_from - series.start).days)
    pct = episodes.impact_pct
    for i in keep:
        row = int(episodes.row[i])
        start, end = int(episodes.start[i]), int(episodes.end[i])
        yield AnomalyRecord(
            monitor=monitor.name,
            dimension=monitor.dimension,
            key=series.keys[row],
            value=series.values_of[row],
            currency=series.currencies[row],
            start_date=series.day(start),
            end_date=series.day(end),
            expected_total=to_money(episodes.expected_total[i]),
            actual_total=to_money(episodes.actual_total[i]),
            total_impact=to_money(episodes.total_impact[i]),
            max_impact=to_money(episodes.max_impact[i]),
            impact_pct=None if np.isnan(pct[i]) else round(float(pct[i]), 6),
            score=round(float(episodes.max_score[i]), 6),
            kind=str(kinds[i]),
            truncated=start == first_flag,
            explanation=explain_episode(
                scored.scores, scored.labels, row, start, end, series.start, monitor
            ),
        )


def detect_anomalies(
    engine: Engine,
    monitors: Sequence[Monitor],
    through: date,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> Detection:
    """Score every monitor's series and return the episodes touching the lookback window.

    Raises:
        ServiceUnavailableError: the store cannot be reached.
    """
    if lookback_days < 1:
        raise ValueError("lookback_days must be at least 1")
    report_from = through - timedelta(days=lookback_days - 1)
    flag_from = report_from - timedelta(days=MERGE_MARGIN_DAYS)
    records: list[AnomalyRecord] = []
    counts: dict[str, int] = {}
    days: dict[str, int] = {}
    starts: dict[str, date] = {}
    for monitor in monitors:  # one matrix per monitor; each is scored in one vectorised call
        # a holiday's effect is learned from earlier holidays: read a season more history
        history = FULL_HISTORY_DAYS + (HOLIDAY_HISTORY_DAYS if monitor.holidays else 0)
        first = flag_from - timedelta(days=history)
        series = load_monitor_series(engine, monitor, first, through)
        counts[monitor.name] = len(series.keys)
        days[monitor.name] = series.days
        starts[monitor.name] = series.start
        records.extend(_records(series, report_from, flag_from))
        records.extend(charge_records(engine, monitor, report_from, through, series.start))
    return Detection(records, counts, days, starts)


def explain_anomaly(
    engine: Engine, monitor: Monitor, record: AnomalyRecord, history_start: date | None = None
) -> list[dict[str, Any]]:
    """The anomaly's root causes as JSON (see :mod:`tasks.cost.anomaly.root_causes`)."""
    first = record.start_date - timedelta(days=FULL_HISTORY_DAYS)
    if history_start is not None:
        first = max(first, history_start)
    breakdown = load_breakdown(
        engine, monitor, record.value, record.currency, first, record.end_date
    )
    if not breakdown.labels:
        return []
    start = (record.start_date - first).days
    end = (record.end_date - first).days
    causes = rank_root_causes(breakdown.labels, breakdown.values, start, end)
    names = breakdown.account_names
    return [replace(c, sub_account_name=names.get(c.sub_account or "")).to_json() for c in causes]


def score_and_save(
    engine: Engine,
    monitors: Sequence[Monitor],
    through: date,
    now: datetime,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> tuple[Detection, SaveResult]:
    """Detect anomalies, explain the new and changed ones, and store them idempotently."""
    detection = detect_anomalies(engine, monitors, through, lookback_days)
    by_name = {m.name: m for m in monitors}

    def explain(record: AnomalyRecord) -> list[dict[str, Any]]:
        start = detection.starts.get(record.monitor)
        return explain_anomaly(engine, by_name[record.monitor], record, start)

    return detection, save_anomalies(engine, detection.records, now, explain)
