"""Statement CSVs add up, the ledger's view of a team, and ``traceo chargeback statement``."""

from __future__ import annotations

import csv
from decimal import Decimal

from click.testing import CliRunner

from deployments.cli import main
from tasks.chargeback.ledger import post_allocation
from tasks.chargeback.statements import (
    ledger_statement,
    render_statement,
    team_view,
    write_statements,
)
from tasks.store import get_engine
from tests.chargeback.ledger.fakes import allocation


def _read(path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(tmp_path, alloc=None):
    alloc = alloc or allocation()
    views = [
        team_view(s, alloc.period, alloc.currency, alloc.metric) for s in alloc.statements.values()
    ]
    return write_statements(
        tmp_path / "out",
        views,
        unallocated=Decimal("5.00"),
        source_total=alloc.source_total,
        currency="USD",
        metric=alloc.metric,
        reconciled=True,
    )


def test_team_csv_lines_add_up_to_subtotals_and_subtotals_to_the_total(tmp_path):
    files = _write(tmp_path)
    rows = _read(files.teams["shop"])

    lines = [r for r in rows if r["kind"] == "line"]
    subtotals = {r["category"]: Decimal(r["amount"]) for r in rows if r["kind"] == "subtotal"}
    [total] = [Decimal(r["amount"]) for r in rows if r["kind"] == "total"]
    for category, subtotal in subtotals.items():
        assert sum(Decimal(r["amount"]) for r in lines if r["category"] == category) == subtotal
    assert subtotals == {
        "direct": Decimal("120.50"),
        "shared": Decimal("12.25"),
        "platform": Decimal("30.00"),
        "discount": Decimal("-8.75"),
    }
    assert total == sum(subtotals.values()) == Decimal("154.00")
    ec2 = next(r for r in lines if r["item"] == "Amazon EC2")
    assert (ec2["quantity"], ec2["unit"], ec2["currency"]) == ("720", "Hours", "USD")
    assert {r["metric"] for r in rows} == {"EffectiveCost"}  # every row says what it charges


def test_summary_has_each_team_unallocated_source_total_and_reconciliation(tmp_path):
    rows = _read(_write(tmp_path).summary)

    teams = {
        r["team"]: (r["tier"], r["charged"], Decimal(r["amount"]))
        for r in rows
        if r["row"] == "team"
    }
    assert teams == {
        "shop": ("hard", "yes", Decimal("154.00")),
        "ml": ("showback", "no", Decimal("47.75")),
    }
    by_row = {r["row"]: r for r in rows}
    allocated = Decimal(by_row["allocated"]["amount"])
    unallocated = Decimal(by_row["unallocated"]["amount"])
    platform = Decimal(by_row["platform"]["amount"])
    assert (allocated, platform) == (Decimal("180.50"), Decimal("21.25"))
    assert allocated + platform == sum(t[2] for t in teams.values())
    assert allocated + unallocated == Decimal(by_row["source_total"]["amount"])
    assert by_row["reconciliation"]["note"].startswith("reconciled")
    assert by_row["source_total"]["note"] == "EffectiveCost (amortised)"


def test_a_billed_statement_says_billed(tmp_path):
    rows = _read(_write(tmp_path, allocation(metric="BilledCost")).summary)
    assert {r["metric"] for r in rows} == {"BilledCost"}
    assert next(r for r in rows if r["row"] == "source_total")["note"] == "BilledCost (as invoiced)"


def test_the_ledger_statement_sums_corrections_into_the_restated_amounts(store_engine):
    post_allocation(store_engine, allocation("100.00"))
    post_allocation(store_engine, allocation("112.34"))

    view = ledger_statement(store_engine, "shop", "2024-09")

    assert view.total == Decimal("166.34")
    assert view.subtotal("direct") == Decimal("132.84")
    assert (view.tier, view.charged, view.currency) == ("hard", True, "USD")
    assert view.metric == "EffectiveCost"
    assert "166.34" in render_statement(view)


def _statement(*args: str):
    return CliRunner().invoke(main, ["chargeback", "statement", *args], catch_exceptions=False)


def test_statement_cli_prints_a_posted_team_and_exits_0():
    post_allocation(get_engine(), allocation())

    result = _statement("ml", "--period", "2024-09")

    assert result.exit_code == 0, result.output
    assert "ml, 2024-09 (showback, informational, USD, EffectiveCost (amortised))" in result.output
    assert "Amazon SageMaker" in result.output and "47.75" in result.output


def test_statement_cli_exits_2_for_an_unknown_team_or_period_or_a_bad_period():
    post_allocation(get_engine(), allocation())

    unknown_team = _statement("nobody", "--period", "2024-09")
    unknown_period = _statement("shop", "--period", "2023-01")
    bad_period = _statement("shop", "--period", "2024-13")

    assert unknown_team.exit_code == 2
    assert "team 'nobody' has no chargeback in 2024-09 (teams: ml, shop)" in unknown_team.output
    assert unknown_period.exit_code == 2
    assert "no chargeback is posted for period 2023-01" in unknown_period.output
    assert bad_period.exit_code == 2 and "is not a month (YYYY-MM)" in bad_period.output


def test_the_run_summary_links_every_statement_file(store_engine, tmp_path):
    from tasks.chargeback.tasks import statement_views, summary_markdown

    alloc = allocation()
    result = post_allocation(store_engine, alloc)
    files = _write(tmp_path, alloc)
    markdown = summary_markdown(result, statement_views(alloc), files)
    assert f"[summary]({files.summary.resolve().as_uri()})" in markdown
    assert "Cost charged: EffectiveCost (amortised)." in markdown
    for team, path in files.teams.items():
        assert f"[{team}]({path.resolve().as_uri()})" in markdown
