"""``inspect-kit verify``: the audit chain, finding histories and manifests of exports and reports."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from inspect_kit import audit, manifests
from inspect_kit.actors import SYSTEM
from inspect_kit.cli import cli
from inspect_kit.schema import evidence_migrations
from inspect_kit.store import Store, connect
from inspect_kit.verify import verify_store

from .conftest import copy_store

START = dt.date(2008, 11, 10)


@pytest.fixture(scope="module")
def demo_store(demo_template, tmp_path_factory) -> Store:
    return copy_store(demo_template(START), tmp_path_factory.mktemp("verify-demo"))


@pytest.fixture
def home(demo_store, tmp_path):
    """A private copy of the demo store to change."""
    copy = tmp_path / "evidence"
    shutil.copytree(demo_store.home, copy)
    return copy


def tamper(home, find_sql: str, change_sql: str) -> int:
    """Change one row behind the app's back, as anyone with the file and sqlite3 could: the id
    ``find_sql`` finds, passed to ``change_sql``. Returns that id."""
    with contextlib.closing(sqlite3.connect(home / "evidence.db")) as conn:
        row_id = conn.execute(find_sql).fetchone()[0]
        conn.execute(change_sql, [row_id])
        conn.commit()
    return row_id


def run(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


def test_verify_is_clean_on_the_demo(home):
    result = run("verify", "--home", home)
    assert result.exit_code == 0, result.output
    assert "The evidence trail is intact" in result.output
    assert "finding histories: 720 checked" in result.output


def test_one_byte_of_a_finding_changed_in_sqlite_is_named(home):
    with contextlib.closing(sqlite3.connect(home / "evidence.db")) as conn:
        finding_id, public_id = conn.execute("SELECT id, public_id FROM findings ORDER BY id LIMIT 1 OFFSET 100").fetchone()
        # One character (one byte in UTF-8): the first letter of the evidence, case flipped.
        conn.execute("UPDATE findings SET evidence_text = (CASE WHEN substr(evidence_text, 1, 1) = upper(substr("
                     "evidence_text, 1, 1)) THEN lower(substr(evidence_text, 1, 1)) ELSE upper(substr(evidence_text,"
                     " 1, 1)) END) || substr(evidence_text, 2) WHERE id = ?", [finding_id])
        conn.commit()
    result = run("verify", "--home", home)
    assert result.exit_code == 1
    assert f"findings row {finding_id}" in result.output and public_id in result.output
    assert "evidence_text changed outside the application" in result.output
    assert "ok   audit chain" in result.output


def test_one_byte_of_an_audit_row_changed_in_sqlite_is_named(home):
    audit_id = tamper(home, "SELECT id FROM audit_log WHERE action = 'finding.accept' ORDER BY id LIMIT 1 OFFSET 5",
                      "UPDATE audit_log SET actor = substr(actor, 1, length(actor) - 1) || 'X' WHERE id = ?")
    result = run("verify", "--home", home)
    assert result.exit_code == 1
    assert f"audit_log row {audit_id}" in result.output
    assert f"The evidence trail is broken at audit_log row {audit_id}" in result.output


def test_a_judgement_changed_in_sqlite_is_named(home):
    judgement_id = tamper(home, "SELECT id FROM judgements WHERE proposed_grade = 3 ORDER BY id LIMIT 1",
                          "UPDATE judgements SET proposed_grade = 4 WHERE id = ?")
    result = run("verify", "--home", home)
    assert result.exit_code == 1 and f"judgements row {judgement_id}" in result.output
    assert "ok   audit chain" in result.output and "ok   finding histories" in result.output


def test_a_deleted_audit_row_breaks_the_chain_at_the_next(home):
    audit_id = tamper(home, "SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 200", "DELETE FROM audit_log WHERE id = ?")
    result = run("verify", "--home", home)
    assert result.exit_code == 1 and f"audit_log row {audit_id + 1}" in result.output


def test_a_finding_version_rewritten_to_match_is_still_caught(home):
    # Changing the finding and its latest version together still disagrees with the audit log.
    with contextlib.closing(sqlite3.connect(home / "evidence.db")) as conn:
        finding_id, snapshot = conn.execute(
            "SELECT finding_id, snapshot FROM finding_versions WHERE version = 1 ORDER BY finding_id LIMIT 1").fetchone()
        changed = json.loads(snapshot)
        changed["evidence_text"] = "Rewritten " + changed["evidence_text"]
        conn.execute("UPDATE finding_versions SET snapshot = ? WHERE finding_id = ? AND version = 1",
                     [json.dumps(changed, sort_keys=True), finding_id])
        conn.execute("UPDATE findings SET evidence_text = ? WHERE id = ?", [changed["evidence_text"], finding_id])
        conn.commit()
    result = run("verify", "--home", home)
    assert result.exit_code == 1
    assert f"finding_versions row {finding_id}" in result.output and "differs from what the audit log" in result.output


def test_a_finding_deleted_in_sqlite_is_named(home):
    with contextlib.closing(sqlite3.connect(home / "evidence.db")) as conn:
        # With foreign keys off, as a hand edit would be: the finding goes, its versions stay.
        finding_id = conn.execute("SELECT id FROM findings WHERE id NOT IN (SELECT finding_id FROM qa_actions"
                                  " UNION SELECT finding_id FROM judgement_citations) ORDER BY id LIMIT 1"
                                  ).fetchone()[0]
        conn.execute("DELETE FROM finding_criteria WHERE finding_id = ?", [finding_id])
        conn.execute("DELETE FROM findings WHERE id = ?", [finding_id])
        conn.commit()
    result = run("verify", "--home", home)
    assert result.exit_code == 1 and f"findings row {finding_id}" in result.output
    assert "no longer in the findings table" in result.output


def test_an_exports_manifest_matches_its_file_and_nothing_else(home, tmp_path):
    output = tmp_path / "out" / "evidence.xlsx"
    result = run("export", "--home", home, "--as", "lead", "-o", output)
    assert result.exit_code == 0, result.output
    sidecar = json.loads((tmp_path / "out" / "evidence.xlsx.manifest.json").read_text())
    assert sidecar["sha256"] == manifests.file_sha256(output)
    assert sidecar["created_by"] == "lead" and sidecar["row_counts"]["Findings"] == 720
    with contextlib.closing(connect(home / "evidence.db")) as db:
        row = next(db.query("SELECT * FROM audit_log WHERE id = ?", [sidecar["audit_id"]]))
        assert row["action"] == "export.evidence_workbook"
        assert json.loads(row["after"])["sha256"] == sidecar["sha256"]
        # The head named is the row just before the manifest's own.
        assert sidecar["audit_chain_head"]["id"] == sidecar["audit_id"] - 1
        before = next(db.query("SELECT hash FROM audit_log WHERE id = ?", [sidecar["audit_id"] - 1]))
        assert sidecar["audit_chain_head"]["hash"] == before["hash"]
    checked = run("verify", "--home", home, "--file", output)
    assert checked.exit_code == 0, checked.output
    assert "matches the evidence workbook made by lead" in checked.output
    copy = tmp_path / "copy.xlsx"
    data = bytearray(output.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    checked = run("verify", "--home", home, "--file", copy)
    assert checked.exit_code == 1 and "matches no recorded export or report" in checked.output


def test_the_migration_back_fills_the_chain_in_order(tmp_path):
    db = connect(tmp_path / "old.db", create=True)
    evidence_migrations.apply(db, stop_before="m008_audit_hash_chain")
    for number in range(5):
        db.execute("INSERT INTO audit_log (at, actor, action, detail) VALUES (?, 'system', 'old.action', ?)",
                   [f"2008-11-0{number + 1}T09:00:00+00:00", f"row {number}"])
    evidence_migrations.apply(db)
    hashes = [h for (h,) in db.execute("SELECT hash FROM audit_log ORDER BY id")]
    assert len(set(hashes)) == 5 and all(len(h) == 64 for h in hashes)
    audit.record(db, SYSTEM, "new.action")
    result = verify_store(db)
    assert result.ok, result.breaks
    assert result.checked["audit chain"] == 6
    db.close()
