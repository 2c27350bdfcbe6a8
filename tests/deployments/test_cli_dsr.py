from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import update

from deployments.cli_dsr import dsr
from tasks.privacy.audit import append_entry
from tasks.privacy.requests import create_request, parse_new_request
from tasks.store import get_engine, session_scope
from tasks.store.fulfilment_models import DsrAuditEntry


def test_audit_verify_passes_then_names_the_tampered_entry():
    engine = get_engine()
    for step in ("begin", "plan", "close"):
        append_entry(engine, "req-9", step, "", {"rows": 1})
    runner = CliRunner()
    result = runner.invoke(dsr, ["audit", "verify"])
    assert result.exit_code == 0 and "intact: 3 entries" in result.output
    with session_scope(engine) as session:
        session.execute(update(DsrAuditEntry).where(DsrAuditEntry.seq == 2).values(step="erase"))
    result = runner.invoke(dsr, ["audit", "verify"])
    assert result.exit_code == 1
    assert "TAMPERED entry 2: content does not match its hash (edited)" in result.output


def test_status_and_list_show_ids_not_identities():
    engine = get_engine()
    new = parse_new_request(
        {
            "source": "cli",
            "ticket_id": "OPS-1",
            "request_type": "erasure",
            "jurisdiction": "GDPR",
            "identities": {"email": "carol@example.com"},
        }
    )
    request_id = create_request(engine, new).public_id
    runner = CliRunner()
    listed = runner.invoke(dsr, ["list"])
    status = runner.invoke(dsr, ["status", request_id])
    assert request_id in listed.output and "erasure" in status.output
    assert "carol" not in listed.output + status.output
    missing = runner.invoke(dsr, ["status", "no-such-id"])
    assert missing.exit_code == 2 and "not found" in missing.output


def test_datamap_validate_reports_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("datastores: {}\ncollections: {c: {datastore: x}}\n", encoding="utf-8")
    result = CliRunner().invoke(dsr, ["datamap", "validate", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: collections.c: datastore: unknown datastore 'x'" in result.output
    ok = CliRunner().invoke(dsr, ["datamap", "validate", "deployments/datamaps/shop.yaml"])
    assert ok.exit_code == 0 and "valid (4 datastores" in ok.output
