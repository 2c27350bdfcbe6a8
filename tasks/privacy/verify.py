"""Verification: query each datastore again and prove the outcome of the request.

Erasure: no planned row of a ``delete`` collection exists, and every row still found (by key or
by the subject's identities) has each masked field in its erased form. Correction: the new
values are present. Opt-out: flags are set and set memberships exist. Returns counts of rows
checked and problems per collection; never the values.
"""

from __future__ import annotations

from typing import Any

from tasks.privacy.datamap import Collection, DataMap
from tasks.privacy.datastores.base import Datastore, Row, is_masked
from tasks.privacy.execute import parse_corrections
from tasks.privacy.plan import Plan

__all__ = ["verify_datastore"]


def _rows(store: Datastore, col: Collection, name: str, plan: Plan) -> list[Row]:
    keys = plan.keys.get(name, [])
    rows = {repr(store.key_of(col, r)): r for r in store.fetch(col, keys)} if keys else {}
    for kind, field in col.identities.items():
        values = plan.identities.get(kind)
        if values:
            rows.update({repr(store.key_of(col, r)): r for r in store.find(col, field, values)})
    return list(rows.values())


def _erasure_problems(col: Collection, rows: list[Row]) -> int:
    if col.erase == "delete":
        return len(rows)
    masks = col.masks
    return sum(1 for r in rows if not all(is_masked(e, r.get(f)) for f, e in masks.items()))


def verify_datastore(
    datamap: DataMap,
    name: str,
    store: Datastore,
    plan: Plan,
    request_type: str,
    corrections: dict[str, Any] | None = None,
) -> dict[str, dict[str, int]]:
    """``{collection: {"checked": n, "problems": m}}`` for the collections of ``name``."""
    report: dict[str, dict[str, int]] = {}
    fixes = parse_corrections(datamap, corrections or {}) if request_type == "correction" else {}
    for coll_name, col in sorted(datamap.in_datastore(name).items()):
        if request_type == "erasure":
            rows = _rows(store, col, coll_name, plan)
            report[coll_name] = {"checked": len(rows), "problems": _erasure_problems(col, rows)}
        elif request_type == "correction" and coll_name in fixes:
            keys = plan.keys.get(coll_name, [])
            rows = store.fetch(col, keys) if keys else []
            wrong = sum(
                1 for r in rows if any(str(r.get(f)) != str(v) for f, v in fixes[coll_name].items())
            )
            report[coll_name] = {"checked": len(rows), "problems": wrong + len(keys) - len(rows)}
        elif request_type == "opt-out" and col.opt_out_field:
            keys = plan.keys.get(coll_name, [])
            rows = store.fetch(col, keys) if keys else []
            unset = sum(1 for r in rows if r.get(col.opt_out_field) in (None, False, 0, "0", ""))
            report[coll_name] = {"checked": len(rows), "problems": unset}
    if request_type == "opt-out":
        for target in datamap.opt_out:
            if target.datastore == name:
                members = plan.identities.get(target.member, [])
                present = store.members_present(target.set, members)
                report[f"set:{target.set}"] = {
                    "checked": len(members),
                    "problems": len(members) - present,
                }
    return report
