"""The model registry and the decisions table, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tasks.errors import ConfigurationError, NotFoundError
from tasks.ml.decisions import (
    Decision,
    RetrainInProgressError,
    acquire_retrain_lease,
    list_decisions,
    monitor_key,
    record_decision,
    release_retrain_lease,
)
from tasks.ml.registry import (
    CHALLENGER,
    CHAMPION,
    NoPreviousChampionError,
    alias_version,
    get_version,
    list_versions,
    load_artifact,
    promote,
    register,
    rollback,
    set_alias,
)

MODEL = "mlreg-fraud"


def _register(engine, tmp_path, auc: float, model: str = MODEL):
    return register(
        engine,
        model,
        {"weights": [auc]},
        algorithm="test",
        metrics={"auc": auc},
        features=["amount", "channel"],
        train_start=datetime(2026, 1, 1, tzinfo=UTC),
        train_end=datetime(2026, 1, 15, tzinfo=UTC),
        artifact_dir=tmp_path / "models",
    )


def test_register_numbers_versions_and_stores_the_artefact(store_engine, tmp_path):
    first = _register(store_engine, tmp_path, 0.8)
    second = _register(store_engine, tmp_path, 0.9)
    assert (first.version, second.version) == (1, 2)
    assert load_artifact(second) == {"weights": [0.9]}
    info = get_version(store_engine, MODEL, 2)
    assert info.metrics == {"auc": 0.9}
    assert info.features == ["amount", "channel"]
    assert info.train_end == datetime(2026, 1, 15, tzinfo=UTC)
    assert [v.version for v in list_versions(store_engine, MODEL)] == [2, 1]


def test_promotion_moves_the_champion_and_clears_the_challenger(store_engine, tmp_path):
    _register(store_engine, tmp_path, 0.8)
    _register(store_engine, tmp_path, 0.9)
    promote(store_engine, MODEL, 1)
    set_alias(store_engine, MODEL, CHALLENGER, 2, "kept: not better")
    assert alias_version(store_engine, MODEL, CHALLENGER).version == 2
    promoted = promote(store_engine, MODEL, 2, "manual")
    assert promoted.aliases == (CHAMPION,)
    assert alias_version(store_engine, MODEL, CHALLENGER) is None
    listed = {v.version: v.aliases for v in list_versions(store_engine)}
    assert listed == {2: (CHAMPION,), 1: ()}


def test_rollback_returns_to_the_previous_champion_and_walks_back(store_engine, tmp_path):
    for auc in (0.7, 0.8, 0.9):
        _register(store_engine, tmp_path, auc)
    for version in (1, 2, 3):
        promote(store_engine, MODEL, version)
    assert rollback(store_engine, MODEL).version == 2
    assert get_version(store_engine, MODEL, 3).rolled_back
    # A second rollback goes further back instead of bouncing back to v3.
    assert rollback(store_engine, MODEL).version == 1
    with pytest.raises(NoPreviousChampionError, match="no earlier champion"):
        rollback(store_engine, MODEL)
    assert alias_version(store_engine, MODEL, CHAMPION).version == 1
    # Promoting a rolled-back version by hand clears its flag.
    assert not promote(store_engine, MODEL, 3).rolled_back


def test_unknown_versions_models_and_aliases_are_clear_errors(store_engine, tmp_path):
    _register(store_engine, tmp_path, 0.8)
    with pytest.raises(NotFoundError, match="has no version 7"):
        promote(store_engine, MODEL, 7)
    with pytest.raises(NotFoundError, match="no champion"):
        rollback(store_engine, MODEL)
    with pytest.raises(ConfigurationError, match="unknown alias"):
        set_alias(store_engine, MODEL, "staging", 1, "x")
    with pytest.raises(ConfigurationError, match="model name"):
        _register(store_engine, tmp_path, 0.5, model="../evil")


def test_missing_artefact_is_reported(store_engine, tmp_path):
    info = _register(store_engine, tmp_path, 0.8)
    (tmp_path / "models" / MODEL).joinpath(info.artifact_uri.rsplit("/", 1)[-1]).unlink()
    with pytest.raises(NotFoundError, match="artefact"):
        load_artifact(info)


def test_concurrent_registrations_get_distinct_versions(store_engine, tmp_path):
    versions: list[int] = []

    def work() -> None:
        versions.append(_register(store_engine, tmp_path, 0.5).version)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(versions) == [1, 2, 3, 4]
    assert len({v.artifact_uri for v in list_versions(store_engine, MODEL)}) == 4


def test_a_rerun_window_replaces_its_monitoring_decision(store_engine):
    end = datetime(2026, 2, 1, tzinfo=UTC)
    for drifted in (False, True):
        decision = Decision(
            model=MODEL,
            kind="monitor",
            action="none",
            at=datetime.now(UTC),
            reasons=[f"drifted={drifted}"],
            window_end=end,
            drifted=drifted,
        )
        record_decision(store_engine, decision, natural_key=monitor_key(MODEL, end))
    rows = list_decisions(store_engine, MODEL, "monitor")
    assert len(rows) == 1
    assert rows[0].drifted is True and rows[0].reasons == ["drifted=True"]


def test_retrain_lease_refuses_a_second_retrain_until_released_or_expired(store_engine):
    acquire_retrain_lease(store_engine, MODEL, "run-a")
    with pytest.raises(RetrainInProgressError, match="already running"):
        acquire_retrain_lease(store_engine, MODEL, "run-b")
    release_retrain_lease(store_engine, MODEL, "run-b")  # not the holder: no effect
    with pytest.raises(RetrainInProgressError):
        acquire_retrain_lease(store_engine, MODEL, "run-b")
    release_retrain_lease(store_engine, MODEL, "run-a")
    acquire_retrain_lease(store_engine, MODEL, "run-b", ttl=timedelta(seconds=-1))
    # run-b's lease has expired (a crashed retrain): run-c takes it over.
    acquire_retrain_lease(store_engine, MODEL, "run-c")
    with pytest.raises(RetrainInProgressError):
        acquire_retrain_lease(store_engine, MODEL, "run-d")
