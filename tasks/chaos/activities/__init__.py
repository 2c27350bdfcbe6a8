"""Chaos Toolkit activities (python providers) for experiment files.

- :mod:`tasks.chaos.activities.faults`: ``inject_fault``, ``hold``, ``remove_fault`` (actions);
- :mod:`tasks.chaos.activities.slo`: ``slo_budget_remaining``, ``slo_burn_rate``,
  ``check_verdict``, ``check_latency_percentile`` (probes for hypotheses, with tolerances).
"""
