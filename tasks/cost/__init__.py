"""Cloud cost: ingestion normalised to FOCUS 1.2 and anomaly scoring.

- :mod:`tasks.cost.focus` the FOCUS 1.2 column model; :mod:`tasks.cost.normalise` validation
- :mod:`tasks.cost.sources` one ``CostSource`` interface: AWS Cost Explorer, FOCUS files (local or
  S3), the Google Cloud billing export + Cloud Billing API, snapshots for tests
- :mod:`tasks.cost.ingest` idempotent writes (a source's period replaced in one transaction)
- :mod:`tasks.cost.arrow_pool` the Arrow allocator ingestion runs on (jemalloc)
- :mod:`tasks.cost.report` summaries for the CLI and artifacts
- :mod:`tasks.cost.tasks` Prefect tasks (and :mod:`flows.cost` the flows)
- :mod:`tasks.cost.anomaly` anomaly scoring

Kept free of imports so that importing a submodule stays cheap.
"""

__all__: list[str] = []
