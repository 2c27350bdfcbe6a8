"""Human views of stored anomalies: one-line summaries, a CLI listing and artifact table rows."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tasks.cost.anomaly.explain import explanation_text
from tasks.cost.anomaly.root_causes import RootCause
from tasks.store import CostAnomaly

__all__ = ["describe", "render_listing", "root_causes_of", "table_rows"]


def _money(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def _signed(value: Decimal, currency: str) -> str:
    return ("+" if value >= 0 else "-") + _money(abs(value), currency)


def _period(anomaly: CostAnomaly) -> str:
    if anomaly.start_date == anomaly.end_date:
        return anomaly.start_date.isoformat()
    return f"{anomaly.start_date.isoformat()}..{anomaly.end_date.isoformat()}"


def root_causes_of(anomaly: CostAnomaly) -> list[RootCause]:
    return [RootCause.from_json(item) for item in anomaly.root_causes or []]


def _causes_text(anomaly: CostAnomaly, limit: int = 3) -> str:
    causes = root_causes_of(anomaly)[:limit]
    return "; ".join(
        f"{c.label} {_signed(c.impact, anomaly.currency)} ({c.share:.0%})" for c in causes
    )


KIND_LABELS = {
    "anomaly": "",
    "step_change": "step change, ",
    "new_spend": "new spend, ",
    "fee_change": "recurring fee, ",
    "purchase": "one-time purchase, ",
}
# What a record without a percentage is: nothing to compare with.
_NO_BASELINE = {"fee_change": "new fee", "purchase": "purchase"}


def _kind(anomaly: CostAnomaly) -> str:
    return KIND_LABELS.get(anomaly.kind or "anomaly", f"{anomaly.kind}, ")


def describe(anomaly: CostAnomaly) -> str:
    """One line: monitor, key, kind, period, impact against expectation, top root causes."""
    fresh = _NO_BASELINE.get(anomaly.kind or "", "new spend")
    pct = f" ({anomaly.impact_pct:+.0f}%)" if anomaly.impact_pct is not None else f" ({fresh})"
    text = (
        f"#{anomaly.id} {anomaly.monitor} / {anomaly.key}, {_kind(anomaly)}{_period(anomaly)}: "
        f"{_signed(anomaly.total_impact, anomaly.currency)}{pct}, actual "
        f"{_money(anomaly.actual_total, anomaly.currency)} vs expected "
        f"{_money(anomaly.expected_total, anomaly.currency)}"
    )
    causes = _causes_text(anomaly)
    text = f"{text}; root causes: {causes}" if causes else text
    why = _why(anomaly)
    return f"{text}; why: {why}" if why else text


def _why(anomaly: CostAnomaly) -> str:
    if anomaly.kind == "fee_change":
        return "a recurring fee, compared with the same fee the month before"
    if anomaly.kind == "purchase":
        return "a one-time purchase above the monitor's floor"
    return explanation_text(anomaly.explanation or {}, anomaly.currency)


def render_listing(anomalies: Sequence[CostAnomaly]) -> str:
    """The ``traceo cost anomalies`` output: a block per anomaly with its root causes."""
    if not anomalies:
        return "No cost anomalies."
    blocks = []
    for a in anomalies:
        fresh = _NO_BASELINE.get(a.kind or "", "new spend")
        pct = f"{a.impact_pct:+.1f}%" if a.impact_pct is not None else fresh
        status = []
        if a.feedback:
            status.append(f"feedback {a.feedback}")
        if a.alert_kind:
            status.append(f"alerted ({a.alert_kind})")
        lines = [
            f"#{a.id}  {a.monitor} / {a.key}  {_kind(a)}{_period(a)}"
            + (f"  [{', '.join(status)}]" if status else ""),
            f"    impact {_signed(a.total_impact, a.currency)} ({pct}), max "
            f"{_signed(a.max_impact, a.currency)}/day, actual {_money(a.actual_total, a.currency)}"
            f" vs expected {_money(a.expected_total, a.currency)}, score {a.score:.1f}",
        ]
        causes = root_causes_of(a)
        if causes:
            lines.append("    root causes (service / region / sub-account / usage):")
            lines.extend(
                f"      {c.share:>4.0%}  {_signed(c.impact, a.currency):>16}  {c.label}"
                for c in causes
            )
        else:
            lines.append("    root causes: none (no line-level cost behind this series)")
        why = _why(a)
        if why:
            lines.append(f"    why: {why}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def table_rows(anomalies: Sequence[CostAnomaly]) -> list[dict[str, Any]]:
    """Rows for a Prefect table artifact (strings and numbers only)."""
    return [
        {
            "id": a.id,
            "monitor": a.monitor,
            "key": a.key,
            "kind": a.kind,
            "start": a.start_date.isoformat(),
            "end": a.end_date.isoformat(),
            "impact": f"{a.total_impact:.2f}",
            "impact_pct": None if a.impact_pct is None else round(a.impact_pct, 1),
            "expected": f"{a.expected_total:.2f}",
            "actual": f"{a.actual_total:.2f}",
            "currency": a.currency,
            "score": round(a.score, 2),
            "root_causes": _causes_text(a, limit=5),
            "feedback": a.feedback or "",
            "alerted": a.alert_kind or "",
        }
        for a in anomalies
    ]
