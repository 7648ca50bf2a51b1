"""Quality assurance of findings: submit, accept, return, withdraw.

Allowed moves (anything else raises :class:`InvalidTransition`)::

    draft ──submit──► submitted ──accept──► accepted
    returned ─submit─┘     └──return──► returned
    draft / submitted / returned / accepted ──withdraw──► withdrawn

Authors submit and withdraw their own findings; leads and moderators accept,
return (with a comment the author sees) and may withdraw any finding.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from . import audit, policy, validation
from .actors import Actor
from .errors import Forbidden, InvalidTransition, ValidationError
from .store import now, write_transaction

TRANSITIONS: dict[str, dict[str, str]] = {
    "submit": {"draft": "submitted", "returned": "submitted"},
    "accept": {"submitted": "accepted"},
    "return": {"submitted": "returned"},
    "withdraw": {"draft": "withdrawn", "submitted": "withdrawn", "returned": "withdrawn", "accepted": "withdrawn"},
}


def submit(db: Database, actor: Actor, finding_id: int, comment: str | None = None) -> dict[str, Any]:
    """Send a draft (or returned) finding to the QA queue. It must be linked to a criterion."""
    return _move(db, actor, finding_id, "submit", comment)


def accept(db: Database, actor: Actor, finding_id: int, comment: str | None = None) -> dict[str, Any]:
    """Accept a submitted finding into the evidence base (leads and moderators)."""
    return _move(db, actor, finding_id, "accept", comment)


def return_finding(db: Database, actor: Actor, finding_id: int, comment: str) -> dict[str, Any]:
    """Return a submitted finding to its author with a comment saying what to change."""
    return _move(db, actor, finding_id, "return", comment)


def withdraw(db: Database, actor: Actor, finding_id: int, reason: str) -> dict[str, Any]:
    """Withdraw a finding (kept, never deleted: evidence is disclosable) with a reason."""
    return _move(db, actor, finding_id, "withdraw", reason)


def perform(db: Database, actor: Actor, finding_id: int, action: str, comment: str | None = None) -> dict[str, Any]:
    """Do the QA ``action`` by name (for the API and forms).

    :raises ValidationError: unknown action or missing comment.
    """
    if action not in TRANSITIONS:
        raise ValidationError(f"Unknown QA action {action!r}; use one of {', '.join(TRANSITIONS)}.",
                              field_errors={"action": "Choose submit, accept, return or withdraw"})
    return _move(db, actor, finding_id, action, comment)


def allowed_actions(actor: Actor, finding: dict[str, Any]) -> list[str]:
    """The QA actions this actor may take on this finding now (for buttons)."""
    return [action for action, moves in TRANSITIONS.items()
            if finding["qa_status"] in moves and _may(actor, finding, action)]


def history(db: Database, finding_id: int) -> list[dict[str, Any]]:
    """The QA actions on a finding, oldest first (returns carry the lead's comment)."""
    return list(db.query("SELECT * FROM qa_actions WHERE finding_id = ? ORDER BY id", [finding_id]))


def queue(db: Database, review_id: int) -> list[dict[str, Any]]:
    """Submitted findings awaiting QA, oldest submission first, with their age in days."""
    return list(db.query(
        """SELECT findings.id, findings.public_id, findings.finding_type, findings.submitted_at, findings.version,
                  strands.code AS strand, inspectors.code AS inspector, cases.case_ref AS case_ref,
                  agencies.name AS agency, substr(findings.evidence_text, 1, 200) AS evidence_excerpt,
                  CAST(julianday('now') - julianday(findings.submitted_at) AS INTEGER) AS age_days
           FROM findings JOIN strands ON strands.id = findings.strand_id
           JOIN inspectors ON inspectors.id = findings.inspector_id
           LEFT JOIN cases ON cases.id = findings.case_id
           LEFT JOIN agencies ON agencies.id = findings.agency_id
           WHERE findings.review_id = ? AND findings.qa_status = 'submitted'
           ORDER BY findings.submitted_at, findings.id""", [review_id]))


def _may(actor: Actor, finding: dict[str, Any], action: str) -> bool:
    return policy.may_qa(actor, finding, action)


def _move(db: Database, actor: Actor, finding_id: int, action: str, comment: str | None) -> dict[str, Any]:
    from .findings import get_finding

    errors: dict[str, str] = {}
    needs_comment = action in ("return", "withdraw")
    label = "reason for withdrawing" if action == "withdraw" else "comment for the author"
    comment = validation.text({"comment": comment}, "comment", errors, label=label, required=needs_comment, limit=5000)
    if errors:
        raise ValidationError(errors["comment"], field_errors=errors)
    with write_transaction(db):
        finding = get_finding(db, finding_id)
        if not _may(actor, finding, action):
            who = ("the inspector who recorded it" if action in ("submit", "withdraw")
                   else "a lead inspector or moderator")
            raise Forbidden(f"Only {who} can {action} this finding.")
        moves = TRANSITIONS[action]
        if finding["qa_status"] not in moves:
            raise InvalidTransition(
                f"A {finding['qa_status']} finding cannot be {'returned' if action == 'return' else action + 'ed'}; "
                f"that is only possible from: {', '.join(moves)}.")
        if action == "submit" and not finding["criteria"]:
            raise ValidationError("Link the finding to at least one framework criterion before submitting it.",
                                  field_errors={"criteria": "Select at least one framework criterion"})
        to_status = moves[finding["qa_status"]]
        stamp = now()
        if action == "submit":
            db.execute("UPDATE findings SET qa_status = ?, submitted_at = ? WHERE id = ?", [to_status, stamp, finding_id])
        else:
            db.execute("UPDATE findings SET qa_status = ? WHERE id = ?", [to_status, finding_id])
        record_action(db, actor, finding_id, action, finding["qa_status"], to_status, comment, at=stamp)
        return get_finding(db, finding_id)


def record_action(db: Database, actor: Actor, finding_id: int, action: str, from_status: str, to_status: str,
                  comment: str | None, *, at: str) -> None:
    """Write a QA action and its audit row for a move the caller has already checked and made.

    For :mod:`inspect_kit.findings`, which records a finding and submits it in
    one insert; everything else moves findings through :func:`perform` and friends.
    """
    db.execute(
        "INSERT INTO qa_actions (finding_id, action, from_status, to_status, actor, at, comment)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [finding_id, action, from_status, to_status, actor.username, at, comment],
    )
    audit.record(db, actor, f"finding.{action}", table="findings", row_id=finding_id,
                 before={"qa_status": from_status}, after={"qa_status": to_status}, detail=comment)
