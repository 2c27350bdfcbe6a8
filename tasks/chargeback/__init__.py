"""Chargeback: allocate cloud cost and platform usage to teams, exact to the cent.

The pure, in-memory core. Configuration (:mod:`.config`, :mod:`.ratecard`) and usage
(:mod:`.usage`) are loaded and validated, cost lines come as Arrow columns (:mod:`.source`),
:func:`allocate` produces an :class:`Allocation` of one :class:`TeamStatement` per team plus the
unallocated lines, reconciled against the source total.
"""

from __future__ import annotations

from tasks.chargeback.allocate import (
    Allocation,
    ChargebackError,
    ReconciliationError,
    StatementLine,
    TeamStatement,
    allocate,
    needed_columns,
    period_bounds,
)
from tasks.chargeback.config import ChargebackConfig, load_chargeback_config
from tasks.chargeback.ratecard import RateCard, price_usage
from tasks.chargeback.rounding import apportion, split_cents
from tasks.chargeback.source import CostColumns, lines_from_lake, lines_from_store
from tasks.chargeback.usage import UsageRecord, load_usage_csv

__all__ = [
    "Allocation",
    "ChargebackConfig",
    "ChargebackError",
    "CostColumns",
    "RateCard",
    "ReconciliationError",
    "StatementLine",
    "TeamStatement",
    "UsageRecord",
    "allocate",
    "apportion",
    "lines_from_lake",
    "lines_from_store",
    "load_chargeback_config",
    "load_usage_csv",
    "needed_columns",
    "period_bounds",
    "price_usage",
    "split_cents",
]
