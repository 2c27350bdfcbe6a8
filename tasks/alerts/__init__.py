"""Alert lifecycle: fire once, remind at most every interval, resolve when the condition clears."""

from tasks.alerts.lifecycle import AlertAction, AlertMemory, decide
from tasks.alerts.router import AlertOutcome, route_alerts

__all__ = ["AlertAction", "AlertMemory", "AlertOutcome", "decide", "route_alerts"]
