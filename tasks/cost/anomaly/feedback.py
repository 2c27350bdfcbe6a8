"""Feedback on an anomaly, as in AWS Cost Anomaly Detection: yes, no, or planned activity.

``yes`` (a real anomaly) and ``no`` (not one) are recorded for review and tuning; ``planned``
also silences the anomaly's alerts, including when it grows, and those of an episode that
continues it (see :mod:`tasks.cost.anomaly.store`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from tasks.errors import NotFoundError, ServiceUnavailableError
from tasks.store import CostAnomaly, session_scope

__all__ = ["FEEDBACK", "Feedback", "set_feedback"]

Feedback = Literal["yes", "no", "planned"]
FEEDBACK: tuple[str, ...] = Feedback.__args__  # type: ignore[attr-defined]


def set_feedback(engine: Engine, anomaly_id: int, value: str, now: datetime) -> CostAnomaly:
    """Record feedback on anomaly ``anomaly_id`` (a later answer replaces an earlier one).

    Raises:
        ValueError: ``value`` is not yes, no or planned.
        NotFoundError: no anomaly has this id.
        ServiceUnavailableError: the store cannot be reached.
    """
    if value not in FEEDBACK:
        raise ValueError(f"feedback must be one of {', '.join(FEEDBACK)}, not {value!r}")
    try:
        with session_scope(engine) as session:
            anomaly = session.get(CostAnomaly, anomaly_id)
            if anomaly is None:
                raise NotFoundError(f"no cost anomaly with id {anomaly_id}")
            anomaly.feedback = value
            anomaly.feedback_at = now
            return anomaly
    except OperationalError as exc:
        raise ServiceUnavailableError(
            f"cannot record feedback: {exc.orig.__class__.__name__}"
        ) from None
