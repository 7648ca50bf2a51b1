"""A review's agencies after they are added: edit, retire, bring back, and
import a list of them from a sheet.

An agency is a service inspected (a MASH, an emergency department, a GP
practice); a strand inspects. Retiring one hides it from new records while
the records that name it keep it; nothing is deleted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlite_utils import Database

from . import audit, reviews, vocab
from .actors import Actor
from .errors import Conflict, NotFound, ValidationError
from .excel.importer import RowError, WorkbookInvalid
from .excel.safety import ImportLimits, WorkbookRefused
from .roster import require_strand_in_review
from .sample import code_for, read_sheet
from .store import now, write_transaction

AGENCY_COLUMNS = ("name", "organisation", "agency_type", "lead_strand")
FIELDS = ("name", "organisation", "agency_type", "lead_strand_id")


def get_agency(db: Database, review_id: int, name_or_id: str | int) -> dict[str, Any]:
    """The review's agency by id or exact name. :raises NotFound:"""
    column = "id" if isinstance(name_or_id, int) or str(name_or_id).isdigit() else "name"
    rows = list(db.query(f"SELECT * FROM agencies WHERE review_id = ? AND {column} = ?", [review_id, name_or_id]))
    if not rows:
        raise NotFound(f"No agency {name_or_id!r} in this review; `inspect-kit agency list` shows them.")
    return rows[0]


def list_agencies(db: Database, review_id: int, *, include_retired: bool = True) -> list[dict[str, Any]]:
    """The review's agencies with their lead strand's code, by organisation and name."""
    sql = ("SELECT agencies.*, strands.code AS lead_strand FROM agencies JOIN strands"
           " ON strands.id = agencies.lead_strand_id WHERE review_id = ?")
    if not include_retired:
        sql += " AND retired_at IS NULL"
    return list(db.query(sql + " ORDER BY organisation, name", [review_id]))


def _checked(db: Database, review_id: int, *, name: str | None, agency_type: str | None,
             lead_strand: str | None) -> dict[str, Any]:
    errors = {}
    if not (name or "").strip():
        errors["name"] = "Enter the agency's name"
    if agency_type not in vocab.AGENCY_TYPES:
        errors["agency_type"] = f"Choose one of: {', '.join(vocab.AGENCY_TYPES)}"
    strand_id = None
    try:
        strand_id = require_strand_in_review(db, review_id, lead_strand or "", "lead_strand")
    except ValidationError as error:
        errors["lead_strand"] = error.message
    if errors:
        raise ValidationError("; ".join(errors.values()), field_errors=errors)
    return {"name": name.strip(), "agency_type": agency_type, "lead_strand_id": strand_id}


def add_agency(db: Database, actor: Actor, review_id: int, *, name: str, agency_type: str, lead_strand: str,
               organisation: str | None = None) -> dict[str, Any]:
    """Add an agency whose lead strand takes part in the review.

    :raises ValidationError: :raises Conflict: the name is taken in the review.
    """
    checked = _checked(db, review_id, name=name, agency_type=agency_type, lead_strand=lead_strand)
    agency_id = reviews.add_agency(db, review_id=review_id, name=checked["name"], agency_type=agency_type,
                                   lead_strand=lead_strand, actor=actor, organisation=organisation or None)
    return get_agency(db, review_id, agency_id)


def edit_agency(db: Database, actor: Actor, review_id: int, agency: str | int, **changes: Any) -> dict[str, Any]:
    """Change an agency's name, organisation, type or lead strand (audited).

    :raises NotFound: :raises ValidationError: :raises Conflict: the new name is taken.
    """
    with write_transaction(db):
        before = get_agency(db, review_id, agency)
        strand = changes.get("lead_strand") or db.execute("SELECT code FROM strands WHERE id = ?",
                                                          [before["lead_strand_id"]]).fetchone()[0]
        checked = _checked(db, review_id, name=changes.get("name") or before["name"],
                           agency_type=changes.get("agency_type") or before["agency_type"], lead_strand=strand)
        after = {**checked, "organisation": changes.get("organisation", before["organisation"]) or None}
        if after["name"] != before["name"] and db.execute(
                "SELECT 1 FROM agencies WHERE review_id = ? AND name = ?", [review_id, after["name"]]).fetchone():
            raise Conflict(f"The review already has an agency called {after['name']!r}.")
        db.execute(f"UPDATE agencies SET {', '.join(f'{key} = ?' for key in FIELDS)} WHERE id = ?",
                   [*(after[key] for key in FIELDS), before["id"]])
        audit.record(db, actor, "agency.edit", table="agencies", row_id=before["id"],
                     before={key: before[key] for key in FIELDS}, after=after)
    return get_agency(db, review_id, before["id"])


def retire_agency(db: Database, actor: Actor, review_id: int, agency: str | int, *,
                  retired: bool = True) -> dict[str, Any]:
    """Retire an agency (no new records name it; old ones keep it), or bring it back (audited)."""
    with write_transaction(db):
        before = get_agency(db, review_id, agency)
        stamp = now() if retired else None
        db.execute("UPDATE agencies SET retired_at = ? WHERE id = ?", [stamp, before["id"]])
        audit.record(db, actor, "agency.retire" if retired else "agency.restore", table="agencies",
                     row_id=before["id"], before={"retired_at": before["retired_at"]}, after={"retired_at": stamp})
    return get_agency(db, review_id, before["id"])


def import_agencies(db: Database, actor: Actor, review_id: int, path: Path | str, *, name: str | None = None,
                    limits: ImportLimits | None = None) -> dict[str, list[str]]:
    """Add or update the review's agencies from a sheet (columns ``name``,
    ``organisation``, ``agency_type``, ``lead_strand``; types and strands by
    code or label). All or nothing; matched by name, so importing again never
    duplicates. Returns ``{"added", "updated", "unchanged"}`` names.

    :raises WorkbookRefused: :raises WorkbookInvalid: nothing written.
    """
    shown = name or Path(path).name
    strands = {row["code"]: row["name"] for row in db.query(
        "SELECT strands.code, strands.name FROM review_strands JOIN strands ON strands.id = strand_id"
        " WHERE review_id = ?", [review_id])}
    errors: list[RowError] = []
    checked: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    rows = 0
    for number, record in read_sheet(path, AGENCY_COLUMNS, ("name", "agency_type", "lead_strand"), name=shown,
                                     limits=limits):
        rows += 1
        agency = {"name": record.get("name"), "organisation": record.get("organisation"),
                  "agency_type": code_for(record.get("agency_type"), vocab.AGENCY_TYPES),
                  "lead_strand": code_for(record.get("lead_strand"), strands)}
        if not agency["name"]:
            errors.append(RowError("Agencies", number, "name", "Enter the agency's name"))
        elif agency["name"] in seen:
            errors.append(RowError("Agencies", number, "name", f"{agency['name']!r} is also on row {seen[agency['name']]}"))
        else:
            seen[agency["name"]] = number
        if agency["agency_type"] is None:
            errors.append(RowError("Agencies", number, "agency_type",
                                   f"{record.get('agency_type') or 'Empty'!r} is not one of: "
                                   f"{', '.join(vocab.AGENCY_TYPES.values())}"))
        if agency["lead_strand"] is None:
            errors.append(RowError("Agencies", number, "lead_strand",
                                   f"{record.get('lead_strand') or 'Empty'!r} is not a strand taking part: "
                                   f"{', '.join(strands)}"))
        checked.append(agency)
    if errors:
        raise WorkbookInvalid(errors, rows, shown)
    if not rows:
        raise WorkbookRefused(f"{shown} has no agencies: one row per agency under the heading row.")
    report: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    with write_transaction(db):
        existing = {row["name"]: row for row in list_agencies(db, review_id)}
        for agency in checked:
            old = existing.get(agency["name"])
            if old is None:
                add_agency(db, actor, review_id, **agency)
                report["added"].append(agency["name"])
            elif (old["organisation"], old["agency_type"], old["lead_strand"]) == (
                    agency["organisation"], agency["agency_type"], agency["lead_strand"]):
                report["unchanged"].append(agency["name"])
            else:
                edit_agency(db, actor, review_id, old["id"], **agency)
                report["updated"].append(agency["name"])
    return report
