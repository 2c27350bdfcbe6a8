"""The Feast feature repository of the payments-fraud use case.

:mod:`.definitions` declares the ``customer`` entity and the ``payments`` feature view over the
Parquet file that the upstream pipeline (the generator, in the sandbox) writes. The repository's
``feature_store.yaml`` is written at run time under ``$TRACEO_HOME/ml/feature_repo`` (see
:mod:`tasks.ml.features`), so every path in it is local to the machine: the file offline store
(Dask over Parquet), a SQLite online store and a file registry.
"""

__all__: list[str] = []
