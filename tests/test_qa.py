"""Leads and moderators QA evidence; only the allowed moves happen."""

from __future__ import annotations

import pytest

from inspect_kit import findings, qa
from inspect_kit.errors import Forbidden, InvalidTransition, ValidationError

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
    assert qa.allowed_actions(review.lead, submitted) == ["accept", "return", "withdraw"]
    assert qa.allowed_actions(review.health, submitted) == ["withdraw"]
    assert qa.allowed_actions(review.police, submitted) == []
