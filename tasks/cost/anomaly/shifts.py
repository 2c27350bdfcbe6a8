"""What kind of change an episode is: an anomaly, a step change, or new spend.

A team reads three different things from a run of anomalous days:

* **new spend**: the series cost nothing in the :data:`NEW_SPEND_DAYS` days before the episode
  (a service, account or team that appears). One announcement, not a week of anomalies.
* **step change**: the episode's new level holds: the median of the :data:`STEP_DAYS` days after
  the episode is still above the median of the same number of days before it by the monitor's
  floors (``min_pct`` and ``min_impact``). A migration that raises spend 40% and stays is one
  step with its start and size, after which the baseline is the new level. Until those days
  exist the episode stays an anomaly, so a leak is never hidden while it runs; a leak that is
  fixed falls back to the old level and stays an anomaly.
* **anomaly**: anything else.

Both windows span two whole weeks, so the weekly pattern cancels out of the comparison.
"""

from __future__ import annotations

import numpy as np

from tasks.cost.anomaly.episodes import Episodes

__all__ = ["ANOMALY", "NEW_SPEND", "NEW_SPEND_DAYS", "STEP", "STEP_DAYS", "classify_episodes"]

ANOMALY, STEP, NEW_SPEND = "anomaly", "step_change", "new_spend"
STEP_DAYS = 14
NEW_SPEND_DAYS = 28


def classify_episodes(
    values: np.ndarray,
    episodes: Episodes,
    *,
    min_pct: float | np.ndarray = 15.0,
    min_impact: float | np.ndarray = 0.0,
) -> np.ndarray:
    """The kind of every episode (an object array of :data:`ANOMALY`, :data:`STEP`, ...).

    Args:
        values: the ``(series, days)`` matrix the episodes were found in.
        episodes: from :func:`tasks.cost.anomaly.episodes.find_episodes`.
        min_pct, min_impact: the monitor's floors (scalar or one per series).
    """
    x = np.asarray(values, dtype=np.float64)
    days = x.shape[1]
    pct = np.broadcast_to(np.asarray(min_pct, dtype=np.float64), (x.shape[0],))
    floor = np.broadcast_to(np.asarray(min_impact, dtype=np.float64), (x.shape[0],))
    kinds = np.full(len(episodes), ANOMALY, dtype=object)
    for i in range(len(episodes)):  # one small window pair per episode
        row, start, end = int(episodes.row[i]), int(episodes.start[i]), int(episodes.end[i])
        if start >= NEW_SPEND_DAYS and not np.any(x[row, start - NEW_SPEND_DAYS : start] > 0):
            kinds[i] = NEW_SPEND
            continue
        if start < STEP_DAYS or end + STEP_DAYS >= days:
            continue  # the new level cannot be judged yet: it stays an anomaly
        before = float(np.median(x[row, start - STEP_DAYS : start]))
        after = float(np.median(x[row, end + 1 : end + 1 + STEP_DAYS]))
        if after - before >= max(pct[row] / 100.0 * before, floor[row]) and after > floor[row]:
            kinds[i] = STEP
    return kinds
