"""The identifier check's flags (``identifier_flags``, kept by triggers) follow every write of a finding's text."""

from __future__ import annotations

from inspect_kit import findings, findings_batch, identifiers
from inspect_kit.datasette_plugin import questions
from inspect_kit.store import memory_db

from .library_fixtures import new_uuid, small_review

TEXT = "(evidence_text || ' | ' || coalesce(evaluation_text, ''))"


def flagged(db) -> dict[int, str]:
    return dict(db.execute("SELECT finding_id, patterns FROM identifier_flags ORDER BY 1").fetchall())


def from_scratch(db) -> dict[int, str]:
    return dict(db.execute(f"SELECT id, p FROM (SELECT id, {identifiers.identifier_patterns_sql(TEXT)} AS p"
                           " FROM findings) WHERE p != '' ORDER BY 1").fetchall())


def test_flags_follow_recording_editing_and_batches():
    db = memory_db()
    review = small_review(db)
    values = {"case_id": review.infant, "agency_id": review.ed, "activity": "interview",
              "collected_on": "2026-11-03", "finding_type": "strength", "criteria": ["2.1"]}
    clean = findings.record_finding(db, review.health, {**values, "evidence_text": "Seen at home, 3 visits."},
                                    client_uuid=new_uuid(), review_id=review.review_id).record
    leaked = findings.record_finding(db, review.health, {**values, "evidence_text": "Mother gave NHS no. 943 476 "
                                                         "5919 and the DOB 01/02/2025."},
                                     client_uuid=new_uuid(), review_id=review.review_id).record
    assert flagged(db) == from_scratch(db)
    assert set(flagged(db)) == {leaked["id"]}
    assert "NHS number (3-3-4)" in flagged(db)[leaked["id"]] and "Date of birth" in flagged(db)[leaked["id"]]

    edit = {k: leaked[k] for k in ("case_id", "agency_id", "activity", "collected_on", "finding_type")}
    findings.edit_finding(db, review.health, leaked["id"], {**edit, "evidence_text": "Mother gave the case ref.",
                                                            "criteria": ["2.1"]})
    findings.edit_finding(db, review.health, clean["id"], {**edit, "evidence_text": "Seen at home.",
                                                           "evaluation_text": "Client ID given in the notes",
                                                           "criteria": ["2.1"]})
    assert flagged(db) == from_scratch(db) == {clean["id"]: "Local authority client id"}

    rows = [findings_batch.NewFinding(new_uuid(), findings.normalise(
        db, review.review_id, {**values, "evidence_text": f"Row {n}: NI number AB123456C"},
        require_criteria=False)) for n in range(3)]
    findings_batch.record_findings(db, review.health, review.review_id, rows)
    assert flagged(db) == from_scratch(db) and len(flagged(db)) == 4
    listed = db.execute(questions.question("identifier_check").sql, {"_ik_review": "testshire"}).fetchall()
    assert len(listed) == 4
