from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import SpecError
from tasks.privacy.datamap import load_datamap, topological_order

DATAMAPS = Path(__file__).resolve().parents[2] / "deployments" / "datamaps"

BASE = """
datastores:
  db: {kind: postgresql, connection: {env: DB_URL}}
  cache: {kind: redis, connection: {env: REDIS_URL}}
collections:
  customers:
    datastore: db
    table: customers
    primary_key: [id]
    identities: {email: email}
    fields: {email: {erase: hmac}}
"""


def _load(tmp_path, extra: str):
    path = tmp_path / "map.yaml"
    path.write_text(BASE + extra, encoding="utf-8")
    return load_datamap(path)


def _issues(tmp_path, extra: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        _load(tmp_path, extra)
    return [str(i) for i in info.value.issues]


@pytest.mark.parametrize("name", ["shop.yaml", "demo.yaml"])
def test_the_shipped_data_maps_are_valid(name):
    datamap = load_datamap(DATAMAPS / name)
    assert "customers" in datamap.collections


def test_reference_order_puts_referenced_collections_first():
    datamap = load_datamap(DATAMAPS / "shop.yaml")
    order = topological_order(datamap.collections)
    assert order.index("customers") < order.index("orders")


def test_unknown_collection_and_field_in_a_reference_are_named(tmp_path):
    issues = _issues(
        tmp_path,
        """
  orders:
    datastore: db
    table: orders
    primary_key: [id]
    references:
      - {field: customer_id, collection: clients, to: id}
      - {field: customer_id, collection: customers, to: uuid}
""",
    )
    path = str(tmp_path / "map.yaml")
    assert (
        f"{path}: collections.orders: references[0].collection: unknown collection 'clients'"
        in issues
    )
    assert any("references[1].to" in i and "'uuid'" in i for i in issues)


def test_a_reference_cycle_is_reported(tmp_path):
    issues = _issues(
        tmp_path,
        """
  a:
    datastore: db
    table: a
    primary_key: [id]
    references: [{field: b_id, collection: b, to: id}]
  b:
    datastore: db
    table: b
    primary_key: [id]
    references: [{field: a_id, collection: a, to: id}]
""",
    )
    assert any("reference cycle: a -> b -> a" in i for i in issues)


def test_a_collection_no_identity_reaches_is_reported(tmp_path):
    issues = _issues(
        tmp_path,
        """
  audit_log:
    datastore: db
    table: audit_log
    primary_key: [id]
""",
    )
    assert issues == [
        f"{tmp_path / 'map.yaml'}: collections.audit_log: identities: "
        "no identity reaches this collection (declare identities or a reference)"
    ]


def test_schema_errors_name_the_field(tmp_path):
    issues = _issues(
        tmp_path,
        """
  sessions:
    datastore: cache
    key: "s:{customer_id}"
    identities: {customer_id: customer_id}
    fields:
      email: {erase: scramble}
      name: {erase: {strategy: fixed}}
""",
    )
    assert any("collections.sessions.fields.email.erase.strategy" in i for i in issues)
    assert any("collections.sessions.fields.name.erase" in i and "'value'" in i for i in issues)


def test_kind_specific_requirements_are_checked(tmp_path):
    issues = _issues(
        tmp_path,
        """
  carts:
    datastore: cache
    key: "cart:{customer_id}"
    type: string
    identities: {customer_id: customer_id}
    fields: {items: {erase: nullify}}
  notes:
    datastore: nowhere
    identities: {email: email}
  orders:
    datastore: db
    identities: {email: email}
""",
    )
    text = "\n".join(issues)
    assert "collections.carts: erase: a Redis string can only be erased with 'delete'" in text
    assert "collections.notes: datastore: unknown datastore 'nowhere'" in text
    assert "collections.orders: table: a postgresql collection needs 'table'" in text
    assert "collections.orders: primary_key: a SQL collection needs a primary key" in text


def test_connections_need_exactly_one_source(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(
        "datastores: {db: {kind: sqlite, connection: {}}}\ncollections: {}\n", encoding="utf-8"
    )
    with pytest.raises(
        SpecError, match=r"datastores\.db\.connection: Value error, give exactly one"
    ):
        load_datamap(path)
