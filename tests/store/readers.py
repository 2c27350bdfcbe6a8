"""What the store's readers see, as plain lists: stores holding the same results compare equal."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tasks.store.raw_reads import read_raw
from tasks.store.rollup_reads import read_rollups

EXTRA = ("status_code", "failing_step", "error", "attempts", "detail", "cert_expires_at")


def readers_view(engine, checks: Sequence[str]) -> dict[str, list]:
    """Raw columns (every field) and every rollup bucket's cells of ``checks``."""
    with engine.connect() as conn:
        raw = read_raw(conn, None, None, None, extra=EXTRA)
        whole = [(0, 2**40)]
        rollups = read_rollups(conn, checks, {60: whole, 3600: whole, 86400: whole})
    return {
        "raw": [
            raw.check_id.tolist(),
            raw.region.tolist(),
            raw.scheduled_us.tolist(),
            raw.started_us.tolist(),
            raw.verdict.tolist(),
            np.nan_to_num(raw.duration_ms, nan=-1).tolist(),
            raw.simulated.tolist(),
            *(raw.extra[f].tolist() for f in EXTRA),
        ],
        "rollups": sorted(
            zip(
                rollups.check_id.tolist(),
                rollups.region.tolist(),
                rollups.resolution.tolist(),
                rollups.bucket_start.tolist(),
                [sorted((k, tuple(v)) for k, v in c.items()) for c in rollups.cells],
                strict=True,
            )
        ),
    }
