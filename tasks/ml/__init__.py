"""Drift-triggered retraining: the reference use case, drift monitoring and the retraining gate.

Modules:

- :mod:`tasks.ml.dataset`: the generated card-payment fraud data set (seasonality, drift scenarios).
- :mod:`tasks.ml.drift`: the fast numpy/scipy drift engine reproducing Evidently's defaults
  (features, predictions, performance once labels arrive); the gate uses it.
- :mod:`tasks.ml.evidently_report`: the Evidently DataDriftPreset HTML report for humans, and its
  per-column decisions for comparison (Evidently is imported lazily).
- :mod:`tasks.ml.features`: the Feast feature repository, materialisation and feature retrieval.
- :mod:`tasks.ml.train`: scikit-learn training, time-based holdout evaluation, the promotion gate.
- :mod:`tasks.ml.registry`: the model registry in the store (versions, champion/challenger aliases).
- :mod:`tasks.ml.policy`: the retraining trigger policy (YAML) and the decision it drives.
- :mod:`tasks.ml.decisions`, :mod:`tasks.ml.monitor`, :mod:`tasks.ml.retrain`,
  :mod:`tasks.ml.tasks`: recorded decisions, one monitoring window, one retrain, Prefect tasks.
"""
