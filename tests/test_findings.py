"""An inspector records evidence; it is versioned, audited and never duplicated."""

from __future__ import annotations

import json

import pytest

from inspect_kit import alerts, audit, chronology, findings, qa
from inspect_kit.errors import Conflict, Forbidden, InvalidTransition, ValidationError

from .library_fixtures import new_uuid, small_review


@pytest.fixture
def review(fresh_db):
    return small_review(fresh_db)


def test_an_inspector_records_a_finding_with_a_public_id_in_their_strand(review):
    result = findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid())
    assert result.created
    finding = result.record
    assert finding["public_id"] == "EF-HLT-01-0001"
    assert finding["strand"] == "health"
    assert finding["qa_status"] == "draft"
    assert finding["criteria"] == {"2.1": "primary"}
    second = findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid()).record
    assert second["public_id"] == "EF-HLT-01-0002"


def test_retrying_a_submission_with_the_same_uuid_never_creates_a_second_record(review):
    uuid = new_uuid()
    first = findings.record_finding(review.db, review.health, review.finding(), client_uuid=uuid, submit=True)
    for _ in range(3):
        replay = findings.record_finding(review.db, review.health, review.finding(), client_uuid=uuid, submit=True)
        assert not replay.created
        assert replay.record["id"] == first.record["id"]
    assert review.db["findings"].count == 1
    assert review.db["qa_actions"].count == 1


def test_a_submit_replaying_a_draft_save_submits_the_stored_record(review):
    uuid = new_uuid()
    draft = findings.record_finding(review.db, review.health, review.finding(), client_uuid=uuid).record
    replay = findings.record_finding(review.db, review.health, review.finding(), client_uuid=uuid, submit=True)
    assert not replay.created
    assert (replay.record["id"], replay.record["qa_status"]) == (draft["id"], "submitted")
    assert review.db["findings"].count == 1


def test_the_same_uuid_with_other_content_is_a_conflict_and_stores_nothing(review):
    uuid = new_uuid()
    findings.record_finding(review.db, review.health, review.finding(), client_uuid=uuid)
    audit_rows = review.db["audit_log"].count
    with pytest.raises(Conflict, match="already used"):
        findings.record_finding(review.db, review.health, review.finding(evidence_text="Something else"),
                                client_uuid=uuid)
    assert review.db["findings"].count == 1
    assert review.db["audit_log"].count == audit_rows


@pytest.mark.parametrize("overrides, field, message", [
    ({"evidence_text": ""}, "evidence_text", "Enter the evidence"),
    ({"finding_type": "rumour"}, "finding_type", "Select a valid type of finding"),
    ({"activity": "x" * 1_000_000}, "activity", "Select a valid activity"),
    ({"evidence_text": "x" * 20_001}, "evidence_text", "20,000 characters or fewer"),
    ({"evidence_text": "bad\x07bell"}, "evidence_text", "a control character (U+0007"),
    ({"collected_on": "2008-02-30"}, "collected_on", "must be a real date"),
    ({"collected_on": "2999-01-01"}, "collected_on", "today or in the past"),
    ({"case_id": 9999}, "case_id", "this review's list"),
    ({"agency_id": "ED"}, "agency_id", "from the list"),
    ({"criteria": {"9.9": "primary"}}, "criteria", "this review's framework"),
    ({"criteria": {"2.1": "tertiary"}}, "criteria", "primary or secondary"),
])
def test_bad_input_is_refused_with_the_fault_named_and_nothing_stored(review, overrides, field, message):
    with pytest.raises(ValidationError) as raised:
        findings.record_finding(review.db, review.health, review.finding(**overrides), client_uuid=new_uuid())
    assert message in raised.value.field_errors[field]
    assert review.db["findings"].count == 0
    assert review.db["audit_log"].count == review.db.execute(
        "SELECT count(*) FROM audit_log WHERE action NOT LIKE 'finding.%'").fetchone()[0]


def test_every_fault_is_named_at_once(review):
    with pytest.raises(ValidationError) as raised:
        findings.record_finding(review.db, review.health, review.finding(evidence_text="", finding_type="", activity=""),
                                client_uuid=new_uuid())
    assert set(raised.value.field_errors) == {"evidence_text", "finding_type", "activity"}


def test_a_case_from_another_review_is_refused(review):
    from inspect_kit import reviews
    from inspect_kit.actors import SYSTEM

    other = reviews.create_review(review.db, slug="elsewhere", title="Other", area="Elsewhere",
                                  review_type="jtai_thematic", framework="jtai-2016", actor=SYSTEM)
    foreign_case = reviews.add_case(review.db, review_id=other["id"], case_ref="C-001", age_band="5_9",
                                    legal_status="none", selection_route="sampled", actor=SYSTEM)
    with pytest.raises(ValidationError) as raised:
        findings.record_finding(review.db, review.health, review.finding(case_id=foreign_case), client_uuid=new_uuid())
    assert "case_id" in raised.value.field_errors


def test_script_tags_are_stored_as_plain_text(review):
    text = '<script>alert("x")</script> =HYPERLINK("http://x")'
    finding = findings.record_finding(review.db, review.health, review.finding(evidence_text=text),
                                      client_uuid=new_uuid()).record
    assert finding["evidence_text"] == text


def test_an_edit_makes_a_new_version_and_keeps_the_old_one(review):
    finding = findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid()).record
    edited = findings.edit_finding(review.db, review.health, finding["id"],
                                   review.finding(evidence_text="Corrected: the bruise was to the cheek."))
    assert edited["version"] == 2
    history = findings.finding_history(review.db, finding["id"])
    assert [v["version"] for v in history] == [1, 2]
    assert history[0]["snapshot"]["evidence_text"].startswith("ED notes")
    assert history[1]["changes"] == [("evidence_text", history[0]["snapshot"]["evidence_text"],
                                      "Corrected: the bruise was to the cheek.")]


def test_an_edit_that_changes_nothing_makes_no_version(review):
    finding = findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid()).record
    again = findings.edit_finding(review.db, review.health, finding["id"], review.finding())
    assert again["version"] == 1
    assert review.db["finding_versions"].count == 1


def test_after_submission_an_edit_needs_a_reason(review):
    finding = findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid(),
                                      submit=True).record
    with pytest.raises(ValidationError) as raised:
        findings.edit_finding(review.db, review.health, finding["id"], review.finding(evidence_text="Changed"))
    assert "reason" in raised.value.field_errors
    edited = findings.edit_finding(review.db, review.health, finding["id"], review.finding(evidence_text="Changed"),
                                   reason="Date of the visit was wrong")
    assert edited["version"] == 2
    assert findings.finding_history(review.db, finding["id"])[1]["reason"] == "Date of the visit was wrong"


def test_editing_an_accepted_finding_sends_it_back_to_qa(review):
    finding = findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid(),
                                      submit=True).record
    qa.accept(review.db, review.lead, finding["id"])
    edited = findings.edit_finding(review.db, review.health, finding["id"], review.finding(evidence_text="More"),
                                   reason="New information from the ward")
    assert edited["qa_status"] == "submitted"


def test_save_and_submit_is_one_step_or_none(review):
    draft = findings.record_finding(review.db, review.health, review.finding(criteria=[]), client_uuid=new_uuid()).record
    with pytest.raises(ValidationError) as raised:  # a submission needs criteria: nothing is saved either
        findings.edit_finding(review.db, review.health, draft["id"], review.finding(evidence_text="New", criteria=[]),
                              submit=True)
    assert "criteria" in raised.value.field_errors
    assert findings.get_finding(review.db, draft["id"])["version"] == 1
    submitted = findings.edit_finding(review.db, review.health, draft["id"], review.finding(evidence_text="New"),
                                      submit=True)
    assert (submitted["version"], submitted["qa_status"]) == (2, "submitted")
    qa.return_finding(review.db, review.lead, draft["id"], "Add the date")
    unchanged = findings.edit_finding(review.db, review.health, draft["id"], review.finding(evidence_text="New"),
                                      reason="Resubmitted as it was", submit=True)
    assert (unchanged["version"], unchanged["qa_status"]) == (2, "submitted")  # no new version, but resubmitted


def test_a_stale_edit_is_refused_so_no_update_is_lost(review):
    finding = findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid()).record
    findings.edit_finding(review.db, review.health, finding["id"], review.finding(evidence_text="First edit"),
                          expected_version=1)
    with pytest.raises(Conflict, match="changed since you opened it"):
        findings.edit_finding(review.db, review.health, finding["id"], review.finding(evidence_text="Second edit"),
                              expected_version=1)


def test_only_the_author_edits(review):
    finding = findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid()).record
    for someone_else in (review.police, review.lead):
        with pytest.raises(Forbidden):
            findings.edit_finding(review.db, someone_else, finding["id"], review.finding(evidence_text="Mine now"))


def test_a_withdrawn_finding_cannot_be_edited(review):
    finding = findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid()).record
    qa.withdraw(review.db, review.health, finding["id"], "Recorded against the wrong case")
    with pytest.raises(InvalidTransition):
        findings.edit_finding(review.db, review.health, finding["id"], review.finding(evidence_text="x"))


def test_inspectors_read_only_their_strand_and_leads_read_everything(review):
    finding = findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid()).record
    with pytest.raises(Forbidden):
        findings.get_finding(review.db, finding["id"], review.police)
    assert findings.get_finding(review.db, finding["public_id"], review.lead)["id"] == finding["id"]
    assert findings.list_findings(review.db, review.police, review.review_id) == []
    assert len(findings.list_findings(review.db, review.moderator, review.review_id)) == 1


def test_every_write_leaves_an_audit_row_with_who_and_before_after(review):
    finding = findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid()).record
    findings.edit_finding(review.db, review.health, finding["id"], review.finding(evidence_text="Edited"))
    qa.submit(review.db, review.health, finding["id"])
    qa.return_finding(review.db, review.lead, finding["id"], "Say which visit this was")
    trail = audit.trail(review.db, "findings", finding["id"])
    assert [row["action"] for row in trail] == ["finding.create", "finding.edit", "finding.submit", "finding.return"]
    assert [row["actor"] for row in trail] == ["health1", "health1", "health1", "lead"]
    edit = trail[1]
    assert json.loads(edit["before"])["evidence_text"].startswith("ED notes")
    assert json.loads(edit["after"])["evidence_text"] == "Edited"
    assert trail[3]["detail"] == "Say which visit this was"


def test_two_reviews_sharing_inspector_codes_and_case_refs_both_record_with_distinct_public_ids(fresh_db):
    first = small_review(fresh_db, "testshire")
    second = small_review(fresh_db, "otherton")  # POL-02, HLT-01, C-017 again
    made: dict[str, list[dict]] = {"testshire": [], "otherton": []}
    for review, name in ((first, "testshire"), (second, "otherton"), (first, "testshire"), (second, "otherton")):
        for actor in (review.police, review.health):
            made[name].append(findings.record_finding(review.db, actor, review.finding(), client_uuid=new_uuid()).record)
    ids = [row["public_id"] for rows in made.values() for row in rows]
    assert len(ids) == len(set(ids)) == 8
    # The number counts on across the store: the second review's POL-02 follows the first's.
    assert [row["public_id"] for row in made["testshire"] if row["inspector"] == "POL-02"] == \
        ["EF-POL-02-0001", "EF-POL-02-0003"]
    assert [row["public_id"] for row in made["otherton"] if row["inspector"] == "POL-02"] == \
        ["EF-POL-02-0002", "EF-POL-02-0004"]
    for review, name in ((first, "testshire"), (second, "otherton")):
        for row in made[name]:
            found = findings.get_finding(fresh_db, row["public_id"], review.lead)
            assert (found["id"], found["review_id"], found["case_ref"]) == (row["id"], review.review_id, "C-017")
        listed = findings.list_findings(fresh_db, review.lead, review.review_id)
        assert sorted(row["public_id"] for row in listed) == sorted(row["public_id"] for row in made[name])
    # Chronology events and alerts carry no public id of their own; the same case ref
    # in both reviews keeps each review's chronology and alerts apart.
    for review in (first, second):
        chronology.record_event(fresh_db, review.health, {
            "review_id": review.review_id, "case_id": review.infant, "agency_id": review.ed,
            "event_date": "2008-03-01", "event_type": "ed_attendance",
            "description": f"Attended ED ({review.review_id})."}, client_uuid=new_uuid())
        alerts.raise_alert(fresh_db, review.health, review_id=review.review_id, urgency="urgent",
                           concern=f"Unexplained bruising ({review.review_id}).", case_id=review.infant)
    for review in (first, second):
        case = chronology.case_by_ref(fresh_db, review.review_id, "C-017")
        assert [event["description"] for event in chronology.case_chronology(fresh_db, case["id"])] == \
            [f"Attended ED ({review.review_id})."]
        assert [alert["concern"] for alert in alerts.list_alerts(fresh_db, review.review_id)] == \
            [f"Unexplained bruising ({review.review_id})."]


def test_a_public_id_written_out_of_step_by_another_tool_is_skipped_not_reused(fresh_db):
    review = small_review(fresh_db)
    first = findings.record_finding(review.db, review.police, review.finding(), client_uuid=new_uuid()).record
    # A row whose public id does not follow its inspector's numbering (here
    # HLT-01's first row carries POL-02's next id), as a careless tool could write.
    fresh_db.execute(
        "INSERT INTO findings (public_id, client_uuid, content_hash, review_id, strand_id, inspector_id, inspector_seq,"
        " activity, collected_on, evidence_text, finding_type, created_at, updated_at)"
        " SELECT 'EF-POL-02-0002', ?, 'x', review_id, strand_id, ?, 1, activity, collected_on,"
        " evidence_text, finding_type, created_at, updated_at FROM findings WHERE id = ?",
        [new_uuid(), review.health.inspector_id, first["id"]])
    following = findings.record_finding(review.db, review.police, review.finding(), client_uuid=new_uuid()).record
    assert (first["public_id"], following["public_id"]) == ("EF-POL-02-0001", "EF-POL-02-0003")
