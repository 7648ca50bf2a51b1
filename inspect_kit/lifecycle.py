"""A review's lifecycle and what each status allows.

::

    setup → fieldwork → drafting → qa → factual_accuracy → published → closed
      ▲________reopen (lead, with a reason) ___________________|

A status moves forward one step at a time; moving back is a reopening and
needs a reason, kept in the audit log. New evidence (findings) is taken only
while :data:`TAKES_NEW_EVIDENCE` holds the status: after fieldwork the
evidence base is what the report rests on, so more needs the lead to reopen
fieldwork, with a reason. Who may change the status is the access policy's
:data:`inspect_kit.policy.SET_REVIEW_STATUS`.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from . import audit, policy, reviews, vocab
from .actors import Actor
from .errors import Conflict, Forbidden, ValidationError
from .store import write_transaction

ORDER: tuple[str, ...] = tuple(vocab.REVIEW_STATUSES)
TAKES_NEW_EVIDENCE = frozenset({"setup", "fieldwork"})
ALLOWS = {
    "setup": "Setting up: agencies, inspectors and the case sample can change; evidence can be recorded to try things out.",
    "fieldwork": "Fieldwork: inspectors record evidence and chronology events.",
    "drafting": "Drafting: no new evidence unless the lead reopens fieldwork with a reason.",
    "qa": "Quality assurance: no new evidence; QA and judgements continue.",
    "factual_accuracy": "Factual accuracy check: judgements are locked; no new evidence.",
    "published": "Published: the report is out; nothing changes.",
    "closed": "Closed: kept until its retention review date, then purged.",
}


class EvidenceClosed(Conflict):
    """The review's status takes no new evidence (HTTP 409)."""


def takes_new_evidence(status: str) -> bool:
    return status in TAKES_NEW_EVIDENCE


def require_new_evidence_allowed(db: Database, review_id: int) -> None:
    """:raises EvidenceClosed: the review's status takes no new evidence."""
    review = reviews.get_review(db, review_id)
    if not takes_new_evidence(review["status"]):
        label = vocab.REVIEW_STATUSES[review["status"]]
        raise EvidenceClosed(f"This review is at {label.lower()}: it takes no new evidence. The lead can reopen "
                       "fieldwork with a reason (`inspect-kit review status fieldwork --reason …`).")


def set_status(db: Database, actor: Actor, review_id: int, status: str, *, reason: str | None = None) -> dict[str, Any]:
    """Move the review to ``status``: the next step, or back (a reopening, which needs a reason).

    :raises Forbidden: the actor may not set the review's status.
    :raises ValidationError: unknown status, a skipped step, or a reopening without a reason.
    """
    if not policy.may(actor, policy.SET_REVIEW_STATUS):
        raise Forbidden("Only the lead inspector or an administrator can change the review's status.")
    if status not in ORDER:
        raise ValidationError(f"Unknown status {status!r}; choose one of: {', '.join(ORDER)}.",
                              field_errors={"status": "Choose a status"})
    with write_transaction(db):
        review = reviews.get_review(db, review_id)
        current = ORDER.index(review["status"])
        wanted = ORDER.index(status)
        if wanted == current:
            return review
        if wanted > current + 1:
            raise ValidationError(f"The review is at {review['status']}; the next status is {ORDER[current + 1]}.",
                                  field_errors={"status": f"Move to {ORDER[current + 1]} first"})
        reason = (reason or "").strip()
        if wanted < current and not reason:
            raise ValidationError("Give a reason for reopening the review (--reason).",
                                  field_errors={"reason": "Say why the review is reopened"})
        db.execute("UPDATE reviews SET status = ? WHERE id = ?", [status, review_id])
        audit.record(db, actor, "review.reopen" if wanted < current else "review.status", table="reviews",
                     row_id=review_id, before={"status": review["status"]}, after={"status": status},
                     detail=reason or None)
    return reviews.get_review(db, review_id)


def set_retention_review(db: Database, actor: Actor, review_id: int, on: str) -> dict[str, Any]:
    """Set the date on which the review's evidence is to be kept or purged (audited).

    :raises Forbidden: the actor may not set up the review.
    :raises ValidationError: not a YYYY-MM-DD date.
    """
    import datetime as dt

    if not policy.may(actor, policy.ADMINISTER):
        raise Forbidden("Only an administrator sets the retention review date.")
    try:
        on = dt.date.fromisoformat((on or "").strip()).isoformat()
    except ValueError:
        raise ValidationError("Give the retention review date as YYYY-MM-DD.",
                              field_errors={"retention_review_on": "Enter a date as YYYY-MM-DD"}) from None
    with write_transaction(db):
        review = reviews.get_review(db, review_id)
        db.execute("UPDATE reviews SET retention_review_on = ? WHERE id = ?", [on, review_id])
        audit.record(db, actor, "review.retention", table="reviews", row_id=review_id,
                     before={"retention_review_on": review["retention_review_on"]}, after={"retention_review_on": on})
    return reviews.get_review(db, review_id)
