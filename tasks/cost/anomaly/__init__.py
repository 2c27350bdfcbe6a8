"""Cost anomaly detection: monitors as code, vectorised seasonal scoring, root causes, alerts.

Modules, from the data up:

* :mod:`~tasks.cost.anomaly.monitors` - the monitors YAML (validated pydantic models).
* :mod:`~tasks.cost.anomaly.series` - each monitor's daily series from the cost lines in the lake.
* :mod:`~tasks.cost.anomaly.scoring` - expectation, robust spread and score of every day of
  every series as one numpy matrix; the anomaly rules.
* :mod:`~tasks.cost.anomaly.episodes` - consecutive anomalous days merged into anomalies.
* :mod:`~tasks.cost.anomaly.root_causes` - service / region / sub-account / usage contributions.
* :mod:`~tasks.cost.anomaly.store`, :mod:`~tasks.cost.anomaly.feedback` - idempotent
  persistence and yes / no / planned feedback.
* :mod:`~tasks.cost.anomaly.alerting` - immediate notices and daily digests via notification
  blocks.
* :mod:`~tasks.cost.anomaly.detect` - the pipeline; :mod:`~tasks.cost.anomaly.tasks` - its
  Prefect tasks; :mod:`~tasks.cost.anomaly.report` - listings and artifact rows.

Nothing is imported here, so ``import tasks.cost.anomaly.scoring`` stays light.
"""
