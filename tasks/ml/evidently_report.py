"""Evidently's DataDriftPreset report for a monitoring window, for humans (the gate uses drift.py).

``import evidently`` takes ~10 s, so it happens inside :func:`run_report` only. The report gets
the same column types as the fast engine (explicit, or inferred by
:func:`tasks.ml.drift.column_kinds`), so both judge the same thing;
:meth:`EvidentlyReport.decisions` reads Evidently's per-column decisions back as a
:class:`~tasks.ml.drift.DriftResult` for comparison. ``include_tests=True`` is required: without
it the per-column decisions are missing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tasks.errors import NotFoundError
from tasks.ml.drift import DRIFT_SHARE, ColumnDrift, DriftResult, Kind, column_kinds

__all__ = ["EvidentlyReport", "run_report", "write_report"]


@dataclass(frozen=True)
class EvidentlyReport:
    """A computed Evidently snapshot with the column types it was given."""

    snapshot: Any
    kinds: dict[str, Kind]
    n_reference: int
    n_current: int
    drift_share: float

    def save_html(self, path: Path | str) -> Path:
        """Write the self-contained HTML report (~5 MB) and return its path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.snapshot.save_html(str(target))
        return target

    def decisions(self) -> DriftResult:
        """Evidently's per-column methods, scores, thresholds, decisions and its dataset call."""
        payload = self.snapshot.dict()
        failed = {
            t["metric_config"]["metric_id"] for t in payload["tests"] if t["status"] == "FAIL"
        }
        names = _method_names()
        columns: list[ColumnDrift] = []
        dataset_drift = False
        share = 0.0
        for metric in payload["metrics"]:
            config = metric["config"]
            if config["type"].endswith(":DriftedColumnsCount"):
                share = float(metric["value"]["share"])
                dataset_drift = metric["id"] in failed
            elif config["type"].endswith(":ValueDrift"):
                column = config["column"]
                columns.append(
                    ColumnDrift(
                        column=column,
                        kind=self.kinds[column],
                        method=names.get(config["method"], config["method"]),
                        score=float(metric["value"]),
                        threshold=float(config["threshold"]),
                        drifted=metric["id"] in failed,
                    )
                )
        return DriftResult(
            columns=columns,
            drifted_share=share,
            dataset_drift=dataset_drift,
            n_reference=self.n_reference,
            n_current=self.n_current,
            drift_share=self.drift_share,
        )


def run_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str] | None = None,
    categorical: list[str] | None = None,
    drift_share: float = DRIFT_SHARE,
) -> EvidentlyReport:
    """Run ``Report([DataDriftPreset()], include_tests=True)`` on the two windows.

    Raises:
        NotFoundError: a column is missing from a window.
    """
    with warnings.catch_warnings():  # its dependencies' deprecation noise, once per process
        warnings.simplefilter("ignore", DeprecationWarning)
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset

    names = list(reference.columns) if columns is None else list(columns)
    for frame, side in ((reference, "reference"), (current, "current")):
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise NotFoundError(f"columns {missing} are missing from the {side} window")
    kinds = column_kinds(reference, names, categorical)
    definition = DataDefinition(
        numerical_columns=[c for c in names if kinds[c] == "numeric"],
        categorical_columns=[c for c in names if kinds[c] == "categorical"],
    )
    report = Report([DataDriftPreset(columns=names, drift_share=drift_share)], include_tests=True)
    snapshot = report.run(
        current_data=Dataset.from_pandas(current[names], data_definition=definition),
        reference_data=Dataset.from_pandas(reference[names], data_definition=definition),
    )
    return EvidentlyReport(snapshot, kinds, len(reference), len(current), drift_share)


def write_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    path: Path | str,
    columns: list[str] | None = None,
    categorical: list[str] | None = None,
) -> Path:
    """Run the report and save it as HTML; returns the file's path."""
    return run_report(reference, current, columns, categorical).save_html(path)


def _method_names() -> dict[str, str]:
    """Evidently's display names ('K-S p_value') -> stat-test names ('ks') used by drift.py."""
    from evidently.legacy.calculations.stattests import registry

    return {
        test.display_name: name
        for name, by_type in registry._registered_stat_tests.items()
        for test in by_type.values()
    }
