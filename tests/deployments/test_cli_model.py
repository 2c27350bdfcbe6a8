"""``traceo model`` and ``traceo drift history`` on the default (SQLite) store."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner

from deployments.cli_model import drift, model

NAME = "climodel-fraud"


def _seed(tmp_path) -> None:
    from tasks.ml.decisions import Decision, record_decision
    from tasks.ml.registry import promote, register
    from tasks.store import get_engine

    engine = get_engine()
    for auc in (0.71, 0.74):
        register(
            engine,
            NAME,
            {"auc": auc},
            algorithm="test",
            metrics={"challenger": {"metric": "roc_auc", "overall": auc}},
            features=["amount"],
            train_start=datetime(2026, 1, 1, tzinfo=UTC),
            train_end=datetime(2026, 1, 22, tzinfo=UTC),
            artifact_dir=tmp_path / "models",
        )
    promote(engine, NAME, 1)
    record_decision(
        engine,
        Decision(
            model=NAME,
            kind="retrain",
            action="kept",
            at=datetime.now(UTC),
            reasons=["challenger is not better by the required margin"],
            window_end=datetime(2026, 1, 29, tzinfo=UTC),
            version=2,
        ),
    )


def test_list_promote_and_rollback(tmp_path):
    _seed(tmp_path)
    runner = CliRunner()
    listed = runner.invoke(model, ["list", "--model", NAME])
    assert listed.exit_code == 0, listed.output
    assert "roc_auc=0.7400" in listed.output and "champion" in listed.output
    assert "2026-01-01..2026-01-22" in listed.output

    promoted = runner.invoke(model, ["promote", "2", "--model", NAME])
    assert promoted.exit_code == 0 and "champion is now v2 (was v1)" in promoted.output

    rolled = runner.invoke(model, ["rollback", "--model", NAME])
    assert rolled.exit_code == 0 and "rolled back from v2 to v1" in rolled.output
    assert "(rolled back)" in runner.invoke(model, ["list"]).output


def test_errors_are_one_line_and_exit_2(tmp_path):
    _seed(tmp_path)
    runner = CliRunner()
    missing = runner.invoke(model, ["promote", "9", "--model", NAME])
    assert missing.exit_code == 2 and "has no version 9" in missing.output
    nothing = runner.invoke(model, ["rollback", "--model", NAME])
    assert nothing.exit_code == 2 and "no earlier champion" in nothing.output


def test_drift_history_shows_decisions_with_reasons(tmp_path):
    _seed(tmp_path)
    out = CliRunner().invoke(drift, ["history", "--model", NAME])
    assert out.exit_code == 0
    assert "retrain  kept     v2 window ending 2026-01-29" in out.output
    assert "not better by the required margin" in out.output
    assert "no decisions recorded" in CliRunner().invoke(drift, ["history", "--model", "x"]).output


def test_drift_seed_writes_generated_payments_once(traceo_home):
    import pandas as pd

    args = ["seed", "--weeks", "2", "--rows-per-day", "20", "--scenario", "covariate_shift"]
    first = CliRunner().invoke(drift, args)
    assert first.exit_code == 0, first.output
    assert first.output.startswith("280 new payments (280 generated")
    source = traceo_home / "ml" / "feature_repo" / "data" / "payments.parquet"
    assert len(pd.read_parquet(source)) == 280
    again = CliRunner().invoke(drift, args)
    assert again.output.startswith("0 new payments"), again.output
