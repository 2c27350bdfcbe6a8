"""The demo's status part: a planned outage inside a window, kept off the budget, and the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deployments.status.demo import checks_with_window, plan_outage, show_status
from infra.sandbox.history import SimulatedCheck, simulate_history
from tasks.probes.loader import load_checks
from tasks.settings import get_settings
from tasks.slo.loader import load_slos
from tasks.slo.maintenance_loader import load_maintenance
from tests.status.conftest import DEPLOYMENTS, NOW

SLOS = load_slos([DEPLOYMENTS / "slos"])


def test_the_planned_outage_stays_in_the_slos_calendar_month() -> None:
    yesterday = plan_outage(SLOS, NOW)
    assert yesterday is not None and yesterday.incident.start == NOW - timedelta(days=1)
    # Paris's December starts at 23:00 UTC on 30 November
    early = plan_outage(SLOS, datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
    assert early is not None and early.incident.start == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert plan_outage(SLOS, datetime(2026, 12, 1, 2, 0, tzinfo=UTC)) is None


def test_the_window_kept_the_planned_outage_off_the_budget_and_the_page_is_exported(
    tmp_path, monkeypatch
) -> None:
    planned = plan_outage(SLOS, NOW)
    assert planned is not None
    checks_dir = checks_with_window(DEPLOYMENTS / "checks", tmp_path, planned)
    checks = load_checks([checks_dir])
    assert "demo-checkout-upgrade" in [w.id for w in load_maintenance([checks_dir], checks)]
    monkeypatch.setenv("TRACEO_CHECKS_PATH", str(checks_dir))
    get_settings.cache_clear()
    settings = get_settings()
    from tasks.store import get_engine

    engine = get_engine()
    simulated = [
        SimulatedCheck(c.id, c.frequency, c.regions, c.degraded_ms, c.failed_ms)
        for c in checks
        if c.id in ("shop-order-journey", "shop-health", "shop-products-list")
    ]
    simulate_history(engine, simulated, NOW, 3, [planned.incident])
    lines: list[str] = []

    show_status(lines.append, engine, settings, NOW, tmp_path, planned)

    out = "\n".join(lines)
    assert "Maintenance window demo-checkout-upgrade" in out
    assert "was kept off the budget" in out
    kept, without = (
        float(part.split("%")[0].split()[-1]) for part in lines[1].split(" (without the window: ")
    )
    assert kept > without
    assert "Status page: " in out and "Checkout: " in out
    assert (tmp_path / "status" / "index.html").exists()
    html = (tmp_path / "status" / "index.html").read_text()
    assert "maintenance (planned failures not counted)" in html
