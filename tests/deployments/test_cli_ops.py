"""deployments/cli_ops.py: `traceo serve` and `traceo failure-alerts` fail with one clear line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from deployments.cli_ops import OPS_COMMANDS, _parse_params, failure_alerts, run_once, serve
from deployments.run_once import RunOutcome, render_outcomes


def test_serve_without_a_server_says_how_to_start_one(traceo_home, monkeypatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.delenv("TRACEO_RESULT_STORAGE", raising=False)
    # PREFECT_API_URL in the environment: traceo serve starts no embedded server of its own,
    # and Prefect's settings (unset here) decide what serving finds
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    with temporary_settings({PREFECT_API_URL: None}):
        result = CliRunner().invoke(serve, [])
    assert result.exit_code == 2
    assert f"results persist to directory {traceo_home / 'results'}" in result.output
    assert "error: traceo serve needs a Prefect server" in result.output
    assert "Traceback" not in result.output


def test_serve_rejects_a_malformed_result_storage_before_anything_else(monkeypatch) -> None:
    monkeypatch.setenv("TRACEO_RESULT_STORAGE", "relative/dir/x")
    result = CliRunner().invoke(serve, [])
    assert result.exit_code == 2
    assert "error: TRACEO_RESULT_STORAGE='relative/dir/x' is neither" in result.output


def test_the_commands_the_lead_wires_are_named_as_documented() -> None:
    assert [c.name for c in OPS_COMMANDS] == ["serve", "failure-alerts", "run-once"]
    assert failure_alerts.params[0].name == "block"


def test_run_once_parameters_are_json_or_strings_per_deployment() -> None:
    parsed = _parse_params(
        ("fulfil-data-subject-request.request_id=4f1c", "chargeback-monthly.dry_run=true")
    )
    assert parsed == {
        "fulfil-data-subject-request": {"request_id": "4f1c"},
        "chargeback-monthly": {"dry_run": True},
    }


@pytest.mark.parametrize("bad", ["request_id=1", "x.y", ".k=v"])
def test_a_malformed_parameter_is_refused_by_name(bad: str) -> None:
    result = CliRunner().invoke(run_once, ["--param", bad])
    assert result.exit_code == 2
    assert "DEPLOYMENT.PARAM=VALUE" in result.output


def test_run_once_without_a_server_fails_in_one_line() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: None}):
        result = CliRunner().invoke(run_once, ["--name", "slo-evaluation"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: run-once needs PREFECT_API_URL: the URL of a running server"
    )


def test_the_outcome_table_links_every_run_failed_ones_first_with_their_reason() -> None:
    table = render_outcomes(
        [
            RunOutcome("slo-evaluation", "COMPLETED", 4.2, "id-1", "http://ui/runs/flow-run/id-1"),
            RunOutcome(
                "cost-ingestion-aws",
                "FAILED",
                9.0,
                "id-2",
                "http://ui/runs/flow-run/id-2",
                "CE down",
            ),
            RunOutcome("fulfil-data-subject-request", "SKIPPED", detail="needs --param ..."),
        ]
    )
    lines = table.splitlines()
    assert lines[1].split() == [
        "cost-ingestion-aws", "FAILED", "9.0s", "http://ui/runs/flow-run/id-2", "CE", "down"
    ]  # fmt: skip
    assert lines[2].split() == [
        "slo-evaluation",
        "COMPLETED",
        "4.2s",
        "http://ui/runs/flow-run/id-1",
    ]
    assert lines[3].split()[:4] == ["fulfil-data-subject-request", "SKIPPED", "-", "-"]
    assert lines[3].endswith("needs --param ...")
    assert lines[-1] == "3 deployment(s), 1 not completed"
