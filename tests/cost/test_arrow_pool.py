"""Ingestion runs on jemalloc where pyarrow has it, unless the operator chose a pool."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pyarrow as pa
import pytest

from tasks.cost.arrow_pool import use_jemalloc
from tasks.cost.ingest import ingest_source
from tasks.cost.sources.focus_files import FocusFileSource
from tests.cost.helpers import SAMPLE


@pytest.fixture
def default_pool(monkeypatch) -> Iterator[None]:
    """The process's Arrow pool as before the test, whatever the test made it."""
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    yield
    pa.set_memory_pool(before)


@pytest.fixture
def jemalloc() -> None:
    if "jemalloc" not in pa.supported_memory_backends():
        pytest.skip("this pyarrow build has no jemalloc")


def test_an_ingestion_makes_jemalloc_the_default_pool(default_pool, jemalloc, store_engine):
    source = FocusFileSource("focus-sample", str(SAMPLE))
    ingest_source(store_engine, source, date(2024, 9, 1), date(2024, 10, 1))
    assert pa.default_memory_pool().backend_name == "jemalloc"


def test_a_pool_the_operator_named_is_kept(default_pool, jemalloc, monkeypatch):
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    use_jemalloc()
    assert pa.default_memory_pool().backend_name == "system"


def test_without_jemalloc_the_pool_stays(default_pool, monkeypatch):
    def missing() -> pa.MemoryPool:
        raise NotImplementedError("built without jemalloc")

    monkeypatch.setattr(pa, "jemalloc_memory_pool", missing)
    use_jemalloc()
    assert pa.default_memory_pool().backend_name == "system"
