"""Every `traceo` command ends an expected failure in one line on stderr, never a traceback."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from deployments.cli import main
from deployments.cli_errors import TraceoGroup
from tasks.errors import ServiceUnavailableError


def _one_line_failure(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    return line


def _group_raising(exc: Exception) -> click.Group:
    @click.group(cls=TraceoGroup)
    def cli() -> None:
        pass

    @cli.group()
    def sub() -> None:
        pass

    @sub.command()
    def fail() -> None:
        raise exc

    return cli


def test_an_unreachable_store_is_one_line_without_the_password(monkeypatch) -> None:
    monkeypatch.setenv("TRACEO_DATABASE_URL", "postgresql+psycopg://u:s3cret-pw@127.0.0.1:9/x")
    line = _one_line_failure(CliRunner().invoke(main, ["db", "upgrade"]))
    assert line.startswith("error: ")
    assert "s3cret-pw" not in line


def test_a_spec_refused_by_a_loader_is_one_line(tmp_path, monkeypatch) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  x:\n    type: [focus_files]\n", encoding="utf-8")
    monkeypatch.setenv("TRACEO_COST_SOURCES", str(sources))
    result = CliRunner().invoke(
        main, ["cost", "ingest", "--source", "x", "--from", "2024-09-01", "--to", "2024-09-30"]
    )
    assert _one_line_failure(result) == (
        f"error: {sources}: x: type: must be one of aws_cost_explorer, aws_data_export, "
        "focus_files, gcp_billing, gcp_bigquery_export"
    )


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            RuntimeError(
                "Timed out while attempting to connect to ephemeral Prefect API server. "
                "stdout: lots of server output"
            ),
            "error: the temporary Prefect server did not start in 45 s (a busy machine: raise "
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or set PREFECT_API_URL to a "
            "running server)",
        ),
        (
            ValueError("Unable to find block document named finops for block type aws-credentials"),
            "error: block finops is not saved (create it in the Prefect UI or with its .save())",
        ),
        (
            ServiceUnavailableError("the store is being migrated by another process; retry"),
            "error: the store is being migrated by another process; retry",
        ),
        (
            ModuleNotFoundError("No module named 'feast'", name="feast"),
            "error: feast not installed: pip install 'traceo-jobs[drift]'",
        ),
    ],
)
def test_expected_failures_in_any_subcommand_are_one_line(exc, expected, monkeypatch) -> None:
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "45")
    result = CliRunner().invoke(_group_raising(exc), ["sub", "fail"])
    assert _one_line_failure(result) == expected


def test_a_bug_keeps_its_traceback() -> None:
    result = CliRunner().invoke(_group_raising(ZeroDivisionError("bug")), ["sub", "fail"])
    assert isinstance(result.exception, ZeroDivisionError)
