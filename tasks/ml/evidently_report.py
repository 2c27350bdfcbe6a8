"""Evidently's DataDriftPreset report for a monitoring window, for humans (the gate uses drift.py).

``import evidently`` takes ~10 s, so it happens inside :func:`run_report` only. The report gets
the same column kinds as the fast engine (from the feature schema, or inferred by the rules of
:mod:`tasks.ml.column_types`) as its data definition, and judges the same columns, so both judge
the same thing;
:meth:`EvidentlyReport.decisions` reads Evidently's per-column decisions back as a
:class:`~tasks.ml.drift.DriftResult` for comparison. ``include_tests=True`` is required: without
it the per-column decisions are missing.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from tasks.errors import NotFoundError
from tasks.ml.column_types import JUDGED_KINDS, Kind, evidently_definition, resolve_kinds
from tasks.ml.drift import DRIFT_SHARE, ColumnDrift, DriftResult

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
    kinds: Mapping[str, Kind] | None = None,
    drift_share: float = DRIFT_SHARE,
) -> EvidentlyReport:
    """Run ``Report([DataDriftPreset()], include_tests=True)`` on the two windows.

    Args:
        reference: the reference window.
        current: the window to check.
        columns: the columns (default: every column of ``reference``); leave out the features
            the fast engine could not judge (its result's ``problems``).
        kinds: column kinds, for the data definition (default: inferred on ``reference`` by
            :func:`tasks.ml.column_types.infer_kind`); text, datetime and ignored columns are
            defined but not judged, as in the fast engine.
        drift_share: share of drifted columns that makes the dataset drift.

    Raises:
        NotFoundError: a column to judge is missing from a window.
    """
    with warnings.catch_warnings():  # its dependencies' deprecation noise, once per process
        warnings.simplefilter("ignore", DeprecationWarning)
        from evidently import Dataset, Report
        from evidently.presets import DataDriftPreset

    names = list(reference.columns) if columns is None else list(columns)
    for frame, side in ((reference, "reference"), (current, "current")):
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise NotFoundError(f"columns {missing} are missing from the {side} window")
    resolved = resolve_kinds((reference,), names, kinds)
    defined = {c: k for c, k in resolved.items() if k != "ignored"}
    judged = [c for c in names if resolved[c] in JUDGED_KINDS]
    definition = evidently_definition(defined)
    report = Report([DataDriftPreset(columns=judged, drift_share=drift_share)], include_tests=True)
    snapshot = report.run(
        current_data=Dataset.from_pandas(_prepared(current, defined), data_definition=definition),
        reference_data=Dataset.from_pandas(
            _prepared(reference, defined), data_definition=definition
        ),
    )
    return EvidentlyReport(snapshot, resolved, len(reference), len(current), drift_share)


def write_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    path: Path | str,
    columns: list[str] | None = None,
    kinds: Mapping[str, Kind] | None = None,
) -> Path:
    """Run the report and save it as HTML; returns the file's path."""
    return run_report(reference, current, columns, kinds).save_html(path)


def _prepared(frame: pd.DataFrame, kinds: Mapping[str, Kind]) -> pd.DataFrame:
    """The columns as Evidently can take them; the values it judges are unchanged.

    Numeric columns with a pandas nullable dtype (``Int64``, ``Float64``) become float64 with
    NaN for ``pd.NA``: Evidently's correlation step fails on them. Float +-inf become NaN: its
    dataset count drops +-inf only from columns that also hold a NaN (its column test always
    drops them), so a column with +-inf and no NaN would be flagged by one and not the other.
    """
    columns: dict[str, pd.Series] = {}
    for name, kind in kinds.items():
        values = frame[name]
        dtype = values.dtype
        floating = not isinstance(dtype, np.dtype) or dtype.kind == "f"  # nullable or float
        if kind == "numeric" and floating and ptypes.is_numeric_dtype(dtype):
            floats = values.to_numpy(dtype=np.float64, na_value=np.nan)
            values = pd.Series(np.where(np.isinf(floats), np.nan, floats), index=frame.index)
        columns[name] = values
    return pd.DataFrame(columns, index=frame.index)


def _method_names() -> dict[str, str]:
    """Evidently's display names ('K-S p_value') -> stat-test names ('ks') used by drift.py."""
    from evidently.legacy.calculations.stattests import registry

    return {
        test.display_name: name
        for name, by_type in registry._registered_stat_tests.items()
        for test in by_type.values()
    }
