"""Engine test of the drift flows: bootstrap, drift -> retrain, rerun under cooldown, refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytestmark = [pytest.mark.engine, pytest.mark.slow]

MODEL = "flowdrift-fraud"
POLICY = f"""
models:
  - name: {MODEL}
    window_days: 7
    consecutive_windows: 1
    min_rows: 1000
    cooldown_hours: 72
    training: {{days: 21, holdout_days: 7}}
    promotion: {{metric: roc_auc, min_improvement: 0.0, slices: [channel], min_slice_rows: 200}}
"""


def test_drift_triggers_one_retrain_and_a_rerun_respects_the_cooldown(prefect_server, tmp_path):
    from flows.drift import materialize_features, monitor_drift, retrain_model
    from tasks.ml.dataset import generate
    from tasks.ml.decisions import list_decisions
    from tasks.ml.features import FeatureRepo, write_source
    from tasks.ml.registry import list_versions
    from tasks.ml.tasks import retrain_slot
    from tasks.store import get_engine

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    frame = generate(
        today - timedelta(days=35),
        35,
        250,
        scenario="covariate_shift",
        drift_start=today - timedelta(days=7),
        seed=4,
    )
    write_source(FeatureRepo.default(), frame)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)

    assert materialize_features()["customers"] > 0
    first = retrain_model(MODEL, (today - timedelta(days=7)).isoformat(), str(policy))
    assert first["action"] == "promoted" and first["version"] == 1

    window = today.isoformat()
    checked = monitor_drift(MODEL, window, str(policy))
    assert checked["dataset_drift"] and checked["action"] == "retrain"
    assert checked["retrain"]["action"] in {"promoted", "kept"}
    assert Path(checked["report"]).is_file()

    rerun = monitor_drift(MODEL, window, str(policy), report=False)
    assert rerun["action"] == "skip"
    assert any("cooldown" in r for r in rerun["reasons"])

    with retrain_slot(MODEL):
        refused = retrain_model(MODEL, window, str(policy))
    assert refused["action"] == "refused"
    assert "already" in refused["reasons"][0] or "holds" in refused["reasons"][0]

    engine = get_engine()
    assert [v.version for v in list_versions(engine, MODEL)] == [2, 1]
    monitors = list_decisions(engine, MODEL, "monitor")
    assert len(monitors) == 1 and monitors[0].action == "skip"  # the rerun replaced its window
    retrains = [d.action for d in list_decisions(engine, MODEL, "retrain")]
    assert retrains.count("refused") == 1 and len(retrains) == 3


def test_a_retried_retrain_run_reuses_the_finished_retrain(prefect_server, tmp_path, monkeypatch):
    import tasks.ml.tasks as ml_tasks
    from flows.drift import retrain_model
    from tasks.errors import ServiceUnavailableError
    from tasks.ml.retrain import RetrainOutcome
    from tests.retrying import retry_flow_run

    trained: list[str] = []
    published: list[str] = []

    def train(engine, repo, policy, end, **kwargs):  # type: ignore[no-untyped-def]
        trained.append(policy.name)
        return RetrainOutcome(policy.name, "promoted", ["better"], version=2, champion_before=1)

    def publish(text, **kwargs):  # type: ignore[no-untyped-def]
        published.append(text)
        if len(published) == 1:
            raise ServiceUnavailableError("the Prefect API is down")

    monkeypatch.setattr(ml_tasks, "retrain", train)
    monkeypatch.setattr(ml_tasks, "create_markdown_artifact", publish)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    failed = retrain_model(MODEL, "2026-01-05T00:00:00+00:00", str(policy), return_state=True)
    assert failed.is_failed() and trained == [MODEL]

    retried = retry_flow_run(retrain_model, failed.state_details.flow_run_id)
    assert retried.is_completed(), retried.message
    assert trained == [MODEL]  # the finished retrain was reused, not trained again
    assert len(published) == 2 and retried.result()["version"] == 2
