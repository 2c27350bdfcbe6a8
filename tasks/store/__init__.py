"""The Traceo store: SQLAlchemy models, migrations and sessions."""

from tasks.store.cost_models import CostAnomaly, CostIngestion, CostLine, CostTagTotal
from tasks.store.engine import dispose_engines, get_engine, session_scope, upgrade
from tasks.store.models import AlertEvent, AlertState, Base, CheckResult, SloEvaluation

__all__ = [
    "AlertEvent",
    "AlertState",
    "Base",
    "CheckResult",
    "CostAnomaly",
    "CostIngestion",
    "CostLine",
    "CostTagTotal",
    "SloEvaluation",
    "dispose_engines",
    "get_engine",
    "session_scope",
    "upgrade",
]
