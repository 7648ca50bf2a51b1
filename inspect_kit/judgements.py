"""Judgements: a grade (where the framework grades) and narrative per criterion."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from . import audit, policy, validation, vocab
from .actors import Actor
from .errors import Forbidden, NotFound, ValidationError
from .store import now, write_transaction


def record_judgement(db: Database, actor: Actor, *, review_id: int, criterion_code: str, scope: str,
                     narrative: str, agency_id: int | None = None, proposed_grade: int | None = None) -> dict[str, Any]:
    """Record or update the proposed judgement for a criterion (partnership-wide, or for one agency).

    Grades must come from the review's scale; an ungraded framework takes none.
    Only leads propose judgements (:data:`policy.PROPOSE_JUDGEMENTS`). A moderated grade, once set,
    is left as it is (see :func:`moderate_judgement`).

    :raises Forbidden, ValidationError:
    """
    if not policy.may(actor, policy.PROPOSE_JUDGEMENTS):
        raise Forbidden("Only lead inspectors propose judgements; moderators moderate them.")
    criterion_id, scope, agency_id, narrative = _checked(db, review_id, criterion_code, scope, agency_id, narrative,
                                                         proposed_grade=proposed_grade)
    with write_transaction(db):
        existing = _find(db, criterion_id, scope, agency_id)
        row = {"review_id": review_id, "criterion_id": criterion_id, "scope": scope, "agency_id": agency_id,
               "proposed_grade": proposed_grade, "narrative": narrative, "proposed_by": actor.username,
               "updated_at": now()}
        if existing:
            db.execute(f"UPDATE judgements SET {', '.join(f'{k} = ?' for k in row)} WHERE id = ?",
                       [*row.values(), existing["id"]])
            audit.record(db, actor, "judgement.edit", table="judgements", row_id=existing["id"], before=existing,
                         after=row)
            judgement_id = existing["id"]
        else:
            judgement_id = db.execute(
                f"INSERT INTO judgements ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
            ).lastrowid
            audit.record(db, actor, "judgement.create", table="judgements", row_id=judgement_id, after=row)
        return _find_by_id(db, judgement_id)


def moderate_judgement(db: Database, actor: Actor, *, review_id: int, criterion_code: str, scope: str,
                       moderated_grade: int, note: str, agency_id: int | None = None) -> dict[str, Any]:
    """Set the moderated grade of an existing judgement, leaving the lead's proposal as it is.

    Who moderated, when and why is kept in the audit log (``note`` as its detail).

    :raises Forbidden: the actor is not a moderator.
    :raises NotFound: no judgement has been proposed for this criterion and scope.
    :raises ValidationError: the grade is not on the review's scale, or no note.
    """
    if not policy.may(actor, policy.MODERATE_JUDGEMENTS):
        raise Forbidden("Only a moderator sets the moderated grade.")
    errors: dict[str, str] = {}
    note = validation.text({"note": note}, "note", errors, label="moderation note", required=True, limit=5000)
    if errors:
        raise ValidationError(errors["note"], field_errors=errors)
    criterion_id, scope, agency_id, _ = _checked(db, review_id, criterion_code, scope, agency_id, note,
                                                 moderated_grade=moderated_grade)
    with write_transaction(db):
        existing = _find(db, criterion_id, scope, agency_id)
        if existing is None:
            raise NotFound(f"No judgement has been proposed for {criterion_code} ({scope}) yet; "
                           "the lead proposes first.")
        db.execute("UPDATE judgements SET moderated_grade = ?, updated_at = ? WHERE id = ?",
                   [moderated_grade, now(), existing["id"]])
        audit.record(db, actor, "judgement.moderate", table="judgements", row_id=existing["id"],
                     before={"moderated_grade": existing["moderated_grade"]},
                     after={"moderated_grade": moderated_grade}, detail=note)
        return _find_by_id(db, existing["id"])


def _checked(db: Database, review_id: int, criterion_code: str, scope: str, agency_id: int | None, narrative: str,
             **grades: int | None) -> tuple[int, str, int | None, str]:
    errors: dict[str, str] = {}
    fields = {"scope": scope, "narrative": narrative, "agency_id": agency_id}
    scope = validation.choice(fields, "scope", vocab.JUDGEMENT_SCOPES, errors, label="scope")
    narrative = validation.text(fields, "narrative", errors, label="narrative", required=True)
    agency_id = validation.review_row_id(db, "agencies", fields, "agency_id", review_id, errors, label="agency",
                                         required=scope == "agency")
    criterion = db.execute("SELECT id FROM criteria WHERE review_id = ? AND code = ?",
                           [review_id, criterion_code]).fetchone()
    if criterion is None:
        errors["criterion_code"] = f"{criterion_code!r} is not a criterion of this review's framework"
    scale = {grade for (grade,) in db.execute("SELECT grade FROM grades WHERE review_id = ?", [review_id])}
    for name, grade in grades.items():
        if grade is not None and grade not in scale:
            errors[name] = (f"Choose a grade from {sorted(scale)}" if scale
                            else "This framework is not graded: record strengths and areas for improvement instead")
    if errors:
        raise ValidationError("; ".join(errors.values()), field_errors=errors)
    return criterion[0], scope, (agency_id if scope == "agency" else None), narrative


def _find(db: Database, criterion_id: int, scope: str, agency_id: int | None) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM judgements WHERE criterion_id = ? AND scope = ? AND agency_id IS ?",
                         [criterion_id, scope, agency_id]))
    return rows[0] if rows else None


def _find_by_id(db: Database, judgement_id: int) -> dict[str, Any]:
    return next(db.query("SELECT * FROM judgements WHERE id = ?", [judgement_id]))
