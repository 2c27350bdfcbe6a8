from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from deployments.cli import main
from infra.sandbox.history import SimulatedCheck, simulate_history
from tasks.settings import get_settings
from tasks.store import dispose_engines, get_engine
from tasks.store.check_results import upsert_check_results

REGIONS = ("us-east-1", "eu-west-1", "ap-northeast-1")
EXAMPLE_SLOS = ("shop-api-availability", "shop-api-latency", "shop-order-journey")
# The checks the example SLOs read, at their real cadence for the last two hours.
RECENT = {"shop-health": 60, "shop-products-list": 60, "shop-order-journey": 300}


def recent(now: datetime, fail: dict[str, int] | None = None) -> list[dict]:
    """Passing results of every example check for the last two hours, up to ``now``.

    ``fail`` maps a check id to how many of its newest results (newest first, across regions)
    failed instead.
    """
    rows = []
    for check_id, every in RECENT.items():
        failures = (fail or {}).get(check_id, 0)
        for offset in range(0, 7200, every):
            for region in REGIONS:
                at = now - timedelta(seconds=offset)
                verdict = "fail" if failures > 0 else "pass"
                failures -= 1
                rows.append(
                    {
                        "check_id": check_id,
                        "region": region,
                        "scheduled_at": at,
                        "started_at": at,
                        "verdict": verdict,
                        "duration_ms": 120.0,
                    }
                )
    return rows


@dataclass(frozen=True)
class Store:
    engine: Engine
    now: datetime  # the newest results; rewriting recent(now, ...) replaces them

    def write_recent(self, fail: dict[str, int]) -> None:
        upsert_check_results(self.engine, recent(self.now, fail))


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[Path, datetime]:
    """A SQLite file holding 29 healthy days of the example checks, up to two hours ago.

    Sparse (every 15 minutes, ~25k rows): written once for the module, copied for each test.
    """
    path = tmp_path_factory.mktemp("slo-history") / "history.db"
    engine = get_engine(f"sqlite:///{path}")
    now = datetime.now(UTC).replace(microsecond=0)
    checks = [SimulatedCheck(c, 900, REGIONS, degraded_ms=800, failed_ms=3000) for c in RECENT]
    simulate_history(engine, checks, now - timedelta(hours=2), days=29, incidents=[])
    dispose_engines()
    return path, now


@pytest.fixture
def store(history, tmp_path, monkeypatch) -> Store:
    """The CLI's store (a copy of the module's history) with the last two hours at the checks'
    real cadence, so the short alert windows have enough events.
    """
    template, _ = history
    shutil.copyfile(template, tmp_path / "cli.db")
    monkeypatch.setenv("TRACEO_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    dispose_engines()
    engine = get_engine()
    now = datetime.now(UTC).replace(microsecond=0)
    upsert_check_results(engine, recent(now))
    return Store(engine, now)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, ["slo", *args])


def test_gate_passes_a_healthy_history(store) -> None:
    result = invoke("gate", "shop-api")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "shop-api: PASS"
    for slo_id in EXAMPLE_SLOS:
        assert any(line.startswith(f"  - {slo_id}: ") for line in lines[1:]), slo_id


def test_gate_blocks_when_an_outage_burns_the_budget_and_pages(store) -> None:
    # Every health and catalogue check failed for the last 30 minutes in every region.
    store.write_recent({"shop-health": 90, "shop-products-list": 90})

    result = invoke("gate", "shop-api")

    assert result.exit_code == 1, result.output
    assert result.output.startswith("shop-api: BLOCKED\n")
    assert "  - shop-api-availability: -" in result.output  # the budget is overspent
    assert "(needs more than 10%)" in result.output
    assert "shop-api-availability: page alert page:1h/5m firing" in result.output


def test_gate_blocks_on_a_page_even_with_budget_left(store) -> None:
    # Six failures in the last minutes: 6 of 360 results over 1h is 16.7x (threshold 13.44x),
    # leaving most of the 28-day budget.
    store.write_recent({"shop-health": 6})

    result = invoke("gate", "shop-api")

    assert result.exit_code == 1, result.output
    reasons = result.output.splitlines()[1:]
    assert any(r.startswith("  - shop-api-availability: page alert page:1h/5m") for r in reasons)
    assert all(r.startswith("  - shop-api-availability: page alert ") for r in reasons)
    assert "error budget left" not in result.output


def test_gate_min_budget_option_sets_the_threshold(store) -> None:
    result = invoke("gate", "shop-api", "--min-budget", "1")

    assert result.exit_code == 1
    assert result.output.count("(needs more than 100%)") == 3


def test_gate_blocks_an_unknown_service(store) -> None:
    result = invoke("gate", "payments")

    assert result.exit_code == 1
    assert result.output == "payments: BLOCKED\n  - no SLOs found for service 'payments'\n"


def test_gate_exits_2_with_a_clear_message_for_a_malformed_slo_file(store, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: broken}\n"
        "spec: {service: shop-api, budgetingMethod: Sometimes}\n",
        encoding="utf-8",
    )

    result = invoke("gate", "shop-api", "--slos", str(bad))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {bad}: SLO broken: ")
    assert "Traceback" not in result.output


def test_status_prints_a_row_per_example_slo(store) -> None:
    result = invoke("status")

    assert result.exit_code == 0, result.output
    header, rule, *rows = result.output.splitlines()
    assert header.split()[:4] == ["slo", "service", "objective", "window"]
    assert set(rule) == {"-", " "}
    assert sorted(row.split()[0] for row in rows) == sorted(EXAMPLE_SLOS)
    assert all("no data" not in row for row in rows)


def test_status_of_a_service_without_slos_says_so(store) -> None:
    result = invoke("status", "--service", "payments")

    assert result.exit_code == 0
    assert result.output == "no SLOs\n"


def test_status_uses_the_given_slo_files(store, tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "deployments" / "slos" / "shop-orders.yaml"

    result = invoke("status", "--slos", str(examples))

    assert result.exit_code == 0, result.output
    assert [row.split()[0] for row in result.output.splitlines()[2:]] == ["shop-order-journey"]
