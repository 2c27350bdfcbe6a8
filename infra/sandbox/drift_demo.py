"""The drift part of ``traceo demo``: features, a stable window, drift, retraining, the gate.

:func:`run_drift_demo` generates six weeks of card payments up to today (nothing downloaded),
with a covariate shift (a marketplace partnership) in the last two weeks, writes them to the
feature repository under ``<home>/ml``, materialises the online store and trains the first
champion. It then monitors three weekly windows with the shipped policy
(``deployments/ml/policy.yaml``: drift in 2 consecutive windows triggers a retrain): a stable
window (no action), the first drifted week (drift, wait for a second window), the second
drifted week (retrain; the challenger is promoted or kept with its reasons). It prints the
Evidently report of the last window and scores a few customers online with the champion.

It calls the same functions the ``monitor-drift`` and ``retrain-model`` flows run, without
starting more flow runs, to stay quick (Feast and Evidently imports are most of its time).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

__all__ = ["run_drift_demo"]

MODEL = "payments-fraud"
ROWS_PER_DAY = 400
WEEKS = 6


def run_drift_demo(echo: Callable[[str], None], engine: Engine, home: Path) -> dict[str, Any]:
    """Run the drift story on ``engine`` (the demo store) under ``home``; return what happened."""
    from tasks.ml.dataset import generate
    from tasks.ml.features import FeatureRepo, materialize, score_online, write_source
    from tasks.ml.monitor import assess_window, record_window, write_window_report
    from tasks.ml.policy import load_policy
    from tasks.ml.registry import CHAMPION, alias_version, load_artifact
    from tasks.ml.retrain import retrain

    policy = load_policy().for_model(MODEL)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    drift_start = today - timedelta(days=14)
    repo = FeatureRepo.default(home)
    for own in (repo.root, home / "models" / MODEL):  # the demo's own files: start clean
        shutil.rmtree(own, ignore_errors=True)
    frame = generate(
        today - timedelta(weeks=WEEKS),
        7 * WEEKS,
        ROWS_PER_DAY,
        scenario="covariate_shift",
        drift_start=drift_start,
        seed=7,
    )
    write_source(repo, frame)
    echo(
        f"Drift: {len(frame):,} generated card payments over {WEEKS} weeks (covariate shift "
        f"from {drift_start:%Y-%m-%d}) written to the Feast repository in {repo.root}"
    )
    customers = materialize(repo, datetime.now(UTC))
    echo(f"Materialised the online store (SQLite): {customers:,} customers in the source")

    def run_retrain(end: datetime, trigger: list[str]) -> Any:
        return retrain(
            engine,
            repo,
            policy,
            end,
            holder=uuid.uuid4().hex,
            trigger=trigger,
            artifact_dir=home / "models",
        )

    first = run_retrain(today - timedelta(days=14), ["demo: first model"])
    echo(f"First champion: v{first.version} ({'; '.join(first.reasons)})")

    report = None
    windows: list[dict[str, Any]] = []
    for days_back in (14, 7, 0):
        outcome = assess_window(engine, repo, policy, today - timedelta(days=days_back))
        drifted = outcome.drift.dataset_drift
        if days_back == 0:  # one Evidently report (the flows write one per window)
            report = write_window_report(outcome, home)
        record_window(engine, outcome)
        summary = outcome.summary()
        windows.append(summary)
        columns = ", ".join(summary["drifted_columns"]) or "none"
        echo(
            f"Window {outcome.window_start:%Y-%m-%d}..{outcome.window_end:%Y-%m-%d}: "
            f"{outcome.rows:,} rows, dataset drift {'YES' if drifted else 'no'} "
            f"({summary['drifted_share']:.0%}: {columns}) -> {outcome.verdict.action}"
        )
        for reason in outcome.verdict.reasons[-1:]:
            echo(f"  {reason}")
        if outcome.verdict.action == "retrain":
            result = run_retrain(outcome.window_end, list(outcome.verdict.reasons))
            echo(f"  Retrained: challenger v{result.version} {result.action.upper()}")
            for reason in result.reasons:
                echo(f"    - {reason}")
            summary["retrain"] = result.summary()

    champion = alias_version(engine, MODEL, CHAMPION)
    if champion is None:  # the story above always ends with a champion
        raise RuntimeError(f"drift demo: no champion of {MODEL} after the retrain")
    recent = frame[frame["event_timestamp"] >= today - timedelta(days=2)]
    ids = [int(e) for e in recent["entity_id"].drop_duplicates().head(5)]
    scored = score_online(repo, load_artifact(champion), ids)
    scores = ", ".join(f"{int(r.entity_id)}: {r.score:.3f}" for r in scored.itertuples())
    echo(f"Online scoring with champion v{champion.version} (Feast online store): {scores}")
    if report is not None:
        echo(f"Evidently report of the last window: {report}")
    echo("Registry: traceo model list; decisions: traceo drift history")
    return {"windows": windows, "champion": champion.version, "report": report}
