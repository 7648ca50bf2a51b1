"""Leads and moderators QA evidence; only the allowed moves happen."""

from __future__ import annotations

import pytest

from inspect_kit import findings, qa
from inspect_kit.errors import Conflict, Forbidden, InvalidTransition, StaleVersion, ValidationError

from .library_fixtures import new_uuid, small_review


@pytest.fixture
def review(fresh_db):
    return small_review(fresh_db)


@pytest.fixture
def submitted(review):
    return findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid(),
                                   submit=True).record


def test_a_returned_finding_carries_the_leads_comment_and_can_be_resubmitted(review, submitted):
    qa.return_finding(review.db, review.lead, submitted["id"], "Which ED visit? Add the date.")
    assert findings.get_finding(review.db, submitted["id"])["qa_status"] == "returned"
    assert qa.history(review.db, submitted["id"])[-1]["comment"] == "Which ED visit? Add the date."
    qa.submit(review.db, review.health, submitted["id"])
    accepted = qa.accept(review.db, review.moderator, submitted["id"])
    assert accepted["qa_status"] == "accepted"
    assert [a["action"] for a in qa.history(review.db, submitted["id"])] == ["submit", "return", "submit", "accept"]


@pytest.mark.parametrize("action, status", [
    ("accept", "draft"), ("return", "draft"), ("accept", "accepted"), ("submit", "accepted"),
    ("submit", "submitted"),
])
def test_moves_that_are_not_allowed_are_refused(review, action, status):
    finding = findings.record_finding(review.db, review.health, review.finding(), client_uuid=new_uuid()).record
    if status in ("submitted", "accepted"):
        qa.submit(review.db, review.health, finding["id"])
    if status == "accepted":
        qa.accept(review.db, review.lead, finding["id"])
    actor = review.health if action == "submit" else review.lead
    with pytest.raises(InvalidTransition):
        qa.perform(review.db, actor, finding["id"], action, "comment")
    assert findings.get_finding(review.db, finding["id"])["qa_status"] == status


def test_inspectors_cannot_accept_or_return(review, submitted):
    with pytest.raises(Forbidden):
        qa.accept(review.db, review.police, submitted["id"])
    with pytest.raises(Forbidden):
        qa.accept(review.db, review.health, submitted["id"])


def test_returning_or_withdrawing_needs_a_comment(review, submitted):
    with pytest.raises(ValidationError):
        qa.return_finding(review.db, review.lead, submitted["id"], "  ")
    with pytest.raises(ValidationError):
        qa.withdraw(review.db, review.health, submitted["id"], "")


def test_a_finding_cannot_be_submitted_without_a_criterion(review):
    draft = findings.record_finding(review.db, review.health, review.finding(criteria={}), client_uuid=new_uuid()).record
    with pytest.raises(InvalidTransition, match="criterion") as refused:
        qa.submit(review.db, review.health, draft["id"])
    assert refused.value.status == 409 and "criteria" in refused.value.field_errors


def test_the_queue_lists_submitted_findings_oldest_first(review, submitted):
    later = findings.record_finding(review.db, review.police, review.finding(), client_uuid=new_uuid(),
                                    submit=True).record
    assert [f["public_id"] for f in qa.queue(review.db, review.review_id)] == [submitted["public_id"],
                                                                               later["public_id"]]


def test_allowed_actions_follow_role_and_status(review, submitted):
    # Leads QA (accept, return); only the author withdraws (inspect_kit.policy).
    assert qa.allowed_actions(review.lead, submitted) == ["accept", "return"]
    assert qa.allowed_actions(review.health, submitted) == ["withdraw"]
    assert qa.allowed_actions(review.police, submitted) == []


# ----------------------------------------------------------------- versions and retries


def counts(review):
    return (review.db.execute("SELECT count(*) FROM qa_actions").fetchone()[0],
            review.db.execute("SELECT count(*) FROM audit_log WHERE action LIKE 'finding.%'").fetchone()[0])


def edit_by_author(review, finding, text):
    return findings.edit_finding(review.db, review.health, finding["id"], {**review.finding(), "evidence_text": text},
                                 reason="Added the date", expected_version=finding["version"])


@pytest.mark.parametrize("action", ["accept", "return", "withdraw"])
def test_an_action_on_a_version_the_lead_never_read_is_refused(review, submitted, action):
    # The lead accepts or returns; only the author withdraws (the access policy), from a page opened earlier.
    reader = review.health if action == "withdraw" else review.lead
    opened = submitted["version"]  # the reader opens the page
    edited = edit_by_author(review, submitted, "Rewritten after the page was opened")
    before = counts(review)
    with pytest.raises(StaleVersion) as refused:
        qa.perform(review.db, reader, submitted["id"], action, "Looks fine", expected_version=opened,
                   client_uuid=new_uuid())
    assert refused.value.status == 409 and refused.value.current_version == edited["version"] == opened + 1
    assert f"version {opened}" in refused.value.message and f"version {edited['version']}" in refused.value.message
    assert "expected_version" in refused.value.field_errors
    assert counts(review) == before
    assert findings.get_finding(review.db, submitted["id"])["qa_status"] == "submitted"
    # Having read the new version, the action goes through.
    done = qa.perform(review.db, reader, submitted["id"], action, "Looks fine", expected_version=edited["version"],
                      client_uuid=new_uuid())
    assert done["qa_status"] == qa.TRANSITIONS[action]["submitted"]


def test_a_resubmit_carries_the_version_too(review, submitted):
    qa.return_finding(review.db, review.lead, submitted["id"], "Add the date", expected_version=1,
                      client_uuid=new_uuid())
    with pytest.raises(StaleVersion):
        qa.submit(review.db, review.health, submitted["id"], expected_version=7, client_uuid=new_uuid())
    assert qa.submit(review.db, review.health, submitted["id"], expected_version=1,
                     client_uuid=new_uuid())["qa_status"] == "submitted"


def test_a_retry_with_the_same_uuid_acts_once(review, submitted):
    action_uuid = new_uuid()
    before = counts(review)
    first = qa.accept(review.db, review.lead, submitted["id"], expected_version=1, client_uuid=action_uuid)
    again = qa.accept(review.db, review.lead, submitted["id"], expected_version=1, client_uuid=action_uuid.upper())
    assert first == again and again["qa_status"] == "accepted"
    assert counts(review) == (before[0] + 1, before[1] + 1)  # one QA row, one audit row
    stored = review.db.execute("SELECT client_uuid FROM qa_actions ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert stored == action_uuid


def test_a_return_retried_with_the_same_comment_is_a_retry_and_another_is_a_conflict(review, submitted):
    action_uuid = new_uuid()
    qa.return_finding(review.db, review.lead, submitted["id"], "Add the date", expected_version=1,
                      client_uuid=action_uuid)
    assert qa.return_finding(review.db, review.lead, submitted["id"], "Add the date\r\n", expected_version=1,
                             client_uuid=action_uuid)["qa_status"] == "returned"
    for other in (lambda: qa.return_finding(review.db, review.lead, submitted["id"], "Something else",
                                            expected_version=1, client_uuid=action_uuid),
                  lambda: qa.withdraw(review.db, review.lead, submitted["id"], "Add the date", expected_version=1,
                                      client_uuid=action_uuid),
                  lambda: qa.withdraw(review.db, review.health, submitted["id"], "Add the date",
                                      expected_version=1, client_uuid=action_uuid)):
        with pytest.raises(Conflict, match="already used"):
            other()
    assert review.db.execute("SELECT count(*) FROM qa_actions WHERE action = 'return'").fetchone()[0] == 1


@pytest.mark.parametrize("uuid", ["{0f8fad5b-d9cb-469f-a165-70867728950e}", "00000000-0000-0000-0000-000000000000",
                                  "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e", "not-a-uuid"])
def test_a_damaged_action_uuid_is_a_field_error(review, submitted, uuid):
    with pytest.raises(ValidationError) as refused:
        qa.accept(review.db, review.lead, submitted["id"], expected_version=1, client_uuid=uuid)
    assert "client_uuid" in refused.value.field_errors


@pytest.mark.parametrize("version", [True, 1.5, "1.0", -1, 2**63])
def test_a_damaged_version_is_a_field_error(review, submitted, version):
    with pytest.raises(ValidationError) as refused:
        qa.accept(review.db, review.lead, submitted["id"], expected_version=version, client_uuid=new_uuid())
    assert "expected_version" in refused.value.field_errors
    assert findings.get_finding(review.db, submitted["id"])["qa_status"] == "submitted"


def test_the_comment_follows_the_text_rule(review, submitted):
    for comment in ("Bad\x1b[31m", "C1 \x9b here", "\x1c leading", "x" * 5001):
        with pytest.raises(ValidationError) as refused:
            qa.return_finding(review.db, review.lead, submitted["id"], comment, expected_version=1,
                              client_uuid=new_uuid())
        assert "comment" in refused.value.field_errors
