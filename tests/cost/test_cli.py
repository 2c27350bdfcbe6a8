"""``traceo cost ingest``: per-provider totals, reruns, and clear errors with exit code 2."""

from __future__ import annotations

from decimal import Decimal

from click.testing import CliRunner

from deployments.cli import main
from tests.cost.helpers import focus_row, sample_totals, write_csv


def _ingest(*args: str):
    return CliRunner().invoke(main, ["cost", "ingest", *args], catch_exceptions=False)


def test_ingest_prints_rows_and_billed_cost_per_provider_and_reruns_identically():
    args = ("--source", "focus-sample", "--from", "2024-09-01", "--to", "2024-10-01")
    first, second = _ingest(*args), _ingest(*args)
    assert first.exit_code == second.exit_code == 0, first.output
    totals = sample_totals()
    for provider, (rows, total) in totals.items():
        line = next(x for x in first.output.splitlines() if x.strip().startswith(provider))
        assert f"{rows:,}" in line.split()
        assert str(total.quantize(Decimal("0.000001"))) in line.split()
    assert first.output.splitlines()[1:] == second.output.splitlines()[1:]
    assert "1,000 rows in 3 billing account(s)" in second.output


def test_a_malformed_file_exits_2_naming_file_row_and_column(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", [focus_row(), focus_row(BilledCost="ten")])
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"sources:\n  broken:\n    type: focus_files\n    location: {bad.name}\n")
    result = CliRunner().invoke(
        main,
        [
            "cost",
            "ingest",
            "--source",
            "broken",
            "--from",
            "2024-09-01",
            "--to",
            "2024-10-01",
            "--sources-file",
            str(sources),
        ],
    )
    assert result.exit_code == 2
    assert f"error: {bad}: row 2: column BilledCost: not a number: 'ten'" in result.output


def test_an_unknown_source_or_an_empty_period_is_refused():
    result = CliRunner().invoke(
        main, ["cost", "ingest", "--source", "nope", "--from", "2024-09-01", "--to", "2024-10-01"]
    )
    assert result.exit_code == 2
    assert "unknown cost source 'nope'" in result.output
    result = CliRunner().invoke(
        main,
        [
            "cost",
            "ingest",
            "--source",
            "focus-sample",
            "--from",
            "2024-09-02",
            "--to",
            "2024-09-01",
        ],
    )
    assert result.exit_code == 2
    assert "must be after --from" in result.output
