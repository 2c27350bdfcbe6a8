"""The drift part of the demo: stable window, a wait, a retrain, a report, online scores."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # Feast + Evidently imports and a Feast materialisation


def test_drift_demo_tells_the_whole_story(tmp_path):
    from infra.sandbox.drift_demo import run_drift_demo
    from tasks.ml.registry import list_versions
    from tasks.store import get_engine

    engine = get_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    lines: list[str] = []
    out = run_drift_demo(lines.append, engine, tmp_path / "home")
    text = "\n".join(lines)
    actions = [w["action"] for w in out["windows"]]
    assert actions == ["none", "none", "retrain"], text
    windows = [line for line in lines if line.startswith("Window ")]
    assert "dataset drift no" in windows[0] and "dataset drift YES" in windows[1], text
    assert "drift in 1 of 2 required consecutive windows: wait" in text
    retrained = out["windows"][-1]["retrain"]
    assert retrained["action"] in {"promoted", "kept"}
    assert f"challenger v2 {retrained['action'].upper()}" in text
    assert Path(out["report"]).is_file()
    assert "Online scoring with champion" in text
    versions = list_versions(engine, "payments-fraud")
    assert [v.version for v in versions] == [2, 1]
    assert all(Path(v.artifact_uri).is_relative_to(tmp_path / "home") for v in versions)
