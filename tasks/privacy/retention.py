"""Retention: delete rows older than the data map's retention for their region and category.

A collection is in scope when it names a ``timestamp_field`` and one of its fields carries a
category that a retention rule covers. Its region is fixed (``region``), read per row
(``region_field``), or unknown (then only ``region: "*"`` rules apply). Several rules may apply:
each deletes what is older than its own limit, so the shortest wins. Every datastore's run is
audited like a request step (request id ``retention``). Running it twice deletes nothing more.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from tasks.privacy import audit
from tasks.privacy.datamap import Collection, DataMap, RetentionRule
from tasks.privacy.datastores.base import Datastore

__all__ = ["RETENTION_ID", "enforce_datastore", "retention_datastores", "rules_for"]

RETENTION_ID = "retention"


def rules_for(datamap: DataMap, col: Collection) -> list[RetentionRule]:
    if not col.timestamp_field:
        return []
    return [r for r in datamap.retention if r.category in col.categories]


def retention_datastores(datamap: DataMap) -> list[str]:
    """Datastores holding at least one collection a retention rule applies to."""
    return sorted({c.datastore for c in datamap.collections.values() if rules_for(datamap, c)})


def enforce_datastore(
    engine: Engine, datamap: DataMap, name: str, store: Datastore, now: datetime, actor: str
) -> dict[str, int]:
    """Delete expired rows in datastore ``name``; rows deleted per collection (audited)."""
    counts: dict[str, int] = {}
    for coll_name, col in sorted(datamap.in_datastore(name).items()):
        rules = rules_for(datamap, col)
        if not rules:
            continue
        deleted = 0
        for rule in rules:
            cutoff = now - timedelta(days=rule.days)
            every = rule.region == "*"
            if col.region is not None:
                if every or rule.region == col.region:
                    deleted += store.purge_older(col, cutoff, None, True)
            elif col.region_field:
                deleted += store.purge_older(col, cutoff, rule.region, every)
            elif every:
                deleted += store.purge_older(col, cutoff, None, True)
        counts[coll_name] = deleted
    audit.append_entry(engine, RETENTION_ID, "retention", name, counts, actor)
    return counts
