"""The SLO status table: the same rows for Prefect artifacts and the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tasks.slo.report import SloReport

__all__ = ["render_table", "status_rows"]


def _pct(value: float | None, digits: int = 3) -> str:
    return "no data" if value is None else f"{value * 100:.{digits}f}%"


def _burn(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}x"


def status_rows(reports: Sequence[SloReport]) -> list[dict[str, Any]]:
    """One row per SLO: objective, SLI, budget left, burn rate per window, alerts firing."""
    rows = []
    for report in reports:
        row: dict[str, Any] = {
            "slo": report.slo_id,
            "service": report.service,
            "objective": _pct(report.objective, 2),
            "window": report.time_window,
            "sli": _pct(report.sli),
            "budget left": _pct(report.budget_remaining, 1),
        }
        for window, burn in report.burn_rates.items():
            if burn.events == 0:
                row[f"burn {window}"] = "no data"
            elif burn.status == "insufficient-data":
                row[f"burn {window}"] = "low traffic"
            else:
                row[f"burn {window}"] = _burn(burn.burn)
        row["alerts firing"] = ", ".join(a.key for a in report.firing) or "-"
        rows.append(row)
    return rows


def render_table(rows: Sequence[dict[str, Any]]) -> str:
    """A plain-text table (columns are the union of every row's keys, in first-seen order)."""
    if not rows:
        return "no SLOs"
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells)
    return "\n".join(lines)
