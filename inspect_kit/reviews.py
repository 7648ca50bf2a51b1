"""Setting up a review: the review, its framework, strands, agencies,
inspectors and case sample.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlite_utils import Database

from . import audit, references, vocab
from .actors import Actor
from .errors import Conflict, NotFound, ValidationError
from .frameworks import Framework, load_framework
from .store import insert_row, now, write_transaction


def _require(value: str | None, choices: dict[str, str], field: str) -> None:
    if value not in choices:
        raise ValidationError(
            f"{field} {value!r} is not allowed; choose one of: {', '.join(choices)}.",
            field_errors={field: f"Choose one of: {', '.join(choices.values())}"},
        )


def ensure_default_strands(db: Database, actor: Actor) -> None:
    """Add the standard strands (Ofsted, health, police, probation, education) if absent."""
    with write_transaction(db):
        for code, (name, inspectorate) in vocab.DEFAULT_STRANDS.items():
            if db.execute("SELECT 1 FROM strands WHERE code = ?", [code]).fetchone():
                continue
            add_strand(db, code=code, name=name, inspectorate=inspectorate, actor=actor)


def add_strand(db: Database, *, code: str, name: str, inspectorate: str, actor: Actor) -> int:
    """Add a strand (an inspectorate's part of the review); returns its id."""
    with write_transaction(db):
        if db.execute("SELECT 1 FROM strands WHERE code = ?", [code]).fetchone():
            raise Conflict(f"Strand {code!r} already exists.")
        row_id = db.execute(
            "INSERT INTO strands (code, name, inspectorate) VALUES (?, ?, ?)", [code, name, inspectorate]
        ).lastrowid
        audit.record(db, actor, "strand.add", table="strands", row_id=row_id,
                     after={"code": code, "name": name, "inspectorate": inspectorate})
    return row_id


def create_review(
    db: Database,
    *,
    slug: str,
    title: str,
    area: str,
    review_type: str,
    framework: str | Path | Framework,
    actor: Actor,
    fieldwork_start: str | None = None,
    fieldwork_end: str | None = None,
    draft_due: str | None = None,
    commissioned_by: str | None = None,
    legal_basis: str | None = None,
    retention_review_on: str | None = None,
    status: str = "setup",
    strands: list[str] | None = None,
) -> dict[str, Any]:
    """Create a review and load its framework's areas, criteria and grades.

    ``strands`` are the codes of the strands taking part (default: every
    strand in the store, the five standard ones at first).

    :raises FrameworkError: if the framework file is broken.
    :raises ValidationError: for an unknown review type or status.
    :raises Conflict: if a review with this slug exists.
    """
    _require(review_type, vocab.REVIEW_TYPES, "review_type")
    _require(status, vocab.REVIEW_STATUSES, "status")
    if not isinstance(framework, Framework):
        framework = load_framework(framework)
    ensure_default_strands(db, actor)
    with write_transaction(db):
        if db.execute("SELECT 1 FROM reviews WHERE slug = ?", [slug]).fetchone():
            raise Conflict(f"A review called {slug!r} already exists; choose another --slug.")
        row = {
            "slug": slug, "title": title, "area": area, "review_type": review_type,
            "framework": framework.code, "framework_title": framework.title, "graded": int(framework.graded),
            "commissioned_by": commissioned_by, "legal_basis": legal_basis,
            "fieldwork_start": fieldwork_start, "fieldwork_end": fieldwork_end, "draft_due": draft_due,
            "status": status, "retention_review_on": retention_review_on, "created_at": now(),
        }
        review_id = insert_row(db, "reviews", row)
        for grade, label in framework.grades:
            db.execute("INSERT INTO grades (review_id, grade, label) VALUES (?, ?, ?)", [review_id, grade, label])
        position = 0
        for area_pos, framework_area in enumerate(framework.areas, 1):
            area_id = db.execute(
                "INSERT INTO judgement_areas (review_id, code, title, position) VALUES (?, ?, ?, ?)",
                [review_id, framework_area.code, framework_area.title, area_pos],
            ).lastrowid
            for criterion in framework_area.criteria:
                position += 1
                db.execute(
                    "INSERT INTO criteria (review_id, area_id, code, title, description, position)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [review_id, area_id, criterion.code, criterion.title, criterion.description, position],
                )
        strand_codes = strands or [code for (code,) in db.execute("SELECT code FROM strands ORDER BY id")]
        for code in dict.fromkeys(strand_codes):
            db.execute("INSERT INTO review_strands (review_id, strand_id) VALUES (?, ?)",
                       [review_id, strand_id_for(db, code)])
        audit.record(db, actor, "review.create", table="reviews", row_id=review_id,
                     after={**row, "strands": list(dict.fromkeys(strand_codes))})
    return get_review(db, review_id)


def get_review(db: Database, review_id: int) -> dict[str, Any]:
    """:raises NotFound: when there is no such review."""
    rows = list(db.query("SELECT * FROM reviews WHERE id = ?", [review_id]))
    if not rows:
        raise NotFound(f"No review with id {review_id}.")
    return rows[0]


def current_review(db: Database, slug: str | None = None) -> dict[str, Any]:
    """The review being worked on: the one with ``slug``, or the latest created.

    :raises NotFound: when the store has no review (run ``inspect-kit review
        create`` or ``inspect-kit demo``) or none with that slug.
    """
    if slug:
        rows = list(db.query("SELECT * FROM reviews WHERE slug = ?", [slug]))
        if not rows:
            raise NotFound(f"No review called {slug!r}.")
        return rows[0]
    rows = list(db.query("SELECT * FROM reviews ORDER BY id DESC LIMIT 1"))
    if not rows:
        raise NotFound("This store has no review yet: run `inspect-kit review create` or `inspect-kit demo`.")
    return rows[0]


def add_agency(
    db: Database, *, review_id: int, name: str, agency_type: str, lead_strand: str,
    actor: Actor, organisation: str | None = None,
) -> int:
    """Add an inspected agency (a service) to the review; returns its id.

    :raises ValidationError: unknown agency type or strand.
    :raises Conflict: an agency of that name exists in the review.
    """
    _require(agency_type, vocab.AGENCY_TYPES, "agency_type")
    with write_transaction(db):
        strand_id = strand_id_for(db, lead_strand)
        if db.execute("SELECT 1 FROM agencies WHERE review_id = ? AND name = ?", [review_id, name]).fetchone():
            raise Conflict(f"The review already has an agency called {name!r}.")
        row = {"review_id": review_id, "name": name, "organisation": organisation,
               "agency_type": agency_type, "lead_strand_id": strand_id}
        agency_id = db.execute(
            "INSERT INTO agencies (review_id, name, organisation, agency_type, lead_strand_id) VALUES (?, ?, ?, ?, ?)",
            list(row.values()),
        ).lastrowid
        audit.record(db, actor, "agency.add", table="agencies", row_id=agency_id, after=row)
    return agency_id


def add_inspector(db: Database, *, review_id: int, code: str, strand: str, role: str, actor: Actor) -> int:
    """Add an inspector (known by display code, e.g. ``POL-02``); returns its id."""
    _require(role, vocab.INSPECTOR_ROLES, "role")
    with write_transaction(db):
        strand_id = strand_id_for(db, strand)
        if db.execute("SELECT 1 FROM inspectors WHERE review_id = ? AND code = ?", [review_id, code]).fetchone():
            raise Conflict(f"The review already has an inspector {code}.")
        row = {"review_id": review_id, "code": code, "strand_id": strand_id, "role": role}
        inspector_id = db.execute(
            "INSERT INTO inspectors (review_id, code, strand_id, role) VALUES (?, ?, ?, ?)", list(row.values())
        ).lastrowid
        audit.record(db, actor, "inspector.add", table="inspectors", row_id=inspector_id, after=row)
    return inspector_id


def add_case(
    db: Database, *, review_id: int, case_ref: str, age_band: str, legal_status: str,
    selection_route: str, actor: Actor, household_ref: str | None = None, cp_category: str | None = None,
) -> int:
    """Add a child to the case list by pseudonymous reference (``C-017``); returns its id."""
    _require(age_band, vocab.AGE_BANDS, "age_band")
    _require(legal_status, vocab.LEGAL_STATUSES, "legal_status")
    _require(selection_route, vocab.SELECTION_ROUTES, "selection_route")
    if cp_category is not None:
        _require(cp_category, vocab.CP_CATEGORIES, "cp_category")
    with write_transaction(db):
        if db.execute("SELECT 1 FROM cases WHERE review_id = ? AND case_ref = ?", [review_id, case_ref]).fetchone():
            raise Conflict(f"The review already has a case {case_ref}.")
        row = {"review_id": review_id, "case_ref": case_ref, "household_ref": household_ref, "age_band": age_band,
               "legal_status": legal_status, "cp_category": cp_category, "selection_route": selection_route}
        case_id = insert_row(db, "cases", row)
        audit.record(db, actor, "case.add", table="cases", row_id=case_id, after=row)
    return case_id


def strand_id_for(db: Database, code: str) -> int:
    """:raises ValidationError: when no strand has this code."""
    row = db.execute("SELECT id FROM strands WHERE code = ?", [code]).fetchone()
    if row is None:
        known = ", ".join(code for (code,) in db.execute("SELECT code FROM strands ORDER BY code"))
        raise ValidationError(f"Unknown strand {code!r}; known strands: {known}.", field_errors={"strand": "Unknown strand"})
    return row[0]


def strands(db: Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM strands ORDER BY id"))


def agencies(db: Database, review_id: int, *, current_only: bool = False, keep: int | None = None) -> list[dict[str, Any]]:
    """The review's agencies; with ``current_only`` not the retired ones,
    except ``keep`` (the agency a record being edited already names)."""
    sql = "SELECT * FROM agencies WHERE review_id = ?"
    params: list[Any] = [review_id]
    if current_only:
        sql += " AND (retired_at IS NULL OR id IS ?)"
        params.append(keep)
    return list(db.query(sql + " ORDER BY organisation, name", params))


def cases(db: Database, review_id: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM cases WHERE review_id = ? ORDER BY case_ref", [review_id]))


def cases_to_choose(db: Database, review_id: int, inspector_id: int | None) -> list[dict[str, Any]]:
    """The review's cases in the order a case picker offers them, each with ``own`` (1 or 0):
    first the inspector's own (cases they have recorded evidence or events on), then the
    other sampled, tracked and index cases, then the cases only listed; by case ref within each."""
    return list(db.query(
        """SELECT cases.*, (cases.id IN (SELECT case_id FROM findings WHERE inspector_id = :inspector
                                        UNION SELECT case_id FROM chronology_events WHERE recorded_by = :inspector)
                           ) AS own
           FROM cases WHERE review_id = :review
           ORDER BY own DESC, selection_route = 'listed', case_ref""",
        {"review": review_id, "inspector": inspector_id}))


def criteria_by_area(db: Database, review_id: int) -> list[dict[str, Any]]:
    """The review's judgement areas, each with its ``criteria`` list, in framework order."""
    areas = list(db.query("SELECT * FROM judgement_areas WHERE review_id = ? ORDER BY position", [review_id]))
    for area in areas:
        area["criteria"] = list(db.query("SELECT * FROM criteria WHERE area_id = ? ORDER BY position", [area["id"]]))
    return areas


def inspector(db: Database, inspector_id: int) -> dict[str, Any]:
    """An inspector with its strand code. :raises NotFound:"""
    rows = list(db.query(
        "SELECT inspectors.*, strands.code AS strand FROM inspectors JOIN strands ON strands.id = inspectors.strand_id"
        " WHERE inspectors.id = ?", [inspector_id]))
    if not rows:
        raise NotFound(f"No inspector with id {inspector_id}.")
    return rows[0]


def inspector_by_code(db: Database, review_id: int, code: str) -> dict[str, Any]:
    """:raises NotFound:"""
    inspector_id = references.inspector_id(db, review_id, code)
    if inspector_id is None:
        raise NotFound(f"No inspector {code} in this review.")
    return inspector(db, inspector_id)
