"""Features through Feast: the source files, apply, materialisation, training sets, online scoring.

The repository lives under ``$TRACEO_HOME/ml/feature_repo`` (``feature_store.yaml`` is written
there at run time, so its paths are local): ``data/payments.parquet`` holds the payments (the
feature source), ``data/labels.parquet`` the delayed labels, ``data/registry.db`` Feast's registry
and ``data/online_store.db`` the SQLite online store.

- :func:`write_source` merges new payments and labels into the Parquet files; the natural key is
  ``(entity_id, event_timestamp)``, so writing the same rows twice changes nothing.
- :func:`materialize` applies the definitions and materialises incrementally up to ``end``.
- :func:`training_set` joins labels to features point in time with ``get_historical_features``.
- :func:`window_frame` reads one monitoring window straight from the source (the same file
  Feast's offline store reads) without paying for a Dask join.
- :func:`score_online` reads each customer's latest features from the online store and scores.

``import feast`` costs about 10 s: it happens inside the functions that need it.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tasks.errors import ConfigurationError, NotFoundError
from tasks.ml.feature_repo.definitions import FEATURE_TYPES, FEATURE_VIEW, definitions

__all__ = [
    "FeatureRepo",
    "apply",
    "materialize",
    "score_online",
    "training_set",
    "window_frame",
    "write_labels",
    "write_source",
]

ENTITY = "entity_id"
TIMESTAMP = "event_timestamp"
LABEL = "label"
FEATURES = list(FEATURE_TYPES)
_PROJECT = "traceo_ml"
_YAML = """\
# Written by tasks.ml.features at run time: every path is local to this machine.
project: {project}
registry: {data}/registry.db
provider: local
online_store:
  type: sqlite
  path: {data}/online_store.db
offline_store:
  type: file
entity_key_serialization_version: 3
"""


@dataclass(frozen=True)
class FeatureRepo:
    """The feature repository's files under one root directory."""

    root: Path

    @classmethod
    def default(cls, home: Path | None = None) -> FeatureRepo:
        from tasks.settings import get_settings

        return cls((home or get_settings().home) / "ml" / "feature_repo")

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def source_path(self) -> Path:
        return self.data / "payments.parquet"

    @property
    def labels_path(self) -> Path:
        return self.data / "labels.parquet"

    def store(self) -> Any:
        """A ``feast.FeatureStore`` on this repository (``feature_store.yaml`` written first)."""
        from feast import FeatureStore

        self.data.mkdir(parents=True, exist_ok=True)
        config = self.root / "feature_store.yaml"
        text = _YAML.format(project=_PROJECT, data=self.data)
        if not config.is_file() or config.read_text() != text:
            config.write_text(text)
        return FeatureStore(repo_path=str(self.root))


def _utc_us(values: pd.Series) -> pd.Series:
    """UTC timestamps floored to microseconds (Parquet readers reject nanoseconds)."""
    stamps = pd.to_datetime(values, utc=True)
    return stamps.dt.floor("us").astype("datetime64[us, UTC]")


def _merge(path: Path, new: pd.DataFrame) -> int:
    """Merge ``new`` into the Parquet file at ``path`` on the natural key; return rows added."""
    new = new.drop_duplicates([ENTITY, TIMESTAMP], keep="last")
    if path.is_file():
        old = pd.read_parquet(path)
        before = len(old)
        merged = pd.concat([old, new], ignore_index=True)
        merged = merged.drop_duplicates([ENTITY, TIMESTAMP], keep="last")
    else:
        before, merged = 0, new
    merged = merged.sort_values([TIMESTAMP, ENTITY], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    merged.to_parquet(tmp, index=False)
    tmp.replace(path)  # readers never see a half-written file
    return len(merged) - before


def write_source(repo: FeatureRepo, frame: pd.DataFrame, *, labels: bool = True) -> int:
    """Merge payments (and, with ``labels``, their labels) into the source files.

    Returns the number of new payments; a rerun with the same rows returns 0.
    """
    missing = [c for c in [ENTITY, TIMESTAMP, *FEATURES] if c not in frame.columns]
    if missing:
        raise ConfigurationError(f"payments frame lacks column(s) {', '.join(missing)}")
    data = frame.copy()
    data[TIMESTAMP] = _utc_us(data[TIMESTAMP])
    added = _merge(repo.source_path, data[[ENTITY, TIMESTAMP, *FEATURES]])
    if labels and LABEL in data.columns:
        write_labels(repo, data[[ENTITY, TIMESTAMP, LABEL]])
    return added


def write_labels(repo: FeatureRepo, labels: pd.DataFrame) -> int:
    """Merge delayed labels (``entity_id``, ``event_timestamp``, ``label``); return rows added."""
    missing = [c for c in (ENTITY, TIMESTAMP, LABEL) if c not in labels.columns]
    if missing:
        raise ConfigurationError(f"labels frame lacks column(s) {', '.join(missing)}")
    data = labels[[ENTITY, TIMESTAMP, LABEL]].copy()
    data[TIMESTAMP] = _utc_us(data[TIMESTAMP])
    return _merge(repo.labels_path, data)


def apply(repo: FeatureRepo) -> Any:
    """Register the entity and feature view with Feast; return the store."""
    store = repo.store()
    store.apply(definitions(repo.source_path))
    return store


def materialize(repo: FeatureRepo, end: datetime) -> int:
    """Apply, then materialise new source rows up to ``end`` into the online store.

    Incremental: Feast remembers where the last run stopped, so a rerun for the same ``end``
    loads nothing new. Returns the number of customers in the online window (for the log).
    """
    if not repo.source_path.is_file():
        raise NotFoundError(f"no feature source at {repo.source_path}: write payments first")
    store = apply(repo)
    with contextlib.redirect_stdout(io.StringIO()):  # Feast prints coloured progress bars
        store.materialize_incremental(end_date=end)
    return int(pd.read_parquet(repo.source_path, columns=[ENTITY])[ENTITY].nunique())


def _read_window(
    path: Path, start: datetime, end: datetime, columns: list[str] | None
) -> pd.DataFrame:
    if not path.is_file():
        raise NotFoundError(f"no data at {path}: write payments first")
    at, until = pd.Timestamp(start), pd.Timestamp(end)
    frame = pd.read_parquet(
        path, columns=columns, filters=[(TIMESTAMP, ">=", at), (TIMESTAMP, "<", until)]
    )
    return frame.sort_values([TIMESTAMP, ENTITY], ignore_index=True)


def window_frame(
    repo: FeatureRepo, start: datetime, end: datetime, *, with_labels: bool = False
) -> pd.DataFrame:
    """Payments in ``[start, end)`` from the feature source (optionally with known labels)."""
    frame = _read_window(repo.source_path, start, end, None)
    if with_labels and repo.labels_path.is_file():
        labels = _read_window(repo.labels_path, start, end, None)
        frame = frame.merge(labels, on=[ENTITY, TIMESTAMP], how="left")
    return frame


def training_set(repo: FeatureRepo, start: datetime, end: datetime) -> pd.DataFrame:
    """Labelled events in ``[start, end)`` with their features, joined point in time by Feast.

    Each label gets the customer's latest payment features at or before its timestamp (within
    the feature view's TTL), never a later one: no leakage from the future. Labels without such
    a payment are left out (Feast's file offline store drops them); their count is in
    ``frame.attrs["dropped_labels"]``.
    """
    labels = _read_window(repo.labels_path, start, end, None)
    if labels.empty:
        raise NotFoundError(f"no labelled events between {start.isoformat()} and {end.isoformat()}")
    store = apply(repo)
    refs = [f"{FEATURE_VIEW}:{name}" for name in FEATURES]
    job = store.get_historical_features(entity_df=labels, features=refs)
    frame = job.to_df()
    frame[TIMESTAMP] = pd.to_datetime(frame[TIMESTAMP], utc=True)
    frame = frame.dropna(subset=FEATURES).sort_values([TIMESTAMP, ENTITY], ignore_index=True)
    frame.attrs["dropped_labels"] = len(labels) - len(frame)
    return frame


def score_online(repo: FeatureRepo, estimator: Any, entity_ids: list[int]) -> pd.DataFrame:
    """Score customers on their latest online features; unknown or expired customers get NaN."""
    store = repo.store()
    refs = [f"{FEATURE_VIEW}:{name}" for name in FEATURES]
    rows = [{ENTITY: int(e)} for e in entity_ids]
    frame = store.get_online_features(features=refs, entity_rows=rows).to_df()
    known = frame[FEATURES].notna().all(axis=1)
    frame["score"] = float("nan")
    if known.any():
        frame.loc[known, "score"] = estimator.predict_proba(frame.loc[known, FEATURES])[:, 1]
    return frame
