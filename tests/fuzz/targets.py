"""Every spec parser the fuzzers drive: how to load one file, and the real files that seed it.

A target's ``load(path)`` runs the same loader as its ``validate`` command or flow. The
oracle, :func:`check_outcome`, accepts success or a Traceo error whose every problem names the
file; anything else (a traceback from a bare ``float()``, a ``TypeError``, a ``RecursionError``)
fails the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.chaos.experiment import load_experiment
from tasks.chargeback.config import load_chargeback_config
from tasks.cost.anomaly.monitors import load_monitors
from tasks.cost.focus import CostDataError
from tasks.cost.normalise import normalise
from tasks.cost.sources.config import load_source_configs
from tasks.cost.sources.focus_files import read_focus_batches
from tasks.errors import SpecError, TraceoError
from tasks.privacy.datamap import load_datamap
from tasks.probes.loader import load_checks
from tasks.settings.areas import ChaosSettings
from tasks.slo.loader import load_slo_set
from tasks.specs import load_documents

__all__ = ["FOCUS", "SPEC_TARGETS", "TARGETS", "Target", "check_outcome"]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "deployments"
DATA = ROOT / "tests" / "data"


@dataclass(frozen=True)
class Target:
    """One parser: its name (the corpus directory), loader and seed files."""

    name: str
    load: Callable[[Path], Any]
    seeds: tuple[Path, ...]
    suffix: str = ".yaml"

    def seed_documents(self) -> list[Any]:
        """Every document of every seed file, parsed (each YAML document on its own)."""
        documents: list[Any] = []
        for path in self.seeds:
            if path.suffix == ".json":
                documents.append(json.loads(path.read_text(encoding="utf-8")))
            else:
                documents.extend(load_documents(path))
        return documents


def _chaos(path: Path) -> Any:
    return load_experiment(path, ChaosSettings(max_duration_seconds=900))


def _focus(path: Path) -> None:
    origin = str(path)
    for first_row, raw in read_focus_batches(path.read_bytes(), origin):
        normalise(raw, origin, first_row=first_row)


SPEC_TARGETS = (
    Target("checks", lambda p: load_checks([p]), tuple(sorted((EXAMPLES / "checks").glob("*")))),
    Target(
        "slos",
        lambda p: load_slo_set([p]),
        (*sorted((EXAMPLES / "slos").glob("*")), *sorted((DATA / "openslo").rglob("*.yaml"))),
    ),
    Target("experiments", _chaos, tuple(sorted((EXAMPLES / "experiments").glob("*")))),
    Target(
        "experiments-json",
        _chaos,
        tuple(sorted((DATA / "chaostoolkit").rglob("*.json"))),
        suffix=".json",
    ),
    Target("datamaps", load_datamap, tuple(sorted((EXAMPLES / "datamaps").glob("*")))),
    Target(
        "chargeback-teams",
        lambda p: load_chargeback_config(p, EXAMPLES / "chargeback" / "ratecard.yaml"),
        (EXAMPLES / "chargeback" / "teams.yaml",),
    ),
    Target(
        "chargeback-ratecard",
        lambda p: load_chargeback_config(EXAMPLES / "chargeback" / "teams.yaml", p),
        (EXAMPLES / "chargeback" / "ratecard.yaml",),
    ),
    Target("cost-sources", load_source_configs, (EXAMPLES / "cost" / "sources.yaml",)),
    Target("monitors", lambda p: load_monitors([p]), (EXAMPLES / "cost" / "monitors.yaml",)),
)
FOCUS = Target(
    "focus",
    _focus,
    (DATA / "focus" / "focus_1_0_sample_1000.csv", *sorted(DATA.glob("focus/spec-examples/*"))),
    ".csv",
)
TARGETS = (*SPEC_TARGETS, FOCUS)


def check_outcome(load: Callable[[Path], Any], path: Path) -> None:
    """Load ``path``: success, or a Traceo error whose every problem names the file."""
    try:
        load(path)
    except SpecError as exc:
        assert exc.issues, "a SpecError with no issue"
        for issue in exc.issues:
            assert path.name in issue.file, f"issue does not name the file: {issue}"
            assert issue.reason.strip(), f"issue without a reason: {issue}"
    except CostDataError as exc:
        for data_issue in exc.issues:
            assert path.name in data_issue.file, f"issue does not name the file: {data_issue}"
    except TraceoError as exc:
        assert path.name in str(exc), f"error does not name the file: {exc}"
