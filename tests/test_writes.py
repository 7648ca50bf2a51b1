"""One way to write: store.insert_row, and store.idempotent_write deciding
created / replayed / conflict for findings, events, alerts and QA actions, in the domain."""

from __future__ import annotations

import pytest

from inspect_kit import alerts, chronology, findings, qa
from inspect_kit.errors import Conflict, InvalidTransition
from inspect_kit.store import idempotent_write, insert_row, write_transaction

from .library_fixtures import new_uuid, small_review

FINDING = {"agency_id": None, "case_id": None, "activity": "case_file_review", "collected_on": "2008-11-20",
           "evidence_text": "Referral made the same day.", "finding_type": "strength", "criteria": ["2.1"]}


def count(db, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_insert_row_quotes_names_and_returns_the_id(fresh_db):
    fresh_db.execute('CREATE TABLE "odd table" (id INTEGER PRIMARY KEY, "from" TEXT, "order" INTEGER)')
    first = insert_row(fresh_db, "odd table", {"from": "a", "order": 1})
    second = insert_row(fresh_db, "odd table", {"from": "b", "order": 2})
    assert (first, second) == (1, 2)
    assert fresh_db.execute('SELECT "from", "order" FROM "odd table" WHERE id = 2').fetchone() == ("b", 2)


def test_idempotent_write_needs_the_callers_transaction(fresh_db):
    with pytest.raises(RuntimeError):
        idempotent_write(fresh_db, "findings", new_uuid(), {"content_hash": "x"}, lambda: 1, conflict="no")


def test_idempotent_write_creates_replays_and_refuses_other_content(fresh_db):
    review = small_review(fresh_db)
    uuid, made = new_uuid(), []

    def write() -> int:
        made.append(1)
        return insert_row(fresh_db, "safeguarding_alerts", {
            "review_id": review.review_id, "case_id": review.infant, "urgency": "urgent", "concern": "Bruise.",
            "status": "raised", "raised_by": "health1", "raised_at": "2008-11-20T10:00:00Z",
            "referral_due": "2008-11-20", "client_uuid": uuid})

    content = {"urgency": "urgent", "concern": "Bruise."}
    with write_transaction(fresh_db):
        created = idempotent_write(fresh_db, "safeguarding_alerts", uuid, content, write, conflict="clash")
    with write_transaction(fresh_db):
        replayed = idempotent_write(fresh_db, "safeguarding_alerts", uuid, content, write, conflict="clash")
    assert (created.outcome, replayed.outcome, replayed.id) == ("created", "replayed", created.id)
    with pytest.raises(Conflict, match="clash"), write_transaction(fresh_db):
        idempotent_write(fresh_db, "safeguarding_alerts", uuid, {**content, "concern": "Other."}, write,
                         conflict="clash")
    assert len(made) == 1 and count(fresh_db, "safeguarding_alerts") == 1


def test_an_alert_uuid_reused_for_another_alert_is_a_conflict(fresh_db):
    review = small_review(fresh_db)
    uuid = new_uuid()
    first = alerts.raise_alert(fresh_db, review.health, review_id=review.review_id, urgency="urgent",
                               concern="Bruise to the forehead.", case_id=review.infant, client_uuid=uuid)
    again = alerts.raise_alert(fresh_db, review.health, review_id=review.review_id, urgency="urgent",
                               concern="Bruise to the forehead.", case_id=review.infant, client_uuid=uuid)
    assert again["id"] == first["id"]
    with pytest.raises(Conflict):
        alerts.raise_alert(fresh_db, review.health, review_id=review.review_id, urgency="routine",
                           concern="A different worry.", case_id=review.sibling, client_uuid=uuid)
    assert count(fresh_db, "safeguarding_alerts") == 1
    assert count(fresh_db, "audit_log WHERE action = 'alert.raise'") == 1


def test_a_repeated_alert_step_is_a_replay_and_another_leads_text_is_refused(fresh_db):
    review = small_review(fresh_db)
    alert = alerts.raise_alert(fresh_db, review.health, review_id=review.review_id, urgency="urgent",
                               concern="Bruise.", case_id=review.infant)
    done = alerts.take_step(fresh_db, review.lead, alert["id"], "refer", referred_to="MASH duty manager")
    again = alerts.take_step(fresh_db, review.lead, alert["id"], "refer", referred_to=" MASH duty manager ")
    assert (done.created, again.created) == (True, False)
    assert count(fresh_db, "audit_log WHERE action = 'alert.referred'") == 1
    with pytest.raises(InvalidTransition):
        alerts.take_step(fresh_db, review.lead, alert["id"], "refer", referred_to="Police CAIT")


def test_a_stale_edit_with_the_stored_content_is_a_replay(fresh_db):
    review = small_review(fresh_db)
    record = findings.record_finding(fresh_db, review.health, FINDING, client_uuid=new_uuid(),
                                     review_id=review.review_id).record
    edited = {**FINDING, "evidence_text": "Referral made within the hour."}
    saved = findings.edit_finding(fresh_db, review.health, record["id"], edited, expected_version=1)
    assert saved["version"] == 2
    # The same save arriving again (a double click): version 1 is stale, but nothing differs.
    replay = findings.edit_finding(fresh_db, review.health, record["id"], edited, expected_version=1)
    assert replay["version"] == 2 and count(fresh_db, "finding_versions") == 2
    with pytest.raises(Conflict):
        findings.edit_finding(fresh_db, review.health, record["id"], {**edited, "evidence_text": "Other words."},
                              expected_version=1)


def test_event_and_qa_replays_write_once(fresh_db):
    review = small_review(fresh_db)
    event = {"case_id": review.infant, "agency_id": review.ed, "event_date": "2008-03-02",
             "event_type": "ed_attendance", "description": "Attended."}
    uuid = new_uuid()
    first = chronology.record_event(fresh_db, review.health, event, client_uuid=uuid, review_id=review.review_id)
    second = chronology.record_event(fresh_db, review.health, event, client_uuid=uuid, review_id=review.review_id)
    assert (first.created, second.created, second.record["id"]) == (True, False, first.record["id"])
    with pytest.raises(Conflict):
        chronology.record_event(fresh_db, review.health, {**event, "description": "Other."}, client_uuid=uuid,
                                review_id=review.review_id)
    finding = findings.record_finding(fresh_db, review.health, FINDING, client_uuid=new_uuid(), submit=True,
                                      review_id=review.review_id).record
    action = new_uuid()
    qa.perform(fresh_db, review.lead, finding["id"], "accept", None, client_uuid=action)
    qa.perform(fresh_db, review.lead, finding["id"], "accept", None, client_uuid=action)
    assert count(fresh_db, "qa_actions WHERE action = 'accept'") == 1
    with pytest.raises(Conflict):
        qa.perform(fresh_db, review.lead, finding["id"], "return", "Say more.", client_uuid=action)
