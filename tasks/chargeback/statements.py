"""Team statements and the period summary: CSV files, and the ledger's view of one team.

A team's CSV lists its lines by category (direct cost by service, shared allocations, platform
charges, discounts), a subtotal per category and the total; the item lines add up to the
subtotals and the subtotals to the total. The summary CSV has one row per team, the
cloud cost allocated (direct + shared), platform charges, the unallocated cost, the source total
and the reconciliation status (allocated + unallocated = source total). Every row of both names
the cost metric charged (``EffectiveCost``, amortised, or ``BilledCost``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from tasks.errors import NotFoundError
from tasks.store import ChargebackRun, LedgerEntry, session_scope

__all__ = [
    "CATEGORIES",
    "METRIC_LABELS",
    "StatementFiles",
    "StatementRow",
    "TeamStatementView",
    "ledger_statement",
    "render_statement",
    "statement_dir",
    "summary_rows",
    "team_view",
    "write_statements",
    "write_team_csv",
]

CATEGORIES = ("direct", "shared", "platform", "discount")
TEAM_COLUMNS = ("kind", "category", "item", "quantity", "unit", "amount", "currency", "metric")
SUMMARY_COLUMNS = ("row", "team", "tier", "charged", "amount", "currency", "metric", "note")
METRIC_LABELS = {
    "EffectiveCost": "EffectiveCost (amortised)",
    "BilledCost": "BilledCost (as invoiced)",
}
_ZERO = Decimal("0")


@dataclass(frozen=True)
class StatementRow:
    """One line of a statement: an item's amount in one category."""

    category: str
    item: str
    amount: Decimal
    quantity: Decimal | None = None
    unit: str | None = None


@dataclass(frozen=True)
class TeamStatementView:
    """A team's statement for a period, from an allocation or from the ledger."""

    team: str
    period: str
    tier: str
    currency: str
    metric: str
    rows: tuple[StatementRow, ...]

    @property
    def total(self) -> Decimal:
        return sum((r.amount for r in self.rows), _ZERO)

    @property
    def charged(self) -> bool:
        return self.tier == "hard"

    @property
    def cloud(self) -> Decimal:
        """The cloud cost on the statement (direct + shared); platform charges are internal."""
        return self.subtotal("direct") + self.subtotal("shared")

    def subtotal(self, category: str) -> Decimal:
        return sum((r.amount for r in self.rows if r.category == category), _ZERO)


@dataclass(frozen=True)
class StatementFiles:
    """Where a period's statements were written."""

    directory: Path
    summary: Path
    teams: dict[str, Path]


def _order(rows: Iterable[StatementRow]) -> tuple[StatementRow, ...]:
    rank = {c: i for i, c in enumerate(CATEGORIES)}
    return tuple(sorted(rows, key=lambda r: (rank.get(r.category, len(rank)), r.item)))


def team_view(statement: Any, period: str, currency: str, metric: str) -> TeamStatementView:
    """A view of an allocation's ``TeamStatement`` (its lines summed per category and item)."""
    sums: dict[tuple[str, str], StatementRow] = {}
    for line in statement.lines:
        key = (line.category, line.item)
        old = sums.get(key)
        if old is None:
            sums[key] = StatementRow(
                line.category, line.item, Decimal(line.amount), line.quantity, line.unit
            )
            continue
        quantity = (
            old.quantity + line.quantity
            if old.quantity is not None and line.quantity is not None
            else None
        )
        sums[key] = StatementRow(
            line.category, line.item, old.amount + Decimal(line.amount), quantity, old.unit
        )
    return TeamStatementView(
        statement.team, period, statement.tier, currency, metric, _order(sums.values())
    )


def ledger_statement(engine: Engine, team: str, period: str) -> TeamStatementView:
    """A team's statement as posted: the ledger's entries summed per category and item.

    Raises:
        NotFoundError: nothing is posted for ``period``, or ``team`` has no entries in it.
    """
    with session_scope(engine) as session:
        posted = session.execute(
            select(LedgerEntry, ChargebackRun.metric)
            .join(ChargebackRun, LedgerEntry.run_id == ChargebackRun.id)
            .where(LedgerEntry.period == period)
            .order_by(LedgerEntry.id)
        ).all()
    if not posted:
        raise NotFoundError(f"no chargeback is posted for period {period}")
    mine = [(entry, metric) for entry, metric in posted if entry.team == team]
    if not mine:
        teams = ", ".join(sorted({entry.team for entry, _ in posted}))
        raise NotFoundError(f"team {team!r} has no chargeback in {period} (teams: {teams})")
    sums: dict[tuple[str, str], StatementRow] = {}
    for e, _ in mine:
        key = (e.category, e.item)
        old = sums.get(key)
        amount = (old.amount if old else _ZERO) + e.amount
        quantity = old.quantity if old else None
        if e.quantity is not None:
            quantity = (quantity or _ZERO) + e.quantity
        sums[key] = StatementRow(
            e.category, e.item, amount, quantity, e.unit or (old.unit if old else None)
        )
    rows = [r for r in sums.values() if r.amount != 0]  # fully reversed items are gone
    latest, metric = mine[-1]  # the metric of the run that posted last for the team
    return TeamStatementView(team, period, latest.tier, latest.currency, metric, _order(rows))


def statement_dir(home: Path, period: str) -> Path:
    """``TRACEO_HOME/chargeback/<period>/``."""
    return home / "chargeback" / period


def _safe_name(team: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", team) or "_"


def _text(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def write_team_csv(path: Path, view: TeamStatementView) -> Path:
    """Write one team's statement: item lines, a subtotal per category, the total."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TEAM_COLUMNS)
        for category in CATEGORIES:
            rows = [r for r in view.rows if r.category == category]
            for r in rows:
                writer.writerow(
                    (
                        "line",
                        category,
                        r.item,
                        _text(r.quantity),
                        r.unit or "",
                        r.amount,
                        view.currency,
                        view.metric,
                    )
                )
            subtotal = view.subtotal(category)
            writer.writerow(
                ("subtotal", category, "", "", "", subtotal, view.currency, view.metric)
            )
        writer.writerow(("total", "", "", "", "", view.total, view.currency, view.metric))
    return path


def write_statements(
    directory: Path,
    views: Sequence[TeamStatementView],
    *,
    unallocated: Decimal,
    source_total: Decimal,
    currency: str,
    metric: str,
    reconciled: bool,
) -> StatementFiles:
    """Write every team's CSV and ``summary.csv`` under ``directory`` (replacing earlier files)."""
    directory.mkdir(parents=True, exist_ok=True)
    teams = {v.team: write_team_csv(directory / f"{_safe_name(v.team)}.csv", v) for v in views}
    summary = directory / "summary.csv"
    with summary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SUMMARY_COLUMNS)
        for v in sorted(views, key=lambda v: v.team):
            charged = "yes" if v.charged else "no"
            writer.writerow(("team", v.team, v.tier, charged, v.total, currency, metric, ""))
        cloud = sum((v.cloud for v in views), _ZERO)
        internal = sum((v.total - v.cloud for v in views), _ZERO)
        source_total = source_total.quantize(Decimal("0.01"))  # reconciled to the cent
        status = "reconciled" if reconciled else "MISMATCH"
        note = f"allocated + unallocated = {cloud + unallocated}, source total {source_total}"
        label = METRIC_LABELS.get(metric, metric)
        for row in (
            ("allocated", cloud, currency, "direct + shared cloud cost"),
            ("platform", internal, currency, "platform net of discounts"),
            ("unallocated", unallocated, currency, ""),
            ("source_total", source_total, currency, label),
            ("reconciliation", "", "", f"{status}: {note}"),
        ):
            name, amount, unit, text = row
            writer.writerow((name, "", "", "", amount, unit, metric, text))
    return StatementFiles(directory, summary, teams)


def render_statement(view: TeamStatementView) -> str:
    """A plain-text statement for the terminal."""
    kind = "charged" if view.charged else f"{view.tier}, informational"
    basis = METRIC_LABELS.get(view.metric, view.metric)
    out = [f"Chargeback statement: {view.team}, {view.period} ({kind}, {view.currency}, {basis})"]
    width = max([len(r.item) for r in view.rows] + [10])
    for category in CATEGORIES:
        rows = [r for r in view.rows if r.category == category]
        if not rows:
            continue
        out.append(f"  {category}")
        out.extend(f"    {r.item:<{width}}  {r.amount:>14,.2f}" for r in rows)
        out.append(f"    {'subtotal':<{width}}  {view.subtotal(category):>14,.2f}")
    out.append(f"  {'total':<{width + 2}}  {view.total:>14,.2f}")
    return "\n".join(out)


def summary_rows(views: Mapping[str, TeamStatementView]) -> list[dict[str, str]]:
    """Rows for a table artifact: team, tier, charged, total."""
    return [
        {"team": v.team, "tier": v.tier, "charged": str(v.charged).lower(), "total": str(v.total)}
        for v in views.values()
    ]
