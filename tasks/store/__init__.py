"""The Traceo store: SQLAlchemy models, migrations and sessions."""

from tasks.store.chargeback_models import ChargebackRun, LedgerEntry
from tasks.store.cost_models import CostAnomaly, CostIngestion, CostLine, CostTagTotal
from tasks.store.engine import dispose_engines, get_engine, session_scope, upgrade
from tasks.store.models import AlertEvent, AlertState, Base, CheckResult, SloEvaluation
from tasks.store.packed_models import CheckPackedHour
from tasks.store.rollup_models import CheckRollup, StoreMark

__all__ = [
    "AlertEvent",
    "AlertState",
    "Base",
    "ChargebackRun",
    "CheckPackedHour",
    "CheckResult",
    "CheckRollup",
    "CostAnomaly",
    "CostIngestion",
    "CostLine",
    "CostTagTotal",
    "LedgerEntry",
    "SloEvaluation",
    "StoreMark",
    "dispose_engines",
    "get_engine",
    "session_scope",
    "upgrade",
]
