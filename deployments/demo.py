"""``traceo demo``: the jobs end to end on embedded defaults.

Starts the sample shop and a webhook receiver on 127.0.0.1, backfills simulated history (marked
``simulated`` in the store) in the background while Prefect starts, runs the example checks live
as three regions, evaluates the example SLOs (a maintenance window keeps a planned outage of the
history off the budget), routes alerts to the receiver, writes the SLOs' Prometheus rules,
exports the shop's status page, then
ingests cost (the real FOCUS sample and a simulated Cost Explorer history with a spike, from a
local moto server) and scores cost anomalies with root causes; prints a summary and stops what
it started.
The demo keeps its own store (and, without ``PREFECT_API_URL``, its own ephemeral Prefect
server) under ``$TRACEO_HOME/demo`` so it never touches production data.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["REGIONS", "run_demo"]

REGIONS = ("us-east-1", "eu-west-1", "ap-northeast-1")
HISTORY_DAYS = 28
DEMO_BLOCK = "traceo-demo"
LIVE_ERROR_RATE = 0.12  # the ongoing incident in the simulated history continues live


def _configure(demo_home: Path) -> Path:
    """Point the store, the cost lake (and an unset Prefect API) at the demo's own, fresh,
    files."""
    demo_home.mkdir(parents=True, exist_ok=True)
    store = demo_home / "traceo-demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    os.environ["TRACEO_DATABASE_URL"] = f"sqlite:///{store}"
    lake = demo_home / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    os.environ["TRACEO_COST_LAKE"] = str(lake)
    os.environ["TRACEO_EVIDENCE_URL"] = str(demo_home / "evidence")
    if not os.environ.get("PREFECT_API_URL"):
        os.environ["PREFECT_HOME"] = str(demo_home / "prefect")
    # A first ephemeral start migrates Prefect's SQLite database: allow it time.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    return store


def run_demo(echo: Callable[[str], None] = print) -> int:
    """Run the demo; return the process exit code."""
    from tasks.settings import get_settings

    started = time.perf_counter()
    # Dependencies' deprecation notices are noise for someone trying the suite (not for tests);
    # some dependencies reset the warning filters on import, so filter at display time.
    warnings.showwarning = _without_deprecations(warnings.showwarning)
    # The drift part needs feast, evidently and scikit-learn (~20 s of imports): load them while
    # the first parts mostly wait on Prefect and the sample services.
    threading.Thread(target=_warm_imports, name="demo-imports", daemon=True).start()
    demo_home = get_settings().home / "demo"
    store = _configure(demo_home)
    get_settings.cache_clear()
    settings = get_settings()

    from deployments.status.demo import checks_with_window, plan_outage, show_status
    from infra.sandbox.history import SimulatedCheck, default_incidents, simulate_history
    from infra.sandbox.sample_service.server import SampleService
    from infra.sandbox.webhook_sink import WebhookSink
    from tasks.probes.browser_launch import browser_available
    from tasks.probes.loader import load_checks
    from tasks.slo.loader import load_slos
    from tasks.store import get_engine
    from tasks.store.compaction import compaction_cutoff

    checks = load_checks([settings.checks_path])
    slos = load_slos([settings.slos_path])
    echo(f"Loaded {len(checks)} checks and {len(slos)} SLO objectives from deployments/.")
    now = datetime.now(UTC).replace(microsecond=0)
    slot = now.replace(second=0)
    planned = plan_outage(slos, slot)
    if planned is not None:  # its window sits beside a copy of the checks, which the flows read
        demo_checks = checks_with_window(settings.checks_path, demo_home, planned)
        os.environ["TRACEO_CHECKS_PATH"] = str(demo_checks)
        get_settings.cache_clear()
        settings = get_settings()

    with SampleService() as shop, WebhookSink() as sink:
        os.environ["SAMPLE_URL"] = shop.url
        os.environ["SAMPLE_HOST"] = shop.host
        os.environ["SAMPLE_PORT"] = str(shop.port)
        echo(f"Sample shop on {shop.url}; alert webhook receiver on {sink.url}")

        engine = get_engine()
        simulated = [
            SimulatedCheck(c.id, c.frequency, c.regions, c.degraded_ms, c.failed_ms) for c in checks
        ]
        history: dict[str, object] = {}

        def backfill() -> None:
            try:
                incidents = default_incidents(slot, [c.id for c in checks])
                incidents += [planned.incident] if planned else []
                # Hours past the compaction cutoff go in packed, as a store that has run for
                # weeks holds them (and loading them so is a fraction of the rows' cost).
                cutoff = compaction_cutoff(slot, settings.compact_after_hours)
                history["rows"] = simulate_history(
                    engine,
                    simulated,
                    slot,
                    HISTORY_DAYS,
                    incidents,
                    packed_before=datetime.fromtimestamp(cutoff, UTC),
                )
                history["incidents"] = incidents
            except Exception as exc:  # reported below; the thread must not die silently
                history["error"] = exc

        filler = threading.Thread(target=backfill, name="demo-history")
        filler.start()
        echo(f"Backfilling {HISTORY_DAYS} days of SIMULATED history in the background ...")

        echo("Starting Prefect (first run on a new machine migrates its database) ...")
        _save_demo_block(sink.url)

        shop.set_faults(error_rate=LIVE_ERROR_RATE)
        filler.join()
        if "error" in history:
            raise history["error"]  # type: ignore[misc]
        echo(f"Simulated history: {history['rows']:,} results, incidents:")
        for incident in history["incidents"]:  # type: ignore[attr-defined]
            echo(f"  - {incident.name}")

        from flows.slo import evaluate_slos
        from flows.synthetic import synthetic_probes

        types: list[str] = sorted({c.type for c in checks})
        if "browser" in types and not browser_available(settings.chromium_path):
            types.remove("browser")
            echo("Browser checks skipped: no Chromium here (apt-get install chromium, or set")
            echo("  TRACEO_CHROMIUM_PATH); the other check types run.")
        echo(
            f"Live run of {', '.join(types)} checks, slot {slot.isoformat()} "
            f"(shop answering 503 to {LIVE_ERROR_RATE:.0%}):"
        )
        for region in REGIONS:
            counts = synthetic_probes(region=region, scheduled_at=slot, check_types=types)
            echo(f"  {region:<15} " + ", ".join(f"{n} {v}" for v, n in counts.items()))

        summary = evaluate_slos(evaluated_at=now, notify_via=f"custom-webhook/{DEMO_BLOCK}")
        _print_outcome(echo, engine, settings, now, summary)
        _write_rules(echo, settings, demo_home)
        echo("")
        show_status(echo, engine, settings, now, demo_home, planned)

        from infra.sandbox.anomaly_demo import run_anomaly_demo
        from infra.sandbox.chargeback_demo import run_chargeback_demo
        from infra.sandbox.cost_demo import run_cost_demo

        echo("")
        cost = run_cost_demo(echo, engine)
        run_anomaly_demo(
            echo,
            engine,
            notify_via=f"custom-webhook/{DEMO_BLOCK}",
            spike=cost["spike"],
            normal=cost["normal"],
        )
        echo("")
        run_chargeback_demo(echo, engine, home=demo_home)

        from deployments.privacy_demo import run_privacy_demo

        echo("")
        run_privacy_demo(echo, engine, demo_home)

        from infra.sandbox.chaos_demo import run_chaos_demo

        echo("")
        run_chaos_demo(echo, engine)

        from infra.sandbox.drift_demo import run_drift_demo

        echo("")
        run_drift_demo(echo, engine, demo_home)
        echo("")
        echo(f"Notifications received by the webhook: {len(sink.received)}")
        for message in sink.received:
            echo(f"  - {message.get('subject')}")

    echo(f"Store: {store}; cost lake: {store.parent / 'lake'}")
    if os.environ.get("PREFECT_API_URL"):
        echo(f"Runs: in the Prefect UI of {os.environ['PREFECT_API_URL']}")
    else:
        echo(
            "Runs: PREFECT_HOME="
            f"{os.environ['PREFECT_HOME']} uv run prefect server start  (then http://127.0.0.1:4200)"
        )
    echo(
        f"Demo finished in {time.perf_counter() - started:.0f} s; everything it started is stopped."
    )
    return 0


def _without_deprecations(show: Callable[..., None]) -> Callable[..., None]:
    def showwarning(message, category, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not issubclass(category, DeprecationWarning):
            show(message, category, *args, **kwargs)

    return showwarning


def _warm_imports() -> None:
    import importlib

    for name in ("sklearn.linear_model", "feast", "evidently", "evidently.presets"):
        try:
            importlib.import_module(name)
        except ImportError:  # the drift part reports it where it is needed
            return


def _save_demo_block(url: str) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    block = CustomWebhookNotificationBlock(
        name=DEMO_BLOCK,
        url=url,
        json_data={"subject": "{{subject}}", "text": "{{body}}"},
        headers=None,
        cookies=None,
    )
    block.save(DEMO_BLOCK, overwrite=True)


def _write_rules(echo: Callable[[str], None], settings: Any, demo_home: Path) -> None:
    """The SLOs as Prometheus rules, as `traceo slo rules` writes them."""
    from tasks.slo.loader import load_slos
    from tasks.slo.rules import build_rules, render_rules

    rules = build_rules(load_slos([settings.slos_path]))
    path = demo_home / "prometheus" / "slo-rules.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_rules(rules), encoding="utf-8")
    alerts = sum("alert" in r for g in rules.groups for r in g["rules"])
    echo(f"Prometheus rules ({len(rules.groups)} SLOs, {alerts} alerts): {path}")
    for note in [*rules.notes, *map(str, rules.issues)]:
        echo(f"  - {note}")


def _print_outcome(echo, engine, settings, now, summary) -> None:  # type: ignore[no-untyped-def]
    from tasks.slo.gate import decide_gate
    from tasks.slo.source import evaluate_specs
    from tasks.slo.status import render_table, status_rows

    reports = evaluate_specs(engine, settings.slos_path, settings.checks_path, now)
    echo("")
    echo(render_table(status_rows(reports)))
    echo("")
    firing = summary.get("firing", [])
    echo(f"Alerts firing: {len(firing)}")
    for item in firing:
        echo(f"  - {item}")
    for service in sorted({r.service for r in reports}):
        decision = decide_gate(reports, service)
        echo(f"Release gate for {service}: {'PASS' if decision.passed else 'BLOCKED'}")
        for reason in decision.reasons:
            echo(f"  - {reason}")
