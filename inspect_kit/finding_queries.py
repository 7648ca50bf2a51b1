"""Reading findings: one finding with its labels and criteria, the findings a
reader may see, and a finding's history. Every read asks the access policy.

Apart from :mod:`inspect_kit.findings` (which records and edits them) so that
:mod:`inspect_kit.qa`, which moves findings through QA, can read one without
importing the module that calls it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from sqlite_utils import Database

from . import policy
from .actors import Actor
from .errors import Forbidden, NotFound
from .fields import FINDING
from .references import References

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


# Findings with the labels every list shows; the WHERE clauses below name these tables.
LIST_SELECT = """
    SELECT findings.id, findings.public_id, findings.qa_status, findings.finding_type, findings.activity,
           findings.collected_on, findings.version, findings.updated_at, findings.submitted_at,
           findings.evidence_text, strands.code AS strand, inspectors.code AS inspector,
           agencies.name AS agency, cases.case_ref AS case_ref,
           CAST(julianday('now') - julianday(findings.submitted_at) AS INTEGER) AS age_days"""
LIST_FROM = """
    FROM findings
    JOIN strands ON strands.id = findings.strand_id
    JOIN inspectors ON inspectors.id = findings.inspector_id
    LEFT JOIN agencies ON agencies.id = findings.agency_id
    LEFT JOIN cases ON cases.id = findings.case_id"""
NEWEST_FIRST = "findings.updated_at DESC, findings.id DESC"
# A search of more words than this reads only the first ones (a query of thousands of
# phrases is slow and never what a person typed); the page says so.
SEARCH_WORDS = 20
# Longer search text is not looked up as a case ref (references are short; the look-up reads
# every case of the review).
CASE_REF_LENGTH = 20
# The facets a list counts, each with the SQL expression it groups by.
FACETS = {"strand": "strands.code", "inspector": "inspectors.code", "case_ref": "cases.case_ref"}


@dataclass(frozen=True)
class FindingFilters:
    """What a reader narrows a list of findings to; an empty field filters nothing.

    References are as a person types them (``c-017`` is ``C-017``: the rule of
    :mod:`inspect_kit.references`); one that names nothing in the review
    matches no finding. Dates are ``YYYY-MM-DD`` and already checked.
    """

    text: str = ""
    case_ref: str = ""
    strand: str = ""
    inspector: str = ""
    criterion: str = ""
    finding_type: str = ""
    qa_status: str = ""
    collected_from: str = ""
    collected_to: str = ""
    mine: bool = False

    def without(self, name: str) -> FindingFilters:
        """The same filters with ``name`` cleared (a facet counts its options without itself)."""
        return replace(self, **{name: type(getattr(self, name))()})


def search_words(text: str) -> list[str]:
    """The words of a plain-text search that are searched (at most :data:`SEARCH_WORDS`)."""
    return text.replace("\0", " ").split()[:SEARCH_WORDS]


def fts_query(text: str) -> str | None:
    """Plain words as an FTS5 query that finds findings holding every word; None for no words.

    Each word becomes a quoted FTS5 phrase (a double quote in it doubled), so
    nothing a person types is FTS5 syntax: ``child's``, ``non-accidental``,
    ``A&E``, ``C-017``, ``NEAR`` or a lone ``"`` are words. Inside a phrase
    the table's tokenizer splits the word as it split the stored text
    (``C-017`` is the phrase ``c 017``). NUL would end the query string early
    ("unterminated string"), so it reads as a space.
    """
    phrases = ['"' + word.replace('"', '""') + '"' for word in search_words(text)]
    return " ".join(phrases) or None


def _conditions(db: Database, review_id: int, filters: FindingFilters, strands: str | bool,
                inspector_id: int | None) -> tuple[list[str], list[Any]]:
    """The WHERE clauses (over :data:`LIST_FROM`) and parameters for ``filters``.

    ``strands`` is :func:`policy.finding_strands`'s answer for the reader;
    ``inspector_id`` the reader's own (an author reads their own findings).
    """
    where: list[str] = ["findings.review_id = ?"]
    params: list[Any] = [review_id]
    if strands is not True:
        where.append("(strands.code = ? OR findings.inspector_id IS ?)")
        params += [strands, inspector_id if inspector_id is not None else -1]
    refs = References(db, review_id)
    for typed, table, column in ((filters.case_ref, "cases", "findings.case_id"),
                                 (filters.inspector, "inspectors", "findings.inspector_id")):
        if typed.strip():
            where.append(f"{column} = ?")
            params.append(refs.row_id(table, typed))  # None matches nothing
    if filters.criterion.strip():
        found = refs.find("criteria", filters.criterion)
        where.append("findings.id IN (SELECT finding_id FROM finding_criteria WHERE criterion_id = ?)")
        params.append(found[0] if found else None)
    for value, condition in ((filters.strand, "strands.code = ?"),
                             (filters.finding_type, "findings.finding_type = ?"),
                             (filters.qa_status, "findings.qa_status = ?"),
                             (filters.collected_from, "findings.collected_on >= ?"),
                             (filters.collected_to, "findings.collected_on <= ?")):
        if value:
            where.append(condition)
            params.append(value)
    if filters.mine:
        where.append("findings.inspector_id IS ?")
        params.append(inspector_id if inspector_id is not None else -1)
    query = fts_query(filters.text)
    if query is not None:
        # A case ref or record id typed whole also finds the findings filed under it.
        where.append("(findings.id IN (SELECT rowid FROM findings_fts WHERE findings_fts MATCH ?)"
                     " OR findings.case_id = ?)")
        params += [query, refs.row_id("cases", filters.text) if len(filters.text) <= CASE_REF_LENGTH else None]
    return where, params


def reader_scope(db: Database, actor: Actor, review_id: int,
                 filters: FindingFilters) -> tuple[str, list[Any]] | None:
    """``FROM … WHERE …`` (over :data:`LIST_FROM`'s tables) and its parameters for the findings
    ``actor`` may read (:func:`policy.finding_strands`) that match ``filters``; None: they read none."""
    strands = policy.finding_strands(actor)
    if strands is False:
        return None
    where, params = _conditions(db, review_id, filters, strands, actor.inspector_id)
    return f"{LIST_FROM} WHERE {' AND '.join(where)}", params


def list_findings(db: Database, actor: Actor, review_id: int, *, qa_status: str | None = None,
                  mine: bool = False, limit: int = 200, offset: int = 0,
                  filters: FindingFilters | None = None, order: str = NEWEST_FIRST) -> list[dict[str, Any]]:
    """A page of the findings the actor may see that match ``filters``, newest first
    (or in ``order``, an ORDER BY of the caller's own, never typed by a person)."""
    filters = filters or FindingFilters(qa_status=qa_status or "", mine=mine)
    scope = reader_scope(db, actor, review_id, filters)
    if scope is None:
        return []
    sql, params = scope
    return list(db.query(f"{LIST_SELECT} {sql} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset]))


def count_findings(db: Database, actor: Actor, review_id: int, filters: FindingFilters) -> int:
    """How many findings :func:`list_findings` would list with no limit."""
    scope = reader_scope(db, actor, review_id, filters)
    if scope is None:
        return 0
    sql, params = scope
    return db.execute(f"SELECT count(*) {sql}", params).fetchone()[0]


def facet_counts(db: Database, actor: Actor, review_id: int, filters: FindingFilters,
                 facet: str) -> dict[str, int]:
    """For one of :data:`FACETS`: each value's number of findings under the other filters
    (value → count, in the value's order; findings without a case are left out)."""
    scope = reader_scope(db, actor, review_id, filters.without(facet))
    if scope is None:
        return {}
    sql, params = scope
    column = FACETS[facet]
    return {value: count for value, count in db.execute(
        f"SELECT {column}, count(*) {sql} AND {column} IS NOT NULL GROUP BY {column} ORDER BY {column}", params)}


def filter_choices(db: Database, actor: Actor, review_id: int) -> dict[str, list[tuple[str, str]]]:
    """The values a reader may filter findings by, each ``(value, label)``: ``strand`` and
    ``inspector`` only those whose findings the actor may read, ``criterion`` in framework
    order, ``case_ref`` by case ref."""
    strands = policy.finding_strands(actor)
    if strands is False:
        return {"strand": [], "inspector": [], "criterion": [], "case_ref": []}
    visible = "1" if strands is True else "strands.code = :strand"
    return {
        "strand": [(code, name) for code, name in db.execute(
            f"""SELECT DISTINCT strands.code, strands.name FROM inspectors JOIN strands ON strands.id = inspectors.strand_id
                WHERE inspectors.review_id = :review AND {visible} ORDER BY strands.id""",
            {"review": review_id, "strand": strands})],
        "inspector": [(code, f"{code} · {strand}") for code, strand in db.execute(
            f"""SELECT inspectors.code, strands.code FROM inspectors JOIN strands ON strands.id = inspectors.strand_id
                WHERE inspectors.review_id = :review AND {visible} ORDER BY inspectors.code""",
            {"review": review_id, "strand": strands})],
        "criterion": [(code, f"{code} {title}") for code, title in db.execute(
            """SELECT criteria.code, criteria.title FROM criteria JOIN judgement_areas ON judgement_areas.id = criteria.area_id
               WHERE criteria.review_id = ? ORDER BY judgement_areas.position, criteria.position""", [review_id])],
        "case_ref": [(ref, ref) for (ref,) in db.execute(
            "SELECT case_ref FROM cases WHERE review_id = ? ORDER BY case_ref", [review_id])],
    }


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
