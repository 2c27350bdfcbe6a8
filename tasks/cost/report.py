"""Summaries of cost ingestion runs: a text table for the CLI, rows for a Prefect artifact."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from tasks.cost.ingest import IngestReport

__all__ = ["render_report", "report_rows"]

_SHOWN = Decimal("0.000001")


def report_rows(reports: Iterable[IngestReport]) -> list[dict[str, Any]]:
    """One row per source, period, provider and currency: rows and BilledCost (as text)."""
    rows = []
    for report in reports:
        for total in report.provider_totals():
            rows.append(
                {
                    "source": report.source,
                    "period": f"{report.start}..{report.end}",
                    "provider": total.provider_name,
                    "currency": total.billing_currency,
                    "rows": total.rows,
                    "billed_cost": str(total.billed_total.quantize(_SHOWN)),
                    "estimated": "yes" if total.estimated else "no",
                }
            )
    return rows


def render_report(report: IngestReport) -> str:
    """What one run ingested, per provider, with its notes."""
    scopes = len(report.scopes)
    lines = [
        f"{report.source}: {report.start}..{report.end} (end exclusive): {report.rows:,} rows "
        f"in {scopes} billing account(s), {report.skipped_rows:,} outside the period skipped, "
        f"{report.seconds:.1f} s"
    ]
    table = [("provider", "currency", "rows", "BilledCost", "estimated")]
    for row in report_rows([report]):
        table.append(
            (
                row["provider"],
                row["currency"],
                f"{row['rows']:,}",
                row["billed_cost"],
                row["estimated"],
            )
        )
    if len(table) == 1:
        lines.append("  no cost in this period")
    else:
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        for record in table:
            cells = [
                c.rjust(w) if i in (2, 3) else c.ljust(w)
                for i, (c, w) in enumerate(zip(record, widths, strict=True))
            ]
            lines.append("  " + "  ".join(cells).rstrip())
    emptied = [s.billing_account_id for s in report.scopes if not s.rows and s.replaced_rows]
    if emptied:
        lines.append(f"  emptied (no longer reported): {', '.join(emptied)}")
    lines.extend(f"  note: {note}" for note in dict.fromkeys(report.notes))
    return "\n".join(lines)
