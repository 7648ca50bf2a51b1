"""Reading findings: one finding with its labels and criteria, the findings a
reader may see, and a finding's history. Every read asks the access policy.

Apart from :mod:`inspect_kit.findings` (which records and edits them) so that
:mod:`inspect_kit.qa`, which moves findings through QA, can read one without
importing the module that calls it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from . import policy
from .actors import Actor
from .errors import Forbidden, NotFound
from .fields import FINDING

# The fields an inspector supplies, in the order a form shows them.
FIELDS = (*(field.name for field in FINDING), "criteria")
# Fields kept in link tables rather than columns of ``findings``.
LINKS = ("criteria", "event_ids")



def get_finding(db: Database, finding_id: int | str, actor: Actor | None = None) -> dict[str, Any]:
    """A finding by id or public id, with its strand, inspector, agency and case labels,
    ``criteria`` (code → relevance) and ``event_ids`` (the chronology events it cites, ascending).

    With an ``actor``, enforces who may read it.

    :raises NotFound: no such finding.
    :raises Forbidden: the actor may not see this strand's evidence.
    """
    column = "findings.public_id" if isinstance(finding_id, str) and not finding_id.isdigit() else "findings.id"
    rows = list(db.query(
        f"""SELECT findings.*, strands.code AS strand, inspectors.code AS inspector,
                   agencies.name AS agency, cases.case_ref AS case_ref
            FROM findings
            JOIN strands ON strands.id = findings.strand_id
            JOIN inspectors ON inspectors.id = findings.inspector_id
            LEFT JOIN agencies ON agencies.id = findings.agency_id
            LEFT JOIN cases ON cases.id = findings.case_id
            WHERE {column} = ?""", [finding_id]))
    if not rows:
        raise NotFound(f"No finding {finding_id}.")
    finding = rows[0]
    if actor is not None and not policy.may_read_finding(actor, finding):
        raise Forbidden("This finding belongs to another strand; ask your lead inspector if you need to see it.")
    finding["criteria"] = criteria_of(db, finding["id"])
    finding["event_ids"] = event_ids_of(db, finding["id"])
    return finding


def list_findings(db: Database, actor: Actor, review_id: int, *, qa_status: str | None = None,
                  mine: bool = False, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """Findings the actor may see, newest first."""
    where, params = ["findings.review_id = ?"], [review_id]
    strands = policy.finding_strands(actor)
    if strands is False:
        return []
    if strands is not True:
        where.append("strands.code = ?")
        params.append(strands)
    if mine:
        where.append("findings.inspector_id = ?")
        params.append(actor.inspector_id)
    if qa_status:
        where.append("findings.qa_status = ?")
        params.append(qa_status)
    return list(db.query(
        f"""SELECT findings.id, findings.public_id, findings.qa_status, findings.finding_type, findings.activity,
                   findings.collected_on, findings.version, findings.updated_at, findings.evidence_text,
                   strands.code AS strand, inspectors.code AS inspector, agencies.name AS agency,
                   cases.case_ref AS case_ref
            FROM findings
            JOIN strands ON strands.id = findings.strand_id
            JOIN inspectors ON inspectors.id = findings.inspector_id
            LEFT JOIN agencies ON agencies.id = findings.agency_id
            LEFT JOIN cases ON cases.id = findings.case_id
            WHERE {' AND '.join(where)}
            ORDER BY findings.updated_at DESC, findings.id DESC LIMIT ? OFFSET ?""", [*params, limit, offset]))


def finding_history(db: Database, finding_id: int, actor: Actor | None = None) -> list[dict[str, Any]]:
    """Every version of a finding, oldest first, each with ``changes``:
    a list of ``(field, old, new)`` against the version before it.

    :raises NotFound, Forbidden: as :func:`get_finding`.
    """
    get_finding(db, finding_id, actor)
    versions = list(db.query("SELECT * FROM finding_versions WHERE finding_id = ? ORDER BY version", [finding_id]))
    previous: dict[str, Any] = {}
    for version in versions:
        snapshot = json.loads(version["snapshot"])
        snapshot.setdefault("event_ids", [])  # versions written before findings cited events cited none
        version["snapshot"] = snapshot
        version["changes"] = [
            (field, previous.get(field), snapshot.get(field))
            for field in FIELDS if previous and previous.get(field) != snapshot.get(field)
        ]
        previous = snapshot
    return versions


def criteria_of(db: Database, finding_id: int) -> dict[str, str]:
    """A finding's criteria, code → relevance, in framework order."""
    return {code: relevance for code, relevance in db.execute(
        "SELECT criteria.code, finding_criteria.relevance FROM finding_criteria"
        " JOIN criteria ON criteria.id = finding_criteria.criterion_id WHERE finding_id = ? ORDER BY criteria.position",
        [finding_id])}


def event_ids_of(db: Database, finding_id: int) -> list[int]:
    """The ids of the chronology events a finding cites, ascending."""
    return [event_id for (event_id,) in db.execute(
        "SELECT event_id FROM finding_events WHERE finding_id = ? ORDER BY event_id", [finding_id])]


def cited_events(db: Database, finding_id: int) -> list[dict[str, Any]]:
    """The chronology events a finding cites, in date order, each with its case and agency names.

    Whoever may read the finding may read them: every reader of evidence reads
    case chronologies (docs/architecture.md §8).
    """
    return list(db.query(
        """SELECT chronology_events.*, cases.case_ref, agencies.name AS agency
           FROM finding_events
           JOIN chronology_events ON chronology_events.id = finding_events.event_id
           JOIN cases ON cases.id = chronology_events.case_id
           JOIN agencies ON agencies.id = chronology_events.agency_id
           WHERE finding_events.finding_id = ?
           ORDER BY chronology_events.event_date, chronology_events.id""", [finding_id]))


def citing_findings(db: Database, actor: Actor, case_id: int) -> dict[int, list[dict[str, Any]]]:
    """For each event of a case's chronology that findings cite: the citing findings ``actor``
    may read (by the policy's strand rule), by public id. Events no readable finding cites are absent."""
    strands = policy.finding_strands(actor)
    if strands is False:
        return {}
    cited: dict[int, list[dict[str, Any]]] = {}
    for row in db.query(
            """SELECT finding_events.event_id, findings.public_id, findings.finding_type, findings.qa_status,
                      findings.inspector_id, strands.code AS strand
               FROM chronology_events
               JOIN finding_events ON finding_events.event_id = chronology_events.id
               JOIN findings ON findings.id = finding_events.finding_id
               JOIN strands ON strands.id = findings.strand_id
               WHERE chronology_events.case_id = ?
               ORDER BY findings.public_id""", [case_id]):
        if policy.may_read_finding(actor, row):
            cited.setdefault(row["event_id"], []).append(row)
    return cited
