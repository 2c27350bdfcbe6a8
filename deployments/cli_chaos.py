"""``traceo chaos``: validate, plan and run Chaos Toolkit experiments with the SLO as steady state.

Only click is imported at start-up; each command imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

__all__ = ["chaos"]

_SUFFIXES = (".yaml", ".yml", ".json")


def _files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES))
        else:
            files.append(path)
    return files


@click.group()
def chaos() -> None:
    """Chaos experiments (Chaos Toolkit files): SLO-checked faults that always roll back."""


@chaos.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Validate experiment files (or directories of them); print every problem, exit 1 on any."""
    from tasks.chaos.experiment import load_experiment
    from tasks.errors import SpecError

    files = _files(paths)
    problems = 0
    for file in files:
        try:
            loaded = load_experiment(file)
        except SpecError as exc:
            problems += len(exc.issues)
            for issue in exc.issues:
                click.echo(f"error: {issue}", err=True)
            continue
        click.echo(f"OK: {file}: {loaded.title}")
    if not files:
        click.echo("error: no experiment files found", err=True)
        sys.exit(1)
    if problems:
        click.echo(f"{problems} problem(s) found", err=True)
        sys.exit(1)


@chaos.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and print the plan; inject nothing.")
def run(file: Path, dry_run: bool) -> None:
    """Run an experiment as the run_experiment flow; exit 0 when it passed, 1 otherwise."""
    from tasks.chaos.experiment import load_experiment
    from tasks.errors import SpecError, TraceoError

    try:
        loaded = load_experiment(file)  # fail fast, before a Prefect server starts
        if dry_run:
            from tasks.chaos.plan import render_plan

            for line in render_plan(loaded):
                click.echo(line)
            return
        from flows.chaos import run_experiment

        summary = run_experiment(str(file))
    except SpecError as exc:
        for issue in exc.issues:
            click.echo(f"error: {issue}", err=True)
        sys.exit(1)
    except TraceoError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    clean = "verified clean" if summary["clean"] else "NOT VERIFIED CLEAN"
    click.echo(f"{summary['title']}: {summary['verdict'].upper()} ({summary['reason']})")
    click.echo(f"  status {summary['status']}, {summary['faults']} fault(s) rolled back, {clean}")
    sys.exit(0 if summary["verdict"] == "passed" and summary["clean"] else 1)


@chaos.command("score")
@click.argument("service")
def score(service: str) -> None:
    """Print SERVICE's resilience score and the latest run of each of its experiments."""
    from tasks.chaos.records import last_runs, service_resilience
    from tasks.store import get_engine

    engine = get_engine()
    runs = last_runs(engine, service)
    value = service_resilience(engine, service)
    click.echo(f"{service}: resilience score {'-' if value is None else f'{value:.1f}'}")
    for r in runs:
        success = "-" if r.probe_success is None else f"{r.probe_success:.0%}"
        click.echo(f"  {r.verdict:<8} weight {r.weight} probes {success:>4}  {r.title}")
