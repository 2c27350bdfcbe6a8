"""The chargeback run on the real FOCUS sample: the demo, the flow and ``traceo chargeback run``."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from deployments.cli import main
from infra.sandbox.chargeback_demo import run_chargeback_demo
from tasks.store import ChargebackRun, LedgerEntry, get_engine, session_scope


def _ingest_sample(engine) -> None:
    from tasks.cost.ingest import ingest_source
    from tasks.cost.sources import build_source, get_source_config, load_source_configs

    source = build_source(get_source_config(load_source_configs(None), "focus-sample"))
    ingest_source(engine, source, date(2024, 9, 1), date(2024, 10, 1))


def _count(engine, model) -> int:
    with session_scope(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def _ledger_total(engine) -> Decimal:
    with session_scope(engine) as session:
        return sum(session.execute(select(LedgerEntry.amount)).scalars(), Decimal("0"))


def test_the_demo_posts_the_sample_month_reconciled_and_a_rerun_posts_nothing(
    store_engine, tmp_path
):
    _ingest_sample(store_engine)
    printed: list[str] = []

    first = run_chargeback_demo(printed.append, store_engine, home=tmp_path)
    second = run_chargeback_demo(lambda _: None, store_engine, home=tmp_path)

    assert first["status"] == "posted" and first["entries_posted"] > 0
    assert (second["status"], second["entries_posted"]) == ("unchanged", 0)
    assert _ledger_total(store_engine) == sum(first["teams"].values())
    assert any(line.startswith("Reconciliation:") and line.endswith("OK") for line in printed)
    with (first["statements"] / "summary.csv").open(newline="") as handle:
        rows = {r["row"]: r for r in csv.DictReader(handle)}
    allocated, unallocated = (Decimal(rows[k]["amount"]) for k in ("allocated", "unallocated"))
    assert allocated + unallocated == Decimal(rows["source_total"]["amount"])
    assert {r["metric"] for r in rows.values()} == {"EffectiveCost"}
    assert rows["source_total"]["note"] == "EffectiveCost (amortised)"


@pytest.mark.engine
def test_the_flow_dry_runs_posts_then_reruns_without_posting(prefect_server, traceo_home):
    from flows.chargeback import run_chargeback

    engine = get_engine()
    _ingest_sample(engine)

    dry = run_chargeback("2024-09", dry_run=True)
    assert (dry["status"], dry["entries_posted"], dry["statements"]) == ("dry_run", 0, None)
    assert _count(engine, LedgerEntry) == _count(engine, ChargebackRun) == 0

    posted = run_chargeback("2024-09")
    again = run_chargeback("2024-09")

    assert posted["status"] == "posted" and posted["entries_posted"] > 0
    assert (again["status"], again["entries_posted"]) == ("unchanged", 0)
    assert (traceo_home / "chargeback" / "2024-09" / "summary.csv").is_file()
    assert _ledger_total(engine) == sum(Decimal(t) for t in posted["teams"].values())


@pytest.mark.engine
def test_the_cli_runs_the_flow_and_prints_totals(prefect_server):
    _ingest_sample(get_engine())
    runner = CliRunner()

    dry = runner.invoke(main, ["chargeback", "run", "--period", "2024-09", "--dry-run"])
    run = runner.invoke(main, ["chargeback", "run", "--period", "2024-09"])
    statement = runner.invoke(main, ["chargeback", "statement", "sre", "--period", "2024-09"])

    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing posted" in dry.output
    assert run.exit_code == 0, run.output
    assert "chargeback 2024-09: posted (EffectiveCost)" in run.output
    assert "source total (EffectiveCost)" in run.output and "(reconciled)" in run.output
    assert statement.exit_code == 0
    assert "sre, 2024-09 (charged, USD, EffectiveCost (amortised))" in statement.output


def _restate_largest_line(increase: Decimal, metric: str = "EffectiveCost") -> None:
    """Replace the lake partition holding the largest line with that line's ``metric`` raised
    (EffectiveCost: what the demo's teams file charges)."""
    from tasks.cost.lake import Lake

    lake = Lake.from_settings()
    tables = {key: lake.read([key]) for key in lake.partitions()}
    key = max(tables, key=lambda k: max(tables[k][metric].to_pylist()))
    table = tables[key]
    costs = table[metric].to_pylist()
    largest = costs.index(max(costs))
    costs[largest] += increase
    index = table.schema.get_field_index(metric)
    restated = table.set_column(index, metric, pa.array(costs, table[metric].type))
    with lake.writer() as writer:
        writer.write(key, restated)
        writer.commit(keep=None)


def test_a_restated_cost_line_posts_only_corrections_up_to_the_new_totals(store_engine, tmp_path):
    _ingest_sample(store_engine)
    first = run_chargeback_demo(lambda _: None, store_engine, home=tmp_path)
    with session_scope(store_engine) as session:
        before = [
            (e.id, e.entry_key, e.amount) for e in session.execute(select(LedgerEntry)).scalars()
        ]
    _restate_largest_line(Decimal("10"))

    restated = run_chargeback_demo(lambda _: None, store_engine, home=tmp_path)

    assert restated["status"] == "posted"
    assert restated["source_total"] - first["source_total"] == Decimal("10")
    with session_scope(store_engine) as session:
        entries = list(session.execute(select(LedgerEntry).order_by(LedgerEntry.id)).scalars())
    assert [(e.id, e.entry_key, e.amount) for e in entries[: len(before)]] == sorted(before)
    new = entries[len(before) :]
    assert new and all(e.correction for e in new)
    assert sum((e.amount for e in new), Decimal("0")) == Decimal("10.00")
    assert _ledger_total(store_engine) == sum(restated["teams"].values())
