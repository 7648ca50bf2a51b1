"""A review's lifecycle and what each status allows.

::

    setup → fieldwork → drafting → qa → factual_accuracy → published → closed
      ▲________reopen (lead, with a reason) ___________________|

A status moves forward one step at a time; moving back is a reopening and
needs a reason, kept in the audit log. Who may change the status is the
access policy's :data:`inspect_kit.policy.SET_REVIEW_STATUS`.

What each status takes, record by record (:data:`NEW_RECORDS`, enforced here
by :func:`require_may_add` in every path that writes one: the forms, the API,
the workbook import):

- **findings and chronology events** are evidence: taken in setup (to try
  things out) and fieldwork only. From drafting on, the evidence base is what
  the report rests on; more needs the lead to reopen fieldwork, with a reason.
  A record sent before the status moved on is still acknowledged when its
  outbox retries it (the replay is checked first).
- **safeguarding alerts** are not evidence but a duty to a child found at
  risk, which does not wait for the report's timetable: they can be raised in
  every status until the review is closed (during drafting an inspector may
  still learn of a child at risk, re-reading a case file or at factual
  accuracy), and an alert already raised can be referred, answered and closed
  in every status, closed included, so that none is left half-way. A closed
  review's team has stood down: a new concern goes to the local authority's
  front door directly.
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
    "fieldwork": "Fieldwork: inspectors record evidence, chronology events and safeguarding alerts.",
    "drafting": "Drafting: no new evidence or chronology events unless the lead reopens fieldwork with a reason; "
                "safeguarding alerts can still be raised.",
    "qa": "Quality assurance: no new evidence or chronology events; QA and judgements continue; safeguarding "
          "alerts can still be raised.",
    "factual_accuracy": "Factual accuracy check: judgements are locked; no new evidence or chronology events; "
                        "safeguarding alerts can still be raised.",
    "published": "Published: the report is out; nothing changes but safeguarding alerts, which can still be raised.",
    "closed": "Closed: kept until its retention review date, then purged; alerts already raised can be seen "
              "through, no new ones.",
}


FINDING, CHRONOLOGY_EVENT, SAFEGUARDING_ALERT = "finding", "chronology_event", "safeguarding_alert"
# record -> the statuses in which a new one is taken (why: the module's docstring).
NEW_RECORDS: dict[str, frozenset[str]] = {
    FINDING: TAKES_NEW_EVIDENCE,
    CHRONOLOGY_EVENT: TAKES_NEW_EVIDENCE,
    SAFEGUARDING_ALERT: frozenset(ORDER) - {"closed"},
}


class EvidenceClosed(Conflict):
    """The review's status takes no new record of this kind (HTTP 409)."""


def takes_new_evidence(status: str) -> bool:
    return status in TAKES_NEW_EVIDENCE


def may_add(status: str, record: str) -> bool:
    """Whether a review at ``status`` takes a new ``record`` (:data:`NEW_RECORDS`). :raises KeyError: unknown record."""
    return status in NEW_RECORDS[record]


def require_may_add(db: Database, review_id: int, record: str) -> None:
    """:raises EvidenceClosed: the review's status takes no new ``record`` (saying what to do instead)."""
    # Asked once per record written (the demo writes thousands): the status alone, no dict per call.
    row = db.execute("SELECT status FROM reviews WHERE id = ?", [review_id]).fetchone()
    status = row[0] if row else reviews.get_review(db, review_id)["status"]  # (raises NotFound)
    if may_add(status, record):
        return
    label = vocab.REVIEW_STATUSES[status].lower()
    if record == SAFEGUARDING_ALERT:
        raise EvidenceClosed(f"This review is {label}: its team has stood down and it takes no new safeguarding "
                             "alerts. Pass the concern to the local authority's children's services front door now.")
    what = {FINDING: "evidence", CHRONOLOGY_EVENT: "chronology events"}[record]
    raise EvidenceClosed(f"This review is at {label}: it takes no new {what}. The lead can reopen fieldwork with a "
                         "reason (`inspect-kit review status fieldwork --reason ...`).")


def require_new_evidence_allowed(db: Database, review_id: int) -> None:
    """:raises EvidenceClosed: the review's status takes no new evidence (findings)."""
    require_may_add(db, review_id, FINDING)


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
