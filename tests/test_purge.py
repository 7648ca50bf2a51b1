"""inspect-kit purge: dry run, typed confirmation, the retention
date (or --force with a reason), a certificate in the audit log, nothing of
the review left in either database or attachments/, and verify still clean."""

from __future__ import annotations

import contextlib
import json
import sqlite3

import pytest

from inspect_kit import account_admin, attachments, chronology, findings, lifecycle, purge
from inspect_kit.actors import SYSTEM
from inspect_kit.errors import Conflict, ValidationError
from inspect_kit.sample import import_case_sample
from inspect_kit.verify import verify_store

from .library_fixtures import new_uuid, small_review
from .store_fixtures import inspect_kit

MARK = "wombatpurgemark"    # only in the purged review
KEEP = "pangolinkeepmark"   # only in the review that stays
PASSWORD = "a fictional passphrase"


def build(store, tmp_path):
    """Two reviews sharing the inspector POL-02 (one account) and case refs; the purged one has its own
    account (HLT-01 is re-coded HLT-09 in the other review), identity keys and a file of its own."""
    with contextlib.closing(store.evidence()) as db, contextlib.closing(store.private()) as private_db:
        gone, kept = small_review(db, "goneshire"), small_review(db, "keepshire")
        db.execute("UPDATE inspectors SET code = 'HLT-09' WHERE code = 'HLT-01' AND review_id = ?", [kept.review_id])
        for review in (gone, kept):
            lifecycle.set_status(db, SYSTEM, review.review_id, "fieldwork")
        account_admin.create_account(private_db, db, SYSTEM, username="police2", password=PASSWORD,
                                     role="inspector", strand="police", inspector_code="POL-02")
        account_admin.create_account(private_db, db, SYSTEM, username="health1", password=PASSWORD,
                                     role="inspector", strand="health", inspector_code="HLT-01")
        account_admin.create_account(private_db, db, SYSTEM, username="nadmin", password=PASSWORD, role="admin")
        account_admin.issue_token(private_db, db, SYSTEM, "health1")
        for review, word in ((gone, MARK), (kept, KEEP)):
            police = findings.record_finding(db, review.police, review.finding(evidence_text=f"Police {word}."),
                                             client_uuid=new_uuid(), submit=True).record
            health = findings.record_finding(db, review.health, review.finding(evidence_text=f"Health {word}."),
                                             client_uuid=new_uuid()).record
            attachments.add_attachment(db, store, review.police, police["id"], filename="shared.pdf",
                                       content=b"%PDF-1.4\n% the same file in both reviews")
            attachments.add_attachment(db, store, review.health, health["id"], filename="own.pdf",
                                       content=f"%PDF-1.4\n% {word}".encode())
            chronology.record_event(db, review.health, {
                "case_id": review.infant, "agency_id": review.ed, "event_date": "2008-10-01",
                "event_type": "referral", "description": f"Referral {word}"}, client_uuid=new_uuid(),
                review_id=review.review_id)
            sheet = tmp_path / f"{word}.csv"
            sheet.write_text(f"case_ref,age_band,legal_status,selection_route,local_identifier\n"
                             f"C-017,under_1,cp_plan,index,LA-{word}\n")
            import_case_sample(db, private_db, SYSTEM, review.review_id, sheet)
    return gone, kept


def everything(store) -> str:
    """Every value in every table of both databases, as text."""
    found = []
    for path in (store.evidence_path, store.private_path):
        with contextlib.closing(sqlite3.connect(path)) as conn:
            found += conn.iterdump()
    return "\n".join(found)


def test_dry_run_confirmation_and_the_date(store, tmp_path):
    build(store, tmp_path)
    dry = inspect_kit("purge", "goneshire", "--dry-run", "--home", store.home)
    assert dry.returncode == 0, dry.stderr
    assert "Dry run: nothing was removed." in dry.stdout and "health1" in dry.stdout
    assert "1 attachment file(s) no other review uses" in dry.stdout.replace("  ", " ")
    early = inspect_kit("purge", "goneshire", "--home", store.home)
    assert early.returncode == 1 and "not due for purging" in early.stderr
    with contextlib.closing(store.evidence()) as db, contextlib.closing(store.private()) as private_db:
        with pytest.raises(ValidationError, match="Type the review's short name"):
            purge.purge_review(db, private_db, store, SYSTEM, "goneshire", confirm="keepshire", force_reason="x")
        with pytest.raises(Conflict, match="not due"):
            purge.purge_review(db, private_db, store, SYSTEM, "goneshire", confirm="goneshire")
        lifecycle.set_retention_review(db, SYSTEM, db.execute("SELECT id FROM reviews WHERE slug = 'goneshire'"
                                                              ).fetchone()[0], "2020-01-01")
        assert purge.plan_purge(db, private_db, "goneshire").due
    assert MARK in everything(store)


def test_purge_leaves_nothing_of_the_review_and_verify_stays_clean(store, tmp_path):
    gone, kept = build(store, tmp_path)
    with contextlib.closing(store.evidence()) as db:
        own_file = db.execute("SELECT sha256 FROM attachments WHERE filename = 'own.pdf' AND finding_id IN"
                              " (SELECT id FROM findings WHERE review_id = ?)", [gone.review_id]).fetchone()[0]
        shared_file = db.execute("SELECT sha256 FROM attachments WHERE filename = 'shared.pdf' LIMIT 1").fetchone()[0]
    wrong = inspect_kit("purge", "goneshire", "--force", "The commissioner withdrew the review.",
                        "--home", store.home)  # stdin is empty: nothing typed
    assert wrong.returncode == 1 and "Type the review's short name" in wrong.stderr
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "inspect_kit", "purge", "goneshire", "--force",
                           "The commissioner withdrew the review.", "--home", str(store.home)],
                          input="goneshire\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "purge certificate is audit row" in done.stdout

    text = everything(store)
    assert MARK not in text and f"LA-{MARK}" not in text and "goneshire" in text  # the certificate names it
    assert KEEP in text and f"LA-{KEEP}" in text
    for path in store.home.iterdir():  # the databases and their -wal files, byte for byte
        if path.is_file():
            assert MARK.encode() not in path.read_bytes(), path.name
    assert not attachments.blob_path(store, own_file).exists()
    assert attachments.blob_path(store, shared_file).exists()
    assert [p.name for p in store.attachments_dir.iterdir() if MARK.encode() in p.read_bytes()] == []
    with contextlib.closing(store.evidence()) as db, contextlib.closing(store.private()) as private_db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            if "review_id" in db[table].columns_dict:
                assert db.execute(f"SELECT count(*) FROM [{table}] WHERE review_id = ?",
                                  [gone.review_id]).fetchone()[0] == 0, table
        assert sorted(a["username"] for a in private_db.query("SELECT username FROM accounts")) == [
            "nadmin", "police2"]
        assert private_db.execute("SELECT count(*) FROM api_tokens").fetchone()[0] == 0
        certificate = db.execute("SELECT actor, after, detail FROM audit_log WHERE action = 'review.purge'").fetchone()
        summary = json.loads(certificate[1])
        assert certificate[0] == "system" and certificate[2] == "The commissioner withdrew the review."
        assert summary["rows"]["findings"] == 2 and summary["accounts"] == ["health1"]
        assert summary["attachment_files"] == 1 and summary["identity_keys"] == 1 and summary["forced"] is True
        redacted = db.execute("SELECT count(*) FROM audit_log WHERE redacted_by IS NOT NULL").fetchone()[0]
        assert redacted == summary["audit_rows_redacted"] > 10
        assert verify_store(db).ok
        assert findings.list_findings(db, kept.lead, kept.review_id)
    assert "intact" in inspect_kit("verify", "--home", store.home).stdout
    assert inspect_kit("check", "--home", store.home).returncode == 0


def test_verify_notices_a_redacted_row_changed_after_the_purge(store, tmp_path):
    build(store, tmp_path)
    with contextlib.closing(store.evidence()) as db, contextlib.closing(store.private()) as private_db:
        purge.purge_review(db, private_db, store, SYSTEM, "goneshire", confirm="goneshire", force_reason="Test.")
        assert verify_store(db).ok
        row = db.execute("SELECT min(id) FROM audit_log WHERE redacted_by IS NOT NULL").fetchone()[0]
        db.execute("UPDATE audit_log SET actor = 'someone-else' WHERE id = ?", [row])
        result = verify_store(db)
        assert not result.ok and "purge certificate" in result.breaks[0].message
        db.execute("UPDATE audit_log SET actor = 'system', redacted_by = NULL WHERE id = ?", [row])
        assert not verify_store(db).ok  # un-redacting without the content does not verify either
