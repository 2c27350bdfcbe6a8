"""A two-step flow for tests/flows/test_rerun.py, configured like every Traceo flow.

``extract`` always succeeds; ``load`` fails while ``<marker_dir>/fail`` exists. Each step appends
a line to ``<marker_dir>/<step>.runs`` so the test can count how often it really ran.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from tasks.errors import ServiceUnavailableError
from tasks.failure import report_failure
from tasks.results import rerunnable

__all__ = ["rerun_probe"]


def _ran(marker_dir: str, step: str) -> int:
    path = Path(marker_dir) / f"{step}.runs"
    with path.open("a") as out:
        out.write("ran\n")
    return len(path.read_text().splitlines())


@task
def extract(marker_dir: str) -> list[int]:
    _ran(marker_dir, "extract")
    return [1, 2, 3]


@task
def load(marker_dir: str, rows: list[int]) -> int:
    _ran(marker_dir, "load")
    if (Path(marker_dir) / "fail").exists():
        raise ServiceUnavailableError("the warehouse is unavailable")
    return sum(rows)


@flow(name="traceo-rerun-probe", **rerunnable(), on_failure=[report_failure])
def rerun_probe(marker_dir: str) -> int:
    """Extract, then load; a retry after a failed load reuses the extract."""
    return load(marker_dir, extract(marker_dir))
