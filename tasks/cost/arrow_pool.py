"""Arrow's allocator for ingestion: jemalloc where pyarrow ships it.

Ingesting a file allocates and frees column buffers of a chunk's size, a few MB each, for every
chunk (read, converted, split by partition, encoded). With pyarrow's default allocator on Linux,
mimalloc, much of that became system time: on 1M FOCUS rows (the ``cost_ingest`` benchmark's
file) 1.1-1.2 s of the 3.4-3.8 s of CPU the ingestion used, against 0.4-0.5 s of 2.6-3.3 s with
jemalloc (docs/scale.md has the benchmark's figures). Arrow has one default pool per process, so
the choice is the process's; an allocator named in ``ARROW_DEFAULT_MEMORY_POOL`` is the
operator's choice and is kept.
"""

from __future__ import annotations

import os

import pyarrow as pa

__all__ = ["use_jemalloc"]


def use_jemalloc() -> None:
    """Make jemalloc Arrow's default pool in this process (idempotent).

    Nothing changes when ``ARROW_DEFAULT_MEMORY_POOL`` names a pool, or when this pyarrow build
    has no jemalloc (it is optional on some platforms).
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        return
    pa.set_memory_pool(pool)
