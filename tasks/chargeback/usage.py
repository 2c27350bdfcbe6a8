"""Platform usage per team and period, read from CSV (``team,period,metric,quantity``)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tasks.cost.focus import CostDataError, DataIssue

__all__ = ["COLUMNS", "UsageRecord", "load_usage_csv"]

COLUMNS = ("team", "period", "metric", "quantity")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class UsageRecord:
    """How much of a platform ``metric`` (raw units) ``team`` used in ``period`` (YYYY-MM)."""

    team: str
    period: str
    metric: str
    quantity: Decimal


def load_usage_csv(path: Path | str, period: str) -> list[UsageRecord]:
    """The rows of ``path`` for ``period``; repeated (team, metric) rows are added up.

    Raises:
        CostDataError: missing columns, a bad period or a bad / negative quantity (every row).
    """
    file = str(path)
    issues: list[DataIssue] = []
    totals: dict[tuple[str, str], Decimal] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise CostDataError([DataIssue(file, None, None, f"missing columns {missing}")])
        for number, row in enumerate(reader, start=1):
            row_period = (row["period"] or "").strip()
            if not _PERIOD.match(row_period):
                issues.append(DataIssue(file, number, "period", "expected YYYY-MM"))
                continue
            try:
                quantity = Decimal((row["quantity"] or "").strip())
            except InvalidOperation:
                issues.append(DataIssue(file, number, "quantity", "not a number"))
                continue
            if not quantity.is_finite() or quantity < 0:
                issues.append(DataIssue(file, number, "quantity", "must be >= 0"))
                continue
            team, metric = (row["team"] or "").strip(), (row["metric"] or "").strip()
            if not team or not metric:
                issues.append(DataIssue(file, number, "team" if not team else "metric", "empty"))
                continue
            if row_period == period:
                totals[(team, metric)] = totals.get((team, metric), Decimal(0)) + quantity
    if issues:
        raise CostDataError(issues)
    return [UsageRecord(t, period, m, q) for (t, m), q in sorted(totals.items())]
