from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from deployments.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "deployments" / "checks"


def test_validate_prints_a_summary_for_valid_files() -> None:
    result = CliRunner().invoke(main, ["checks", "validate", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    texts = [p.read_text(encoding="utf-8") for p in EXAMPLES.glob("*.yaml")]
    files = sum("\nchecks:" in text for text in texts)
    windows = sum(text.count("\n  - id:") for text in texts if "\nmaintenance:" in text)
    assert result.output.startswith("OK: ")
    assert result.output.rstrip().endswith(f"in {files} files, {windows} maintenance windows")


def test_validate_reports_a_bad_maintenance_window(tmp_path: Path) -> None:
    (tmp_path / "checks.yaml").write_text(
        "checks:\n  - {id: one, service: s, request: {url: 'http://x'}}\n", encoding="utf-8"
    )
    windows = tmp_path / "maintenance.yaml"
    windows.write_text(
        "maintenance:\n  - {id: w, service: nope, start: 2027-01-01T00:00, "
        "end: 2027-01-01T01:00, reason: r}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["checks", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {windows}: w: maintenance[0].service: unknown service 'nope' (known: s)",
        "1 problem(s) found",
    ]


def test_validate_prints_every_problem_and_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "checks:\n"
        "  - {id: one, service: s, request: {url: 'http://x', verb: GET}}\n"
        "  - {id: two, service: s, degraded_ms: 9, failed_ms: 5, request: {url: 'http://x'}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["checks", "validate", str(bad), str(EXAMPLES)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert f"error: {bad}: one: checks[0].request.verb: unknown field (not supported)" in lines
    assert any(line.startswith(f"error: {bad}: two: checks[1].failed_ms: ") for line in lines)
    assert lines[-1] == "2 problem(s) found"


def test_validate_reports_a_missing_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["checks", "validate", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1 and "file not found" in result.stderr


def test_validate_needs_a_path() -> None:
    result = CliRunner().invoke(main, ["checks", "validate"])
    assert result.exit_code == 2  # click usage error
