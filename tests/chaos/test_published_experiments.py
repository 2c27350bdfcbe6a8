"""Published Chaos Toolkit experiments: what chaostoolkit-lib's validator accepts, Traceo accepts.

The corpus is tests/data/chaostoolkit (sources in its README). Traceo needs its ``traceo``
extension, which no published file has: with it added, each file loads; without it, the missing
extension is the only problem reported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tasks.chaos.experiment import load_experiment
from tasks.errors import SpecError
from tests.chaos.published import FILES, chaostoolkit_accepts, read, stand_ins_fixture  # noqa: F401

TRACEO = {"name": "traceo", "service": "published", "max_duration_seconds": 900}


@pytest.fixture(autouse=True)
def _no_operator_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACEO_CHAOS_ALLOWED_TARGETS", raising=False)


def _copy(document: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _published(path: Path, stand_ins: Any) -> dict[str, Any]:
    document = read(path)
    stand_ins(document)
    assert chaostoolkit_accepts(document) is None  # the corpus holds what the format allows
    return document


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_traceo_accepts_what_chaostoolkit_accepts(path, stand_ins, tmp_path):
    document = _published(path, stand_ins)
    document["extensions"] = [*(document.get("extensions") or []), TRACEO]

    loaded = load_experiment(_copy(document, tmp_path / path.name))

    assert loaded.title == document["title"]
    assert len(loaded.spec.method) == len(document["method"])


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_without_the_extension_only_the_extension_is_reported(path, stand_ins, tmp_path):
    copy = _copy(_published(path, stand_ins), tmp_path / path.name)

    with pytest.raises(SpecError) as caught:
        load_experiment(copy)

    assert [(i.field, i.reason) for i in caught.value.issues] == [
        ("extensions", "needs exactly one extension named traceo (the service, its checks, limits)")
    ]
