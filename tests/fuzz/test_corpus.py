"""Inputs that once crashed a parser (tests/data/fuzz/<target>/) load or are refused cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.targets import DATA, TARGETS, check_outcome

CORPUS = DATA / "fuzz"
_BY_NAME = {target.name: target for target in TARGETS}
SEEDS = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "README.md")


def test_every_seed_belongs_to_a_target() -> None:
    assert SEEDS
    assert {p.parent.name for p in SEEDS} <= set(_BY_NAME)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_seed_loads_or_is_refused_naming_the_file(seed: Path) -> None:
    check_outcome(_BY_NAME[seed.parent.name].load, seed)
