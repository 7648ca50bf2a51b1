"""The import's batch path writes exactly what record_finding writes, one row at a time.

Same values through both paths into two stores: the same findings, criteria
links, version snapshots and audit rows (the hash chain verifies), the same
full-text matches; replays are counted as existing and a uuid reused with
other content is a conflict that writes nothing.
"""

from __future__ import annotations

import contextlib

import pytest

from inspect_kit import findings, findings_batch, verify
from inspect_kit.store import Store

from .library_fixtures import new_uuid, small_review

FINDING_COLUMNS = ("public_id", "client_uuid", "content_hash", "review_id", "strand_id", "inspector_id",
                   "inspector_seq", "agency_id", "case_id", "activity", "collected_on", "evidence_text",
                   "evaluation_text", "finding_type", "impact_on_child", "qa_status", "version", "submitted_at")


def fields(review, n: int) -> dict:
    return {"agency_id": review.ed, "case_id": review.infant, "activity": "case_file_review",
            "collected_on": "2026-11-03", "evidence_text": f"Strategy discussion number {n} left out health",
            "evaluation_text": f"Evaluation {n}", "finding_type": "area_for_improvement",
            "impact_on_child": "negative", "criteria": {"2.1": "primary", "2.3": "secondary"} if n % 2 else ["2.1"]}


def snapshot(db) -> dict:
    return {
        "findings": db.execute(f"SELECT {', '.join(FINDING_COLUMNS)} FROM findings ORDER BY id").fetchall(),
        "links": db.execute("SELECT f.public_id, c.code, fc.relevance FROM finding_criteria fc JOIN findings f"
                            " ON f.id = fc.finding_id JOIN criteria c ON c.id = fc.criterion_id ORDER BY 1, 2"
                            ).fetchall(),
        "versions": db.execute("SELECT f.public_id, v.version, v.snapshot, v.changed_by, v.reason FROM"
                               " finding_versions v JOIN findings f ON f.id = v.finding_id ORDER BY v.id").fetchall(),
        "audit": db.execute("SELECT id, actor, action, table_name, row_id, before, after, detail FROM audit_log"
                            " WHERE action = 'finding.create' ORDER BY id").fetchall(),
        "search": db.execute("SELECT count(*) FROM findings_fts WHERE findings_fts MATCH 'strategy'").fetchone(),
    }


@pytest.fixture
def two_stores(tmp_path):
    opened = []
    for name in ("one-by-one", "batch"):
        store = Store(tmp_path / name)
        store.init()
        db = store.evidence()
        opened.append((db, small_review(db)))
    yield opened
    for db, _ in opened:
        db.close()


def test_a_batch_stores_what_record_finding_stores(two_stores):
    (single_db, single), (batch_db, batch) = two_stores
    uuids = [new_uuid() for _ in range(7)]
    for n, uuid in enumerate(uuids):
        findings.record_finding(single_db, single.health, fields(single, n), client_uuid=uuid,
                                review_id=single.review_id, audit_detail=f"imported from w.xlsx, row {n}")
    rows = [findings_batch.NewFinding(uuid, findings.normalise(batch_db, batch.review_id, fields(batch, n),
                                                               require_criteria=False), f"imported from w.xlsx, row {n}")
            for n, uuid in enumerate(uuids)]
    result = findings_batch.record_findings(batch_db, batch.health, batch.review_id, rows)
    assert result.created == list(range(7)) and not result.existing and not result.conflicts
    assert snapshot(batch_db) == snapshot(single_db)
    assert snapshot(batch_db)["search"] == (7,)
    assert verify.verify_store(batch_db).breaks == []

    again = findings_batch.record_findings(batch_db, batch.health, batch.review_id, rows)
    assert again.existing == list(range(7)) and not again.created
    changed = findings_batch.NewFinding(uuids[0], {**rows[0].values, "evidence_text": "Something else"})
    fresh = findings_batch.NewFinding(new_uuid(), rows[1].values)
    mixed = findings_batch.record_findings(batch_db, batch.health, batch.review_id, [changed, fresh])
    assert mixed.conflicts == [0] and mixed.created == [1]
    assert batch_db.execute("SELECT evidence_text FROM findings WHERE client_uuid = ?", [uuids[0]]).fetchone()[0] \
        == rows[0].values["evidence_text"]
    # The next number follows on, as record_finding's would.
    with contextlib.closing(batch_db.conn.cursor()) as cursor:
        numbers = [seq for (seq,) in cursor.execute("SELECT inspector_seq FROM findings ORDER BY id")]
    assert numbers == list(range(1, 9))
    assert verify.verify_store(batch_db).breaks == []
