"""Acting on one datastore for one request: export, erase, correct or opt out.

Each function works from the stored :class:`~tasks.privacy.plan.Plan` (the row keys found for the
subject) and returns counts per collection only. A datastore's work for a request is one step:
the caller records it done once the function returns, and a rerun never repeats it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any, Protocol

from tasks.errors import PermanentError
from tasks.privacy.datamap import DataMap
from tasks.privacy.datastores.base import Datastore, Row
from tasks.privacy.plan import Plan

__all__ = [
    "BundleWriter",
    "correct_datastore",
    "erase_datastore",
    "export_datastore",
    "opt_out_datastore",
    "parse_corrections",
]


class BundleWriter(Protocol):
    def put(self, name: str, data: bytes) -> None: ...


def _public(row: Row) -> Row:
    """The row as exported: internal bookkeeping fields (``_key``, ``_object``) left out."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _csv(rows: list[Row]) -> bytes:
    header: list[str] = []
    for row in rows:
        header.extend(k for k in row if k not in header)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return out.getvalue().encode("utf-8")


def export_datastore(
    datamap: DataMap, name: str, store: Datastore, plan: Plan, writer: BundleWriter
) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    """Write JSON and CSV of every planned row of ``name``; counts and files (sha256, size)."""
    counts: dict[str, int] = {}
    files: dict[str, dict[str, Any]] = {}
    for coll_name, col in sorted(datamap.in_datastore(name).items()):
        keys = plan.keys.get(coll_name, [])
        rows = [_public(r) for r in store.fetch(col, keys)] if keys else []
        counts[coll_name] = len(rows)
        payloads = {
            f"{coll_name}.json": json.dumps(rows, indent=2, default=str).encode("utf-8"),
            f"{coll_name}.csv": _csv(rows),
        }
        for file_name, data in payloads.items():
            writer.put(file_name, data)
            files[file_name] = {
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
                "rows": len(rows),
            }
    return counts, files


def erase_datastore(
    datamap: DataMap, name: str, store: Datastore, plan: Plan, hash_key: bytes
) -> dict[str, int]:
    """Delete or mask every planned row of ``name``; rows affected per collection."""
    counts = {}
    for coll_name, col in sorted(datamap.in_datastore(name).items()):
        keys = plan.keys.get(coll_name, [])
        counts[coll_name] = store.erase(col, keys, hash_key) if keys else 0
    return counts


def parse_corrections(datamap: DataMap, corrections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"collection.field": value}`` as ``{collection: {field: value}}``, checked against the map.

    Errors name the collection and field only, never the new value.
    """
    parsed: dict[str, dict[str, Any]] = {}
    for target, value in sorted(corrections.items()):
        coll_name, _, field = target.partition(".")
        col = datamap.collections.get(coll_name)
        if col is None:
            raise PermanentError(f"correction {target!r}: unknown collection {coll_name!r}")
        if field not in col.fields or field in col.primary_key:
            raise PermanentError(f"correction {target!r}: {coll_name!r} has no correctable field")
        parsed.setdefault(coll_name, {})[field] = value
    return parsed


def correct_datastore(
    datamap: DataMap, name: str, store: Datastore, plan: Plan, corrections: dict[str, Any]
) -> dict[str, int]:
    """Set the corrected values on the planned rows of ``name``; rows updated per collection."""
    counts = {}
    by_collection = parse_corrections(datamap, corrections)
    for coll_name, col in sorted(datamap.in_datastore(name).items()):
        keys = plan.keys.get(coll_name, [])
        changes = by_collection.get(coll_name)
        counts[coll_name] = store.update(col, keys, changes) if keys and changes else 0
    return counts


def opt_out_datastore(datamap: DataMap, name: str, store: Datastore, plan: Plan) -> dict[str, int]:
    """Set opt-out flags on planned rows and add the subject to configured Redis sets."""
    counts = {}
    for coll_name, col in sorted(datamap.in_datastore(name).items()):
        keys = plan.keys.get(coll_name, [])
        if col.opt_out_field:
            counts[coll_name] = store.update(col, keys, {col.opt_out_field: True}) if keys else 0
    for target in datamap.opt_out:
        if target.datastore == name:
            members = plan.identities.get(target.member, [])
            store.add_to_set(target.set, members)
            counts[f"set:{target.set}"] = len(members)
    return counts
