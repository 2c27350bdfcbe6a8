"""Planning: find every row of a data subject by graph traversal from their identities.

Identity collections are searched with the request's identities; identity values that are the
primary key of the rows found (say the customer id of the row matched by e-mail) are searched for
too, until nothing new turns up. Other identity values on those rows (a phone number, a second
e-mail) are not: they may be shared with another person. Then collections are visited in
reference order: a collection that references another is searched for the referenced values of
the rows already found. The plan keeps only row keys and the identity values, so later steps (and
a rerun) act on exactly these rows even after the values that led to them have been erased.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from tasks.privacy.datamap import DataMap, topological_order
from tasks.privacy.datastores.base import Datastore, Row

__all__ = ["Plan", "build_plan"]

_MAX_ROUNDS = 5


class Plan(BaseModel):
    """Row keys per collection and the subject's identity values (both stay in the store)."""

    keys: dict[str, list[Any]] = Field(default_factory=dict)
    identities: dict[str, list[str]] = Field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {name: len(keys) for name, keys in sorted(self.keys.items())}


def build_plan(
    datamap: DataMap, identities: dict[str, str | None], store_for: Callable[[str], Datastore]
) -> Plan:
    """Traverse the data map from ``identities``; ``store_for(name)`` opens a datastore."""
    cols = datamap.collections
    known: dict[str, set[str]] = {k: {str(v)} for k, v in identities.items() if v}
    queried: dict[tuple[str, str], set[str]] = {}
    found: dict[str, dict[str, Any]] = {}
    keys: dict[str, dict[str, Any]] = {}

    def record(name: str, store: Datastore, rows: list[Row]) -> None:
        col = cols[name]
        for row in rows:
            key = store.key_of(col, row)
            if repr(key) not in keys.setdefault(name, {}):
                keys[name][repr(key)] = key
                found.setdefault(name, {})[repr(key)] = row

    for _ in range(_MAX_ROUNDS):
        grew = False
        for name, col in sorted(cols.items()):
            store = store_for(col.datastore)
            for kind, field in sorted(col.identities.items()):
                new = known.get(kind, set()) - queried.get((name, kind), set())
                if not new:
                    continue
                queried.setdefault((name, kind), set()).update(new)
                record(name, store, store.find(col, field, new))
            for kind, field in col.identities.items():
                if field not in col.primary_key:
                    continue  # a shared phone or e-mail must not pull in someone else's rows
                values = {str(r[field]) for r in found.get(name, {}).values() if r.get(field)}
                if values - known.get(kind, set()):
                    known.setdefault(kind, set()).update(values)
                    grew = True
        if not grew:
            break

    for name in topological_order(cols):
        col = cols[name]
        store = store_for(col.datastore)
        for ref in col.references:
            values = {r.get(ref.to) for r in found.get(ref.collection, {}).values()}
            values.discard(None)
            if values:
                record(name, store, store.find(col, ref.field, values))
    return Plan(
        keys={name: list(keys.get(name, {}).values()) for name in sorted(cols)},
        identities={kind: sorted(values) for kind, values in sorted(known.items())},
    )
