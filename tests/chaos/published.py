"""Published Chaos Toolkit experiments (tests/data/chaostoolkit) and a machine they validate on.

chaostoolkit-lib's ``ensure_experiment_is_valid`` checks the machine as well as the format: every
Python provider's module imports, every process provider's executable is on ``PATH``, every
``env`` configuration key is set. The ``stand_ins`` fixture supplies those (stub modules whose
functions take any arguments, stub executables, placeholder variables), so the validator judges
the format alone: it is the oracle the corpus tests compare Traceo with.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

CORPUS = Path(__file__).resolve().parents[1] / "data" / "chaostoolkit"
FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".json", ".yaml", ".yml"))


def read(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    assert isinstance(document, dict)
    return document


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _missing_modules(document: dict[str, Any]) -> dict[str, set[str]]:
    """Python modules the document names that do not import here, with the functions used."""
    wanted: dict[str, set[str]] = {}
    for node in _walk(document):
        if node.get("type") == "python" and isinstance(node.get("module"), str):
            wanted.setdefault(node["module"], set()).add(str(node.get("func") or "noop"))
    missing = {}
    for module, funcs in wanted.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing[module] = funcs
    return missing


def _prepare(document: dict[str, Any], root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modules = root / "stub_modules"
    for module, funcs in _missing_modules(document).items():
        parts = module.split(".")
        for depth in range(1, len(parts)):
            package = modules.joinpath(*parts[:depth])
            package.mkdir(parents=True, exist_ok=True)
            (package / "__init__.py").touch()
        body = "".join(f"def {f}(*args, **kwargs):\n    return None\n\n" for f in sorted(funcs))
        target = modules.joinpath(*parts[:-1], f"{parts[-1]}.py")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    monkeypatch.syspath_prepend(str(modules))
    importlib.invalidate_caches()

    bin_dir = root / "stub_bin"
    bin_dir.mkdir(exist_ok=True)
    for node in _walk(document):
        path = node.get("path")
        if node.get("type") == "process" and isinstance(path, str) and not shutil.which(path):
            stub = bin_dir / Path(path).name
            stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
            stub.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    sections = [document.get("configuration") or {}]
    sections += [s for s in (document.get("secrets") or {}).values() if isinstance(s, dict)]
    for section in sections:
        for value in section.values():
            if isinstance(value, dict) and value.get("type") == "env" and "default" not in value:
                monkeypatch.setenv(str(value["key"]), "1")


@pytest.fixture(name="stand_ins")
def stand_ins_fixture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[dict[str, Any]], None]]:
    """``stand_ins(document)`` makes this machine satisfy what the document needs of it."""
    before = set(sys.modules)
    yield lambda document: _prepare(document, tmp_path, monkeypatch)
    for name in set(sys.modules) - before:  # stub modules must not outlive their test
        del sys.modules[name]


def chaostoolkit_accepts(document: dict[str, Any]) -> str | None:
    """None when chaostoolkit-lib's validator accepts ``document``, else its message."""
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid

    try:
        ensure_experiment_is_valid(copy.deepcopy(document))
    except ChaosException as exc:
        return str(exc)
    return None
