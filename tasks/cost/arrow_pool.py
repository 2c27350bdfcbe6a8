"""Arrow's allocator for ingestion: jemalloc where pyarrow ships it.

Ingesting a file allocates and frees column buffers of a chunk's size (a few MB each, a few
hundred per million rows: read, converted, split by partition, encoded). With pyarrow's default
allocator on Linux, mimalloc, much of that became system time: on 1M FOCUS rows (the
``cost_ingest`` benchmark's file) 1.1 s of the 3.4 s of CPU the ingestion used, against 0.35 s of
2.6 s with jemalloc, which keeps freed pages for reuse a while longer. On a busy machine the
difference was 10.1 s against 3.1 s of wall time (docs/scale.md). Arrow has one default pool per
process, so the choice is the process's; an allocator named in ``ARROW_DEFAULT_MEMORY_POOL`` is
the operator's choice and is kept.
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
