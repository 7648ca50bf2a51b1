"""The coverage matrix's counts (``coverage_counts``, kept by triggers) always equal a count from scratch.

Recording, editing criteria, withdrawing, moving a finding to another agency,
strand or inspector, removing its links and the import's batch path: after each, the
table's cells with findings are exactly what joining every link to its finding
gives, and the coverage view reads them.
"""

from __future__ import annotations

from inspect_kit import findings, findings_batch, qa

from .library_fixtures import new_uuid, small_review

FROM_SCRATCH = """
    SELECT fc.criterion_id, f.strand_id, f.inspector_id, coalesce(f.agency_id, 0), count(*)
    FROM finding_criteria fc JOIN findings f ON f.id = fc.finding_id
    WHERE f.qa_status != 'withdrawn' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"""
KEPT = """
    SELECT criterion_id, strand_id, inspector_id, agency_id, findings FROM coverage_counts
    WHERE findings > 0 ORDER BY 1, 2, 3, 4"""


def assert_counts_true(db) -> None:
    assert db.execute(KEPT).fetchall() == db.execute(FROM_SCRATCH).fetchall()
    assert db.execute("SELECT count(*) FROM coverage_counts WHERE findings < 0").fetchone()[0] == 0


def record(db, review, actor, criteria, **fields):
    values = {"case_id": review.infant, "agency_id": review.ed, "activity": "interview",
              "collected_on": "2026-11-03", "evidence_text": "Seen by the health visitor.",
              "finding_type": "strength", "criteria": criteria, **fields}
    return findings.record_finding(db, actor, values, client_uuid=new_uuid(), review_id=review.review_id).record


def test_the_kept_counts_follow_every_change():
    from inspect_kit.store import memory_db

    db = memory_db()
    review = small_review(db)
    assert_counts_true(db)
    first = record(db, review, review.health, {"2.1": "primary", "2.3": "secondary"})
    second = record(db, review, review.police, ["2.1"], agency_id=review.gp)
    third = record(db, review, review.health, ["1"], agency_id=None)
    assert_counts_true(db)
    assert db.execute(KEPT).fetchall(), "nothing counted"

    findings.edit_finding(db, review.health, first["id"], {**{k: first[k] for k in (
        "case_id", "agency_id", "activity", "collected_on", "evidence_text", "finding_type")},
        "criteria": ["2.3", "3.1"]})
    assert_counts_true(db)
    qa.submit(db, review.police, second["id"])
    qa.withdraw(db, review.police, second["id"], "Recorded against the wrong case.")
    assert_counts_true(db)
    db.execute("UPDATE findings SET agency_id = ? WHERE id = ?", [review.gp, third["id"]])
    db.execute("UPDATE findings SET strand_id = (SELECT id FROM strands WHERE code = 'police') WHERE id = ?",
               [first["id"]])
    db.execute("UPDATE findings SET inspector_id = ?, inspector_seq = 99 WHERE id = ?",
               [review.police.inspector_id, first["id"]])
    assert_counts_true(db)
    db.execute("UPDATE findings SET qa_status = 'draft' WHERE id = ?", [second["id"]])  # back from withdrawn
    assert_counts_true(db)
    db.execute("UPDATE finding_criteria SET criterion_id = (SELECT id FROM criteria WHERE code = '2.2'"
               " AND review_id = ?) WHERE finding_id = ?", [review.review_id, third["id"]])
    assert_counts_true(db)
    db.execute("DELETE FROM finding_criteria WHERE finding_id = ?", [third["id"]])
    assert_counts_true(db)

    rows = [findings_batch.NewFinding(new_uuid(), findings.normalise(db, review.review_id, {
        "case_id": review.sibling, "agency_id": review.ed, "activity": "interview", "collected_on": "2026-11-04",
        "evidence_text": f"Imported row {n}", "finding_type": "context", "criteria": ["2.1", "3.2"]},
        require_criteria=False)) for n in range(5)]
    findings_batch.record_findings(db, review.health, review.review_id, rows)
    assert_counts_true(db)
    cells = {(row["criterion"], row["strand"]): row for row in db.query(
        "SELECT criterion, strand, findings, inspectors, agencies, cell FROM criterion_strand_coverage")}
    assert cells[("3.2", "health")]["findings"] == 5 and cells[("3.2", "health")]["cell"] == "single source"
    assert cells[("3.2", "police")]["cell"] == "empty"
