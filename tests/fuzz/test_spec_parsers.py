"""Every spec parser survives hostile files: it loads them or names the file in its refusal."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.documents import document_text, mutated, raw_bytes, yaml_like_text
from tests.fuzz.targets import SPEC_TARGETS, Target, check_outcome

pytestmark = pytest.mark.parametrize("target", SPEC_TARGETS, ids=lambda t: t.name)


@functools.cache
def _seeds(target: Target) -> list[Any]:
    return target.seed_documents()


def test_every_target_has_seeds(target: Target) -> None:
    assert _seeds(target)


@given(data=st.data())
def test_mutated_real_files_load_or_name_the_file(target: Target, data: Any, tmp_path) -> None:
    document = data.draw(mutated(_seeds(target)))
    path = tmp_path / f"fuzzed{target.suffix}"
    path.write_text(document_text(document, target.suffix), encoding="utf-8")
    check_outcome(target.load, path)


@given(text=yaml_like_text())
def test_yaml_like_text_loads_or_names_the_file(target: Target, text: str, tmp_path) -> None:
    path = tmp_path / f"fuzzed{target.suffix}"
    path.write_text(text, encoding="utf-8")
    check_outcome(target.load, path)


@given(content=raw_bytes())
def test_raw_bytes_load_or_name_the_file(target: Target, content: bytes, tmp_path) -> None:
    path = tmp_path / f"fuzzed{target.suffix}"
    path.write_bytes(content)
    check_outcome(target.load, path)
