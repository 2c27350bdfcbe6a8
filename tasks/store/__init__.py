"""The Traceo store: SQLAlchemy models, migrations and sessions."""

from tasks.store.chargeback_models import ChargebackRun, LedgerEntry
from tasks.store.cost_models import CostAnomaly, CostIngestion, CostLine, CostTagTotal
from tasks.store.engine import dispose_engines, get_engine, session_scope, upgrade
from tasks.store.models import AlertEvent, AlertState, Base, CheckResult, SloEvaluation

__all__ = [
    "AlertEvent",
    "AlertState",
    "Base",
    "ChargebackRun",
    "CheckResult",
    "CostAnomaly",
    "CostIngestion",
    "CostLine",
    "CostTagTotal",
    "LedgerEntry",
    "SloEvaluation",
    "dispose_engines",
    "get_engine",
    "session_scope",
    "upgrade",
]
