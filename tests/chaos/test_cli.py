"""``traceo chaos validate`` and ``traceo chaos run --dry-run``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from deployments.cli_chaos import chaos

EXAMPLES = Path(__file__).resolve().parents[2] / "deployments" / "experiments"


def test_validate_accepts_the_examples():
    result = CliRunner().invoke(chaos, ["validate", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    assert result.output.count("OK: ") == 2


def test_validate_exits_non_zero_and_names_every_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: t\ndescription: d\nmethod: []\nrollback: []\n", encoding="utf-8")

    result = CliRunner().invoke(chaos, ["validate", str(EXAMPLES), str(bad)])

    assert result.exit_code == 1
    assert f"error: {bad}: t: rollback: unknown field (not supported)" in result.output
    assert f"error: {bad}: t: extensions: needs exactly one extension named traceo" in result.output
    assert "2 problem(s) found" in result.output


def test_dry_run_prints_the_plan_and_injects_nothing():
    path = EXAMPLES / "shop-latency-2s.yaml"
    result = CliRunner().invoke(chaos, ["run", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "inject latency (latency=2000) on proxy:shop" in result.output
    assert (
        "Safeguard during the method: abort when shop-api-latency burns over 10x" in result.output
    )


def test_run_reports_spec_errors_with_exit_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: t\n", encoding="utf-8")
    result = CliRunner().invoke(chaos, ["run", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: t: description: Field required" in result.output
