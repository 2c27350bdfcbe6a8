"""The ``traceo`` command line.

Start-up stays fast: only click is imported here; each command imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deployments.cli_config import check_environment
from deployments.cli_config import config as config_command
from deployments.cli_errors import TraceoGroup, fail_on_traceo_error

__all__ = ["main"]


@click.group(cls=TraceoGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="traceo-jobs")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Traceo jobs: probes, SLOs, cost, chargeback, privacy, chaos and drift on Prefect."""
    import os

    # Prefect's ephemeral server reports telemetry by default, which fails noisily offline.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if ctx.invoked_subcommand != "config":  # `traceo config` reports the same itself
        check_environment()
        if "PREFECT_LOGGING_SETTINGS_PATH" not in os.environ:  # before Prefect is imported
            from tasks.console_logs import write_logging_config
            from tasks.settings import get_settings

            path = write_logging_config(get_settings().home)
            os.environ["PREFECT_LOGGING_SETTINGS_PATH"] = str(path)


@main.group()
def db() -> None:
    """Manage the Traceo store (SQLite by default, PostgreSQL via TRACEO_DATABASE_URL)."""


@db.command("upgrade")
@fail_on_traceo_error
def db_upgrade() -> None:
    """Apply the store's migrations (also done automatically on first use)."""
    from tasks.redaction import display_url
    from tasks.settings import get_settings
    from tasks.store import get_engine

    engine = get_engine(migrate=True)
    url = display_url(engine.url)
    click.echo(f"store at {url} is up to date ({get_settings().home})")


@main.group()
def checks() -> None:
    """Synthetic checks as code (HTTP, multi-step, browser, TCP and certificate checks in YAML)."""


@checks.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def checks_validate(paths: tuple[Path, ...]) -> None:
    """Validate check files and maintenance windows; print every problem, exit 1 on any."""
    from tasks.errors import SpecError
    from tasks.probes.loader import load_checks
    from tasks.slo.maintenance_loader import load_maintenance

    try:
        loaded = load_checks(paths)
        windows = load_maintenance(paths, loaded)  # windows name checks: only once they load
    except SpecError as exc:
        for issue in exc.issues:
            click.echo(f"error: {issue}", err=True)
        click.echo(f"{len(exc.issues)} problem(s) found", err=True)
        sys.exit(1)
    files = {c.source_file for c in loaded}
    click.echo(
        f"OK: {len(loaded)} checks in {len(files)} files, {len(windows)} maintenance windows"
    )


@main.group()
def slo() -> None:
    """Service level objectives as code (OpenSLO v1 YAML)."""


@slo.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def slo_validate(paths: tuple[Path, ...]) -> None:
    """Validate OpenSLO files (or directories of them); print every problem, exit 1 on any."""
    from tasks.errors import SpecError
    from tasks.slo.loader import load_slo_set

    try:
        loaded = load_slo_set(paths)
    except SpecError as exc:
        for issue in exc.issues:
            click.echo(f"error: {issue}", err=True)
        click.echo(f"{len(exc.issues)} problem(s) found", err=True)
        sys.exit(1)
    for d in loaded.slos:
        target = f"{d.target * 100:g}%"
        click.echo(f"  {d.id}  ({d.service}, {target} {d.budgeting_method}, {d.window.label})")
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(loaded.documents.items()))
    click.echo(f"OK: {len(loaded.slos)} SLO objective(s) in {len(loaded.files)} file(s) ({kinds})")


def _evaluate_now(slos: Path | None, checks_path: Path | None, service: str | None):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from tasks.settings import get_settings
    from tasks.slo.source import evaluate_specs
    from tasks.store import get_engine

    settings = get_settings()
    return evaluate_specs(
        get_engine(),
        slos or settings.slos_path,
        checks_path or settings.checks_path,
        datetime.now(UTC).replace(microsecond=0),
        service,
    )


_slos_option = click.option(
    "--slos",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="OpenSLO files or directory (default: TRACEO_SLOS_PATH).",
)
_checks_option = click.option(
    "--checks",
    "checks_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Check files or directory, to map checks to services (default: TRACEO_CHECKS_PATH).",
)


@slo.command("status")
@_slos_option
@_checks_option
@click.option("--service", default=None, help="Only this service's SLOs.")
@fail_on_traceo_error
def slo_status(slos: Path | None, checks_path: Path | None, service: str | None) -> None:
    """Print each SLO's objective, SLI, budget left, burn rate per window and firing alerts."""
    from tasks.slo.status import render_table, status_rows

    click.echo(render_table(status_rows(_evaluate_now(slos, checks_path, service))))


@slo.command("gate")
@click.argument("service")
@click.option(
    "--min-budget",
    type=click.FloatRange(0, 1),
    default=0.10,
    show_default=True,
    help="Share of each SLO's error budget that must be left.",
)
@click.option(
    "--require-experiment",
    is_flag=True,
    help="Also require the last chaos experiment of SERVICE to have passed.",
)
@_slos_option
@_checks_option
@fail_on_traceo_error
def slo_gate(
    service: str,
    min_budget: float,
    require_experiment: bool,
    slos: Path | None,
    checks_path: Path | None,
) -> None:
    """Release gate: exit 0 when SERVICE may ship (budgets kept, no page alert), 1 otherwise."""
    from tasks.slo.gate import decide_gate

    last = None
    if require_experiment:
        from tasks.chaos.records import last_experiment
        from tasks.store import get_engine

        last = last_experiment(get_engine(), service)
    decision = decide_gate(
        _evaluate_now(slos, checks_path, service),
        service,
        min_budget,
        require_experiment=require_experiment,
        last_experiment=last,
    )
    click.echo(f"{service}: {'PASS' if decision.passed else 'BLOCKED'}")
    for reason in decision.reasons:
        click.echo(f"  - {reason}")
    sys.exit(0 if decision.passed else 1)


@slo.command("rules")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the rules to this file (default: standard output).",
)
@fail_on_traceo_error
def slo_rules(path: Path | None, output: Path | None) -> None:
    """Write Prometheus recording and burn-rate alerting rules for the SLOs in PATH."""
    from tasks.settings import get_settings
    from tasks.slo.loader import load_slos
    from tasks.slo.rules import build_rules, render_rules

    rules = build_rules(load_slos([path or get_settings().slos_path]))
    for issue in rules.issues:
        click.echo(f"error: {issue}", err=True)
    if rules.issues:
        click.echo(f"{len(rules.issues)} SLO(s) cannot be written as rules; none written", err=True)
        sys.exit(1)
    for note in rules.notes:
        click.echo(f"note: {note}", err=True)
    text = render_rules(rules)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"wrote {len(rules.groups)} rule group(s) to {output}", err=True)


@main.group()
def cost() -> None:
    """Cloud cost: ingestion normalised to FOCUS 1.2, anomaly scoring."""


@cost.command("ingest")
@click.option(
    "--source",
    "sources",
    multiple=True,
    required=True,
    help="Source name from the sources file (repeatable), e.g. aws-ce, focus-sample, gcp-export.",
)
@click.option(
    "--from",
    "start",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First charge day (inclusive, UTC).",
)
@click.option(
    "--to",
    "end",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Day after the last charge day (exclusive, UTC).",
)
@click.option(
    "--sources-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Source definitions (default: TRACEO_COST_SOURCES, else deployments/cost/sources.yaml).",
)
@fail_on_traceo_error
def cost_ingest(sources: tuple[str, ...], start, end, sources_file: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Ingest cost for [--from, --to) into the cost lake, replacing what each source wrote before.

    Prints rows and BilledCost per provider. Rerunning the same period changes nothing.
    """
    from tasks.cost.ingest import ingest_source
    from tasks.cost.report import render_report
    from tasks.cost.sources import build_source, get_source_config, load_source_configs
    from tasks.redaction import install_redaction
    from tasks.store import get_engine

    if end <= start:
        raise click.BadParameter("must be after --from (the end is exclusive)", param_hint="--to")
    install_redaction()
    configs = load_source_configs(sources_file)
    chosen = [get_source_config(configs, name) for name in sources]
    engine = get_engine()
    for config in chosen:
        report = ingest_source(engine, build_source(config), start.date(), end.date())
        click.echo(render_report(report))


@cost.command("migrate-to-lake")
@fail_on_traceo_error
def cost_migrate_to_lake() -> None:
    """Move the cost lines the store still holds into the cost lake (TRACEO_COST_LAKE).

    One source and billing period at a time, each switched into the lake before it leaves the
    store; rerunning (also after an interruption) moves nothing twice.
    """
    from tasks.cost.lake.migrate import migrate_store_lines
    from tasks.store import get_engine

    moved = migrate_store_lines(get_engine())
    for period in moved:
        click.echo(f"{period.source} {period.billing_period}: {period.rows:,} line(s) moved")
    click.echo(f"{sum(p.rows for p in moved):,} cost line(s) moved into the lake")


@cost.command("anomalies")
@click.option("--monitor", default=None, help="Only this monitor's anomalies.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only anomalies still running on or after this day (UTC).",
)
@fail_on_traceo_error
def cost_anomalies(monitor: str | None, since) -> None:  # type: ignore[no-untyped-def]
    """List stored cost anomalies, newest first, with their root causes."""
    from tasks.cost.anomaly.report import render_listing
    from tasks.cost.anomaly.store import list_anomalies
    from tasks.store import get_engine

    found = list_anomalies(get_engine(), monitor, since.date() if since else None)
    click.echo(render_listing(found))


@cost.command("feedback")
@click.argument("anomaly_id", type=int)
@click.argument("value", type=click.Choice(["yes", "no", "planned"]))
@fail_on_traceo_error
def cost_feedback(anomaly_id: int, value: str) -> None:
    """Record feedback on anomaly ANOMALY_ID: yes, no, or planned (planned silences its alerts)."""
    from datetime import UTC, datetime

    from tasks.cost.anomaly.feedback import set_feedback
    from tasks.store import get_engine

    anomaly = set_feedback(get_engine(), anomaly_id, value, datetime.now(UTC))
    click.echo(
        f"#{anomaly.id} {anomaly.monitor} / {anomaly.key} from {anomaly.start_date}: "
        f"feedback {value}"
    )


@main.group()
def chargeback() -> None:
    """Chargeback: allocate monthly cost to teams, post to the ledger, print statements."""


def _check_period(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    import re

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise click.BadParameter(f"{value!r} is not a month (YYYY-MM)")
    return value


_period_option = click.option(
    "--period", required=True, callback=_check_period, help="The month, YYYY-MM."
)


@chargeback.command("run")
@_period_option
@click.option("--dry-run", is_flag=True, help="Compute and print; post nothing, write no files.")
@click.option(
    "--teams",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Teams and ownership rules (default: deployments/chargeback/teams.yaml).",
)
@click.option(
    "--ratecard",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Platform rate card (default: deployments/chargeback/ratecard.yaml).",
)
@click.option(
    "--usage",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Platform usage per team (default: deployments/chargeback/usage.csv).",
)
@click.option(
    "--metric",
    type=click.Choice(["EffectiveCost", "BilledCost"]),
    default=None,
    help="The FOCUS cost column charged (default: the teams file's cost_metric, effective).",
)
@fail_on_traceo_error
def chargeback_run(
    period: str,
    dry_run: bool,
    teams: str | None,
    ratecard: str | None,
    usage: str | None,
    metric: str | None,
) -> None:
    """Run the chargeback flow for --period: reconcile, post (idempotent), write statements."""
    from flows.chargeback import run_chargeback

    out = run_chargeback(period, dry_run, teams, ratecard, usage, metric)
    currency = out["currency"]
    click.echo(f"chargeback {out['period']}: {out['status']} ({out['metric']})")
    for team, total in sorted(out["teams"].items()):
        click.echo(f"  {team:<24} {total:>14} {currency}")
    click.echo(f"  {'unallocated':<24} {out['unallocated']:>14} {currency}")
    total = f"source total ({out['metric']})"
    click.echo(f"  {total:<24} {out['source_total']:>14} {currency}  (reconciled)")
    if dry_run:
        click.echo("dry run: nothing posted")
    else:
        click.echo(f"posted {out['entries_posted']} entries ({out['corrections']} corrections)")
        click.echo(f"statements in {out['statements']}")


@chargeback.command("statement")
@click.argument("team")
@_period_option
@fail_on_traceo_error
def chargeback_statement(team: str, period: str) -> None:
    """Print TEAM's statement for --period as posted in the ledger."""
    from tasks.chargeback.statements import ledger_statement, render_statement
    from tasks.store import get_engine

    click.echo(render_statement(ledger_statement(get_engine(), team, period)))


@main.command()
@click.option(
    "--prefect-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The prefect.yaml to read (default: deployments/prefect.yaml).",
)
@click.option(
    "--live", is_flag=True, help="Add each pool's status and workers from PREFECT_API_URL."
)
@fail_on_traceo_error
def regions(prefect_file: Path | None, live: bool) -> None:
    """List probe regions: work pool, deployment, schedule and concurrency of each deployment."""
    from deployments.regions import PREFECT_FILE, fetch_live_status, load_deployments, render_table

    entries = load_deployments(prefect_file or PREFECT_FILE)
    click.echo(render_table(entries, fetch_live_status(entries) if live else None))


@main.group()
def metrics() -> None:
    """Prometheus metrics of the latest check results (blackbox_exporter names)."""


@metrics.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=9464,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@_checks_option
@click.option(
    "--lookback",
    type=click.IntRange(1, 7 * 24 * 60),
    default=120,
    show_default=True,
    help="Minutes a check's latest result stays exported after it last ran.",
)
@click.option(
    "--slos",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="OpenSLO files or directory to count events for (default: TRACEO_SLOS_PATH).",
)
@fail_on_traceo_error
def metrics_serve(
    host: str, port: int, checks_path: Path | None, lookback: int, slos: Path | None
) -> None:
    """Serve /metrics until Ctrl-C: the latest result per check and region, and SLO counters."""
    from datetime import timedelta

    from tasks.probes.metrics import MetricsServer, ServiceNames, StoreCollector, build_registry
    from tasks.settings import get_settings
    from tasks.slo.exporter import SloCollector
    from tasks.slo.loader import load_slos
    from tasks.slo.maintenance_loader import MaintenanceFiles
    from tasks.store import get_engine

    settings = get_settings()
    engine = get_engine()  # a store that cannot be reached fails here, with a clear message
    services = ServiceNames([checks_path or settings.checks_path])
    registry = build_registry(StoreCollector(engine, services, timedelta(minutes=lookback)))
    windows = MaintenanceFiles([checks_path or settings.checks_path])
    registry.register(
        SloCollector(engine, load_slos([slos or settings.slos_path]), services, maintenance=windows)
    )
    try:
        server = MetricsServer(registry, host, port).start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from None
    click.echo(f"Serving Prometheus metrics on {server.url} (Ctrl-C to stop)", err=True)
    server.serve_forever()
    click.echo("Stopped.", err=True)


@main.command()
@fail_on_traceo_error
def demo() -> None:
    """Run the jobs end to end on embedded defaults (SQLite, local Prefect, local fakes)."""
    from deployments.demo import run_demo

    sys.exit(run_demo(click.echo))


@main.command()
@click.option(
    "--quick", is_flag=True, help="Shrink each workload (about a tenth); judge ratio targets only."
)
@click.option("--only", "only", default=None, help="Comma-separated workload names to run.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the results as JSON to this file.",
)
def bench(quick: bool, only: str | None, json_path: Path | None) -> None:
    """Run the benchmarks: ours next to a reference measured in the same run."""
    from deployments.bench import WORKLOADS, format_table, run_workloads, write_json

    names = list(WORKLOADS) if not only else [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise click.BadParameter(
            f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}",
            param_hint="--only",
        )
    results = run_workloads(names, quick=quick)
    click.echo(format_table(results))
    if json_path:
        write_json(results, json_path)
        click.echo(f"wrote {json_path}")


# Each job's commands live in their own module (click only at import time: start-up stays fast).
from deployments.cli_chaos import chaos as chaos_group  # noqa: E402
from deployments.cli_checks import checks_test, synthetic  # noqa: E402
from deployments.cli_dsr import dsr as dsr_group  # noqa: E402
from deployments.cli_intake import intake as intake_group  # noqa: E402
from deployments.cli_intake import submit as dsr_submit  # noqa: E402
from deployments.cli_lake import lake as lake_group  # noqa: E402
from deployments.cli_model import drift as drift_group  # noqa: E402
from deployments.cli_model import model as model_group  # noqa: E402
from deployments.cli_ops import OPS_COMMANDS  # noqa: E402
from deployments.cli_status import status as status_group  # noqa: E402
from deployments.cli_store import checks_latency, slo_rebuild  # noqa: E402
from deployments.cli_store import store as store_group  # noqa: E402

main.add_command(config_command, "config")
cost.add_command(lake_group, "lake")
main.add_command(chaos_group, "chaos")
checks.add_command(checks_test, "test")
checks.add_command(checks_latency, "latency")
main.add_command(synthetic, "synthetic")
dsr_group.add_command(dsr_submit, "submit")
main.add_command(dsr_group, "dsr")
main.add_command(intake_group, "intake")
main.add_command(model_group, "model")
main.add_command(drift_group, "drift")
main.add_command(store_group, "store")
main.add_command(status_group, "status")
slo.add_command(slo_rebuild, "rebuild")
for _command in OPS_COMMANDS:  # serve, failure-alerts, run-once
    main.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    main()
