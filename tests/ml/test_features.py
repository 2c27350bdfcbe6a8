"""The Feast feature repository: source writes, materialisation, point-in-time training sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from tasks.errors import ConfigurationError, NotFoundError
from tasks.ml.dataset import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, generate
from tasks.ml.feature_repo.definitions import FEATURE_TYPES, TTL
from tasks.ml.features import (
    FeatureRepo,
    materialize,
    score_online,
    training_set,
    window_frame,
    write_labels,
    write_source,
)
from tasks.ml.train import fit

pytestmark = pytest.mark.slow  # Feast import + apply + materialise: ~20-30 s on a busy machine

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
START = TODAY - timedelta(days=10)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A repository with ten days of payments up to today, materialised once for the module."""
    repo = FeatureRepo(tmp_path_factory.mktemp("mlfeat") / "feature_repo")
    frame = generate(START, 10, 150, seed=5)
    assert write_source(repo, frame) == len(frame.drop_duplicates(["entity_id", "event_timestamp"]))
    materialize(repo, TODAY + timedelta(days=1))
    return repo, frame


def test_the_feature_view_covers_every_model_input():
    assert set(FEATURE_TYPES) == set(FEATURES)


def test_writing_the_same_payments_twice_adds_nothing(repo):
    feature_repo, frame = repo
    assert write_source(feature_repo, frame.head(50)) == 0
    stored = pd.read_parquet(feature_repo.source_path)
    assert not stored.duplicated(["entity_id", "event_timestamp"]).any()
    assert str(stored["event_timestamp"].dtype) == "datetime64[us, UTC]"


def test_bad_frames_and_missing_sources_are_clear_errors(tmp_path):
    empty = FeatureRepo(tmp_path / "repo")
    with pytest.raises(ConfigurationError, match="lacks column"):
        write_source(empty, pd.DataFrame({"entity_id": [1]}))
    with pytest.raises(NotFoundError, match="no feature source"):
        materialize(empty, TODAY)
    with pytest.raises(NotFoundError, match="no data"):
        window_frame(empty, START, TODAY)


def test_training_set_is_point_in_time_correct(repo):
    feature_repo, frame = repo
    # Labels observed at moments unrelated to the payments: up to two days after, or before.
    rng = np.random.default_rng(11)
    labels = frame.sample(400, random_state=2)[["entity_id", "event_timestamp", "label"]].copy()
    offsets = pd.to_timedelta(rng.integers(-3_600, 2 * 86_400, len(labels)), unit="s")
    labels["event_timestamp"] = labels["event_timestamp"] + offsets
    labels = labels[labels["event_timestamp"] < TODAY]
    window = FeatureRepo(feature_repo.root.parent / "pit")
    write_source(window, frame, labels=False)
    write_labels(window, labels)
    got = training_set(window, START, TODAY)

    source = pd.read_parquet(window.source_path).sort_values("event_timestamp")
    stored = pd.read_parquet(window.labels_path).sort_values("event_timestamp")
    stored = stored[stored["event_timestamp"] >= START]
    expected = pd.merge_asof(
        stored,
        source,
        on="event_timestamp",
        by="entity_id",
        direction="backward",
        allow_exact_matches=True,
        tolerance=pd.Timedelta(TTL),
    )
    key = ["entity_id", "event_timestamp"]
    got = got.assign(event_timestamp=got["event_timestamp"].astype("datetime64[us, UTC]"))
    matched = expected.dropna(subset=["amount"])
    # Labels with no earlier payment within the TTL are left out (Feast's file store drops them),
    # exactly the rows merge_asof cannot match: no later payment leaks into them.
    assert len(matched) < len(expected)
    assert got.attrs["dropped_labels"] == len(expected) - len(matched)
    merged = matched.merge(got, on=key, suffixes=("_want", "_got"), validate="one_to_one")
    assert len(merged) == len(matched) == len(got)
    for name in FEATURES:
        want, have = merged[f"{name}_want"], merged[f"{name}_got"]
        assert (want == have).all(), f"{name}: {int((want != have).sum())} rows differ"


def test_window_frame_reads_only_the_window(repo):
    feature_repo, _ = repo
    window = window_frame(
        feature_repo, START + timedelta(days=2), START + timedelta(days=4), with_labels=True
    )
    assert len(window) == 300
    assert window["event_timestamp"].min() >= START + timedelta(days=2)
    assert window["event_timestamp"].max() < START + timedelta(days=4)
    assert window["label"].notna().all()


def test_online_scoring_uses_the_latest_materialised_features(repo):
    feature_repo, frame = repo
    model = fit(frame, NUMERIC_FEATURES, CATEGORICAL_FEATURES, "label")
    latest = frame.sort_values("event_timestamp").groupby("entity_id").tail(1)
    recent = latest[latest["event_timestamp"] >= TODAY - timedelta(days=3)].head(5)
    scored = score_online(feature_repo, model, [*recent["entity_id"], 1])
    assert len(scored) == len(recent) + 1
    assert scored["score"].iloc[:-1].between(0, 1).all()
    assert np.isnan(scored["score"].iloc[-1])  # an unknown customer is not scored
    by_id = scored.set_index("entity_id")
    for _, row in recent.iterrows():
        assert by_id.loc[row["entity_id"], "amount"] == pytest.approx(row["amount"])
