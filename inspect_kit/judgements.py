"""Judgements: a grade (where the framework grades) and narrative per criterion."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from . import audit, validation, vocab
from .actors import Actor
from .errors import Forbidden, ValidationError
from .store import now, write_transaction


def record_judgement(db: Database, actor: Actor, *, review_id: int, criterion_code: str, scope: str,
                     narrative: str, agency_id: int | None = None, proposed_grade: int | None = None,
                     moderated_grade: int | None = None) -> dict[str, Any]:
    """Record or update the judgement for a criterion (partnership-wide, or for one agency).

    Grades must come from the review's scale; an ungraded framework takes none.
    Only leads and moderators record judgements; only moderators moderate.

    :raises Forbidden, ValidationError:
    """
    if not actor.reads_everything:
        raise Forbidden("Only lead inspectors and moderators record judgements.")
    if moderated_grade is not None and actor.role != "moderator":
        raise Forbidden("Only a moderator sets the moderated grade.")
    errors: dict[str, str] = {}
    fields = {"scope": scope, "narrative": narrative, "agency_id": agency_id}
    scope = validation.choice(fields, "scope", vocab.JUDGEMENT_SCOPES, errors, label="scope")
    narrative = validation.text(fields, "narrative", errors, label="narrative", required=True)
    agency_id = validation.review_row_id(db, "agencies", fields, "agency_id", review_id, errors, label="agency",
                                         required=scope == "agency")
    criterion = db.execute("SELECT id FROM criteria WHERE review_id = ? AND code = ?", [review_id, criterion_code]).fetchone()
    if criterion is None:
        errors["criterion_code"] = f"{criterion_code!r} is not a criterion of this review's framework"
    scale = {grade for (grade,) in db.execute("SELECT grade FROM grades WHERE review_id = ?", [review_id])}
    for name, grade in (("proposed_grade", proposed_grade), ("moderated_grade", moderated_grade)):
        if grade is not None and grade not in scale:
            errors[name] = (f"Choose a grade from {sorted(scale)}" if scale
                            else "This framework is not graded: record strengths and areas for improvement instead")
    if errors:
        raise ValidationError("; ".join(errors.values()), field_errors=errors)
    if scope == "partnership":
        agency_id = None
    with write_transaction(db):
        existing = db.execute(
            "SELECT * FROM judgements WHERE criterion_id = ? AND scope = ? AND agency_id IS ?",
            [criterion[0], scope, agency_id]).fetchone()
        row = {"review_id": review_id, "criterion_id": criterion[0], "scope": scope, "agency_id": agency_id,
               "proposed_grade": proposed_grade, "narrative": narrative, "proposed_by": actor.username,
               "updated_at": now()}
        if moderated_grade is not None:
            row["moderated_grade"] = moderated_grade
        if existing:
            judgement_id = existing[0]
            before = dict(db.query("SELECT * FROM judgements WHERE id = ?", [judgement_id]).__next__())
            db.execute(f"UPDATE judgements SET {', '.join(f'{k} = ?' for k in row)} WHERE id = ?",
                       [*row.values(), judgement_id])
            audit.record(db, actor, "judgement.edit", table="judgements", row_id=judgement_id, before=before, after=row)
        else:
            judgement_id = db.execute(
                f"INSERT INTO judgements ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
            ).lastrowid
            audit.record(db, actor, "judgement.create", table="judgements", row_id=judgement_id, after=row)
        return next(db.query("SELECT * FROM judgements WHERE id = ?", [judgement_id]))
