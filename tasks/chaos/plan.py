"""The ``--dry-run`` plan: what a run would do, in order, without touching anything."""

from __future__ import annotations

from typing import Any

from tasks.chaos.document import Activity
from tasks.chaos.experiment import ChaosSettings, LoadedExperiment, resolve_configuration
from tasks.settings import load

__all__ = ["render_plan"]


def _describe(activity: Activity, config: dict[str, Any], secrets: dict[str, Any]) -> str:
    from chaoslib import substitute

    provider = activity.provider
    label = f"{activity.type or 'ref'} {activity.name or activity.ref}"
    if provider is None:
        return label
    if provider.type != "python":
        return f"{label} ({provider.type} provider)"
    arguments = substitute(provider.arguments or {}, config, secrets)
    if provider.func == "inject_fault":
        fault = arguments.get("fault") or {}
        attributes = ", ".join(f"{k}={v}" for k, v in (fault.get("attributes") or {}).items())
        return (
            f"{label}: inject {fault.get('type')} ({attributes}) on "
            f"{arguments.get('driver')}:{fault.get('target')}"
        )
    if provider.func == "hold":
        return f"{label}: hold the fault for {arguments.get('seconds')} s (ends early on abort)"
    shown = ", ".join(f"{k}={v}" for k, v in arguments.items() if not isinstance(v, dict))
    return f"{label}: {provider.func}({shown})"


def render_plan(loaded: LoadedExperiment, settings: ChaosSettings | None = None) -> list[str]:
    """Lines describing the run: safety limits, checks, hypotheses, method, rollbacks."""
    settings = settings or load(ChaosSettings)
    config, secrets = resolve_configuration(loaded.document)
    ext = loaded.traceo
    lines = [f"Experiment: {loaded.title} ({loaded.path})", f"Service: {ext.service}"]
    limit = min(ext.max_duration_seconds, settings.max_duration_seconds)
    lines.append(
        f"Limits: max duration {limit:g} s (planned holds {loaded.planned_seconds():g} s); "
        f"allowlist env={settings.allowlist or 'not set'} experiment={ext.allowed_targets or '-'}"
    )
    if ext.preflight:
        p = ext.preflight
        lines.append(
            f"Pre-flight: refuse if {p.slo} burns over {p.max_burn_rate:g}x "
            f"in the last {p.window_seconds:g} s"
        )
    if ext.checks:
        where = "check_results (counted in SLOs)" if ext.count_in_slo else "tagged with the run"
        lines.append(
            f"Continuous checks every {ext.check_interval_seconds:g} s: "
            f"{', '.join(ext.checks)} ({where})"
        )
    if ext.safeguard:
        g = ext.safeguard
        rules = []
        if g.max_burn_rate and g.slo:
            rules.append(f"{g.slo} burns over {g.max_burn_rate:g}x in {g.window_seconds:g} s")
        if g.max_consecutive_failures:
            rules.append(f"a check fails {g.max_consecutive_failures} times in a row")
        lines.append(f"Safeguard during the method: abort when {' or '.join(rules) or '-'}")
    hypothesis = loaded.spec.steady_state_hypothesis
    if hypothesis:
        lines.append(f"Steady state ({ext.hypothesis.strategy}): {hypothesis.title}")
        lines.extend(f"  - {_describe(p, config, secrets)}" for p in hypothesis.probes)
    lines.append("Method:")
    lines.extend(
        f"  {i}. {_describe(a, config, secrets)}" for i, a in enumerate(loaded.spec.method, 1)
    )
    lines.append(f"Rollbacks (strategy {ext.rollback_strategy}, then every open fault):")
    lines.extend(f"  - {_describe(a, config, secrets)}" for a in loaded.spec.rollbacks)
    return lines
