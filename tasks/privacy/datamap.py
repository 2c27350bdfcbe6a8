"""The data map: where a data subject's personal data lives and how each field is erased.

A YAML file declares datastores (SQL databases, Redis, S3 prefixes) and collections in them: the
identity fields a subject is found by, primary keys, references to other collections, data
categories and an erasure strategy per field, plus retention per region and category. Loading
validates the schema with pydantic and then the graph: unknown datastores / collections / fields,
reference cycles and collections no identity reaches are all reported at once, each naming the
file, the collection and the field (:class:`~tasks.errors.SpecError`).
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tasks.errors import SpecError, SpecIssue
from tasks.specs import load_documents, validation_issues

__all__ = [
    "SQL_KINDS",
    "AccessSpec",
    "Collection",
    "Connection",
    "DataMap",
    "Datastore",
    "Erasure",
    "FieldSpec",
    "IdentityKind",
    "OptOutSet",
    "Reference",
    "RetentionRule",
    "load_datamap",
    "topological_order",
]

IdentityKind = Literal["email", "phone", "customer_id"]
SQL_KINDS = ("postgresql", "mysql", "sqlite")
_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Connection(_Spec):
    """Where credentials come from: a saved Prefect block, or an environment variable."""

    block: str | None = None
    env: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Connection:
        if (self.block is None) == (self.env is None):
            raise ValueError("give exactly one of 'block' or 'env'")
        return self


class Datastore(_Spec):
    kind: Literal["postgresql", "mysql", "sqlite", "redis", "s3"]
    connection: Connection
    bucket: str | None = Field(default=None, description="S3 only: the bucket.")


class Erasure(_Spec):
    """How one field is erased: set to NULL, a fixed string, or a keyed hash (HMAC-SHA256)."""

    strategy: Literal["nullify", "fixed", "hmac"]
    value: str | None = None

    @model_validator(mode="after")
    def _fixed_needs_value(self) -> Erasure:
        if self.strategy == "fixed" and self.value is None:
            raise ValueError("strategy 'fixed' needs a 'value'")
        if self.strategy != "fixed" and self.value is not None:
            raise ValueError(f"'value' only applies to strategy 'fixed', not {self.strategy!r}")
        return self


class FieldSpec(_Spec):
    categories: list[str] = Field(default_factory=list)
    erase: Erasure | None = None

    @field_validator("erase", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # "nullify" / "hmac" as a plain string; {"fixed": "[erased]"} as a one-key mapping.
        if isinstance(value, str):
            return {"strategy": value}
        if isinstance(value, dict) and list(value) == ["fixed"]:
            return {"strategy": "fixed", "value": value["fixed"]}
        return value


class Reference(_Spec):
    """``field`` of this collection holds values of ``to`` in ``collection``."""

    field: str
    collection: str
    to: str


class Collection(_Spec):
    datastore: str
    table: str | None = Field(default=None, description="SQL: the table.")
    key: str | None = Field(
        default=None, description="Redis: key template, e.g. 'shop:session:{customer_id}'."
    )
    type: Literal["hash", "string"] = Field(default="hash", description="Redis value type.")
    prefix: str | None = Field(default=None, description="S3: the object key prefix.")
    format: Literal["json", "csv"] = Field(default="json", description="S3 object format.")
    primary_key: list[str] = Field(default_factory=list)
    identities: dict[IdentityKind, str] = Field(default_factory=dict)
    references: list[Reference] = Field(default_factory=list)
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    erase: Literal["mask", "delete"] = "mask"
    region: str | None = Field(default=None, description="Retention: a fixed region.")
    region_field: str | None = Field(default=None, description="Retention: the region column.")
    timestamp_field: str | None = Field(default=None, description="Retention: the row's age.")
    opt_out_field: str | None = Field(default=None, description="SQL: flag set on opt-out.")

    @property
    def key_fields(self) -> list[str]:
        """Placeholders of a Redis key template (values readable from the key itself)."""
        if not self.key:
            return []
        return [name for _, name, _, _ in string.Formatter().parse(self.key) if name]

    @property
    def known_fields(self) -> set[str]:
        names = set(self.primary_key) | set(self.identities.values()) | set(self.fields)
        names |= {r.field for r in self.references} | set(self.key_fields)
        return names | {f for f in (self.region_field, self.timestamp_field) if f}

    @property
    def categories(self) -> set[str]:
        return {c for spec in self.fields.values() for c in spec.categories}

    @property
    def masks(self) -> dict[str, Erasure]:
        return {name: spec.erase for name, spec in self.fields.items() if spec.erase}


class RetentionRule(_Spec):
    region: str
    category: str
    days: int = Field(gt=0)


class OptOutSet(_Spec):
    """A Redis set the subject's identity (``member``) is added to on opt-out."""

    datastore: str
    set: str
    member: IdentityKind


class AccessSpec(_Spec):
    """Where access bundles go: ``s3://bucket/prefix`` (credentials of ``datastore``) or a dir."""

    destination: str | None = None
    datastore: str | None = None
    link_ttl_hours: int = Field(default=72, gt=0, le=24 * 7)


class DataMap(_Spec):
    version: Literal[1] = 1
    hash_key: Connection = Field(default_factory=lambda: Connection(env="TRACEO_DSR_HASH_KEY"))
    datastores: dict[str, Datastore]
    collections: dict[str, Collection]
    retention: list[RetentionRule] = Field(default_factory=list)
    opt_out: list[OptOutSet] = Field(default_factory=list)
    access: AccessSpec = Field(default_factory=AccessSpec)

    def in_datastore(self, datastore: str) -> dict[str, Collection]:
        return {n: c for n, c in self.collections.items() if c.datastore == datastore}


def topological_order(collections: dict[str, Collection]) -> list[str]:
    """Collections ordered so each comes after every collection it references (no cycles)."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name) == 2:
            return
        state[name] = 1
        for ref in collections[name].references:
            if ref.collection in collections and state.get(ref.collection) != 1:
                visit(ref.collection)
        state[name] = 2
        order.append(name)

    for name in sorted(collections):
        visit(name)
    return order


def _find_cycle(collections: dict[str, Collection]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for ref in collections[name].references:
            target = ref.collection
            if target not in collections:
                continue
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if state.get(target) is None and (found := visit(target)):
                return found
        stack.pop()
        state[name] = 2
        return None

    for name in sorted(collections):
        if state.get(name) is None and (cycle := visit(name)):
            return cycle
    return None


def _graph_issues(file: str, dm: DataMap) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    cols = dm.collections

    def issue(item: str | None, field: str | None, reason: str) -> None:
        issues.append(SpecIssue(file, item, field, reason))

    for name, spec in dm.datastores.items():
        if spec.kind == "s3" and not spec.bucket:
            issue(f"datastores.{name}", "bucket", "an s3 datastore needs a bucket")
    for name, col in cols.items():
        item = f"collections.{name}"
        store = dm.datastores.get(col.datastore)
        if store is None:
            issue(item, "datastore", f"unknown datastore {col.datastore!r}")
        else:
            needs = {"redis": "key", "s3": "prefix"}.get(store.kind, "table")
            if getattr(col, needs) is None:
                issue(item, needs, f"a {store.kind} collection needs '{needs}'")
            opaque = store.kind == "redis" and col.type == "string"
            if opaque and (col.masks or col.erase != "delete"):
                issue(item, "erase", "a Redis string can only be erased with 'delete'")
            if col.timestamp_field and store.kind == "redis":
                issue(item, "timestamp_field", "retention in Redis is a key TTL, not a field")
            if col.opt_out_field and store.kind not in SQL_KINDS:
                issue(item, "opt_out_field", "opt-out flags are supported on SQL collections")
        if store is not None and store.kind in SQL_KINDS and not col.primary_key:
            issue(item, "primary_key", "a SQL collection needs a primary key")
        for table_name in filter(None, [col.table]):
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_.]*$", table_name):
                issue(item, "table", f"invalid table name {table_name!r}")
        for i, ref in enumerate(col.references):
            where = f"references[{i}]"
            target = cols.get(ref.collection)
            if target is None:
                issue(item, f"{where}.collection", f"unknown collection {ref.collection!r}")
            elif ref.to not in target.known_fields:
                issue(item, f"{where}.to", f"{ref.collection!r} declares no field {ref.to!r}")
        for field in [*col.fields, *col.primary_key, *col.identities.values()]:
            if not re.match(_NAME, field):
                issue(item, field, "field names must be identifiers")
    if issues:
        return issues
    cycle = _find_cycle(cols)
    if cycle:
        issue(f"collections.{cycle[0]}", "references", "reference cycle: " + " -> ".join(cycle))
        return issues
    reached = {n for n, c in cols.items() if c.identities}
    for name in topological_order(cols):
        if any(r.collection in reached for r in cols[name].references):
            reached.add(name)
    for name in sorted(set(cols) - reached):
        issue(
            f"collections.{name}",
            "identities",
            "no identity reaches this collection (declare identities or a reference)",
        )
    for i, opt_out in enumerate(dm.opt_out):
        kind = dm.datastores[opt_out.datastore].kind if opt_out.datastore in dm.datastores else None
        if kind != "redis":
            issue(f"opt_out[{i}]", "datastore", f"{opt_out.datastore!r} is not a redis datastore")
    if dm.access.datastore and dm.access.datastore not in dm.datastores:
        issue("access", "datastore", f"unknown datastore {dm.access.datastore!r}")
    return issues


def load_datamap(path: Path | str) -> DataMap:
    """Load and validate a data map; every problem is reported in one :class:`SpecError`."""
    file = str(path)
    documents = load_documents(Path(path))
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise SpecError([SpecIssue(file, None, None, "a data map is one YAML mapping")])
    try:
        datamap = DataMap.model_validate(documents[0])
    except ValidationError as exc:
        raise SpecError(validation_issues(file, None, exc)) from None
    issues = _graph_issues(file, datamap)
    if issues:
        raise SpecError(issues)
    return datamap
