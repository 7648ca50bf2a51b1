"""The database itself enforces the domain, whatever code writes to it."""

from __future__ import annotations

import sqlite3

import pytest

from inspect_kit import findings, schema
from inspect_kit.store import connect, memory_db

from .library_fixtures import new_uuid, small_review


def test_migrations_build_the_whole_schema_from_empty(tmp_path):
    db = connect(tmp_path / "evidence.db", create=True)
    applied = schema.migrate(db)
    assert applied[0] == "m001_initial"
    for table in ("reviews", "strands", "agencies", "inspectors", "cases", "findings", "finding_criteria",
                  "finding_versions", "qa_actions", "chronology_events", "judgements", "safeguarding_alerts",
                  "attachments", "audit_log", "findings_fts", "chronology_events_fts"):
        assert db[table].exists(), table
    assert schema.migrate(db) == [], "a second run applies nothing"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def _finding_row(review, **overrides):
    row = {
        "public_id": "EF-HLT-01-0999", "client_uuid": new_uuid(), "content_hash": "x",
        "review_id": review.review_id, "strand_id": 2, "inspector_id": review.health.inspector_id,
        "inspector_seq": 999, "activity": "interview", "collected_on": "2008-11-20", "evidence_text": "Seen.",
        "finding_type": "strength", "created_at": "t", "updated_at": "t", **overrides,
    }
    return row


def _insert(db, table, row):
    db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


@pytest.mark.parametrize("overrides", [
    {"finding_type": "rumour"},
    {"qa_status": "lost"},
    {"activity": "guesswork"},
    {"impact_on_child": "maybe"},
    {"collected_on": "20/11/2008"},
    {"collected_on": "2008-02-30"},
    {"evidence_text": "   "},
    {"public_id": "finding 1"},
    {"case_id": 999},
    {"agency_id": 999},
])
def test_the_database_refuses_a_malformed_finding(fresh_db, overrides):
    review = small_review(fresh_db)
    with pytest.raises(sqlite3.IntegrityError):
        _insert(fresh_db, "findings", _finding_row(review, **overrides))
    assert fresh_db["findings"].count == 0


def test_the_database_refuses_duplicate_public_ids_and_uuids(fresh_db):
    review = small_review(fresh_db)
    row = _finding_row(review)
    _insert(fresh_db, "findings", row)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        _insert(fresh_db, "findings", {**row, "client_uuid": new_uuid(), "inspector_seq": 1000})
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        _insert(fresh_db, "findings", {**row, "public_id": "EF-HLT-01-1000", "inspector_seq": 1000})


def test_the_database_refuses_a_chronology_event_for_a_case_that_does_not_exist(fresh_db):
    review = small_review(fresh_db)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        _insert(fresh_db, "chronology_events", {
            "client_uuid": new_uuid(), "content_hash": "x", "review_id": review.review_id, "case_id": 404,
            "agency_id": review.ed, "event_date": "2008-03-01", "event_type": "ed_attendance",
            "description": "Attended with a bruise.", "created_at": "t"})


def test_the_database_refuses_to_delete_a_strand_that_findings_point_to(fresh_db):
    review = small_review(fresh_db)
    findings.record_finding(fresh_db, review.health, review.finding(), client_uuid=new_uuid())
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        fresh_db.execute("DELETE FROM strands WHERE code = 'health'")
    assert fresh_db.execute("SELECT count(*) FROM strands WHERE code = 'health'").fetchone()[0] == 1


@pytest.mark.parametrize("table, column", [
    ("chronology_events", "date_precision"), ("chronology_events", "event_type"), ("cases", "legal_status"),
    ("cases", "age_band"), ("agencies", "agency_type"), ("safeguarding_alerts", "status"),
    ("judgements", "scope"), ("qa_actions", "action"), ("reviews", "status"), ("inspectors", "role"),
])
def test_every_enumerated_column_has_a_check_constraint(fresh_db, table, column):
    sql = fresh_db[table].schema
    assert f"CHECK ({column} IN (" in sql or f"CHECK ({column} IS NULL OR {column} IN (" in sql


def test_full_text_search_still_works_after_a_migration_that_transforms_findings(fresh_db):
    review = small_review(fresh_db)
    findings.record_finding(fresh_db, review.health, review.finding(evidence_text="Bruising seen by the GP"),
                            client_uuid=new_uuid())
    # A later migration that reshapes the table: transform() drops every trigger,
    # FTS triggers included (sqlite-utils issues 611, 849).
    fresh_db["findings"].transform(types={"evaluation_text": str})
    assert not any(t.name.startswith("findings_a") for t in fresh_db.triggers)
    schema.ensure_fts(fresh_db)
    finding = findings.record_finding(fresh_db, review.health, review.finding(evidence_text="Fractures missed by locum"),
                                      client_uuid=new_uuid()).record
    hits = [row["public_id"] for row in fresh_db.query(
        "SELECT public_id FROM findings_fts WHERE findings_fts MATCH ?", ["fractures"])]
    assert hits == [finding["public_id"]]
    assert [r["public_id"] for r in fresh_db.query(
        "SELECT public_id FROM findings_fts WHERE findings_fts MATCH 'bruising'")] == ["EF-HLT-01-0001"]


def test_migrate_repairs_missing_fts_triggers_on_any_run(tmp_path):
    db = connect(tmp_path / "evidence.db", create=True)
    schema.migrate(db)
    db["chronology_events"].transform(types={"practitioner_role": str})
    schema.migrate(db)
    names = {t.name for t in db.triggers}
    assert {"chronology_events_ai", "chronology_events_ad", "chronology_events_au"} <= names


def test_memory_db_is_fully_migrated():
    db = memory_db()
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert "findings_ai" in {t.name for t in db.triggers}
