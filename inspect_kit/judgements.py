"""Judgements: the lead's proposal per criterion, its cited evidence, and the moderator's grade.

A judgement belongs to one criterion of the review's framework, partnership-wide
or for one agency. The lead proposes it: a grade from the review's scale
(graded frameworks) or a strengths / areas-for-improvement statement
(ungraded), a narrative, and citations of the findings it rests on, each with
an optional quote that must be taken word for word from the finding's text.
The moderator records a moderated grade with a reason beside the proposal,
never over it. Every change makes a new version (``judgement_versions``, as
``finding_versions`` for findings) and an audit row; once the review reaches
the factual accuracy check, judgements are locked.

Who may do what with judgements is asked of the access policy
(:mod:`inspect_kit.policy`) through :func:`may_read`, :func:`may_propose`,
:func:`may_moderate` and :func:`may_build_report`: views, the API, the report
and the CLI ask these functions.

::

    (none) --propose--> v1 --revise--> v2 … --moderate--> vN (moderated grade + reason)
                 ^ lead only              ^ moderator only; lead may revise after, the
                                            moderation stays until the moderator changes it
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from . import audit, fields, policy, validation, vocab
from .actors import Actor
from .errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationError
from .store import now, write_transaction

# Once the review reaches one of these, judgements are locked: the statuses run setup,
# fieldwork, drafting, qa, factual_accuracy, published, closed, and the area's factual
# accuracy check is of a finished draft, so a grade must not move under it.
LOCKED_STATUSES = ("factual_accuracy", "published", "closed")
_FIELDS = fields.by_name(fields.JUDGEMENT)
NARRATIVE_LIMIT = _FIELDS["narrative"].max_length
STATEMENT_LIMIT = _FIELDS["strengths"].max_length
QUOTE_LIMIT = 1_000
REASON_LIMIT = _FIELDS["reason"].max_length
MAX_CITATIONS = 200
NEGATIVE_TYPES = ("area_for_improvement", "serious_weakness")
SNAPSHOT_FIELDS = ("proposed_grade", "moderated_grade", "narrative", "strengths", "areas_for_improvement",
                   "moderation_reason")


# ----------------------------------------------------------------- who may do what (the one place)


def may_read(actor: Actor | None) -> bool:
    """Leads and moderators read judgements; inspectors and administrators see nothing of them."""
    return policy.may(actor, policy.READ_JUDGEMENTS)


def may_propose(actor: Actor | None) -> bool:
    """Only the lead inspector proposes, revises and cites."""
    return policy.may(actor, policy.PROPOSE_JUDGEMENTS)


def may_moderate(actor: Actor | None) -> bool:
    """Only a moderator records the moderated grade."""
    return policy.may(actor, policy.MODERATE_JUDGEMENTS)


def may_build_report(actor: Actor | None) -> bool:
    """The lead builds the draft report; so may the command line acting as the system (no ``--as``),
    which holds every permission. Moderators read judgements in the workspace."""
    return may_propose(actor)


def require_read(actor: Actor | None) -> None:
    """:raises Forbidden: the actor may not see judgements."""
    if not may_read(actor):
        raise Forbidden("Judgements are for the lead inspector and moderators.")


def require_propose(actor: Actor | None) -> None:
    """:raises Forbidden: the actor is not the lead."""
    if not may_propose(actor):
        raise Forbidden("Only the lead inspector proposes judgements and cites evidence.")


def require_moderate(actor: Actor | None) -> None:
    """:raises Forbidden: the actor is not a moderator."""
    if not may_moderate(actor):
        raise Forbidden("Only a moderator sets the moderated grade.")


# ----------------------------------------------------------------- question 9's rule, in one place


@dataclass(frozen=True)
class EvidenceMix:
    """Counts of a set of findings by type (context findings count only in ``findings``)."""

    findings: int = 0
    strengths: int = 0
    negatives: int = 0
    serious_weaknesses: int = 0

    @classmethod
    def of(cls, finding_types: Iterable[str]) -> EvidenceMix:
        types = list(finding_types)
        return cls(findings=len(types), strengths=types.count("strength"),
                   negatives=sum(t in NEGATIVE_TYPES for t in types),
                   serious_weaknesses=types.count("serious_weakness"))


def grade_disagreement(grade: int | None, mix: EvidenceMix) -> str | None:
    """Why ``grade`` does not fit ``mix`` (question 9's rule), or None when it fits or there is no grade.

    Good or better (3–4) on mostly negative evidence, or with serious
    weaknesses in a tenth or more of it; adequate or worse (1–2) with more than
    twice as many strengths as negatives; any grade with no evidence at all.
    :func:`grade_disagreement_sql` is the same rule in SQL.
    """
    if grade is None:
        return None
    if mix.findings == 0:
        return "graded with no linked evidence"
    if grade >= 3 and mix.negatives > mix.strengths:
        return "good or better on mostly negative evidence"
    if grade >= 3 and 10 * mix.serious_weaknesses >= mix.findings:
        return "good or better despite serious weaknesses"
    if grade <= 2 and mix.strengths > 2 * mix.negatives:
        return "adequate or worse on mostly positive evidence"
    return None


def grade_disagreement_sql(grade: str, findings: str, strengths: str, negatives: str, serious: str) -> str:
    """:func:`grade_disagreement` as a SQL ``CASE`` over the named columns (NULL when the grade fits)."""
    return (f"CASE WHEN {grade} IS NULL THEN NULL"
            f" WHEN {findings} = 0 THEN 'graded with no linked evidence'"
            f" WHEN {grade} >= 3 AND {negatives} > {strengths} THEN 'good or better on mostly negative evidence'"
            f" WHEN {grade} >= 3 AND 10 * {serious} >= {findings} THEN 'good or better despite serious weaknesses'"
            f" WHEN {grade} <= 2 AND {strengths} > 2 * {negatives} THEN 'adequate or worse on mostly positive evidence'"
            " END")


# ----------------------------------------------------------------- reading


def scope_of(agency_id: int | None) -> str:
    """The scope of the judgement asked about: an agency's when an agency is named, else the partnership's."""
    return "agency" if agency_id is not None else "partnership"


def criterion(db: Database, review_id: int, criterion_code: str) -> dict[str, Any]:
    """A criterion of the review with its area. :raises NotFound:"""
    rows = list(db.query(
        "SELECT criteria.*, judgement_areas.code AS area_code, judgement_areas.title AS area_title"
        " FROM criteria JOIN judgement_areas ON judgement_areas.id = criteria.area_id"
        " WHERE criteria.review_id = ? AND criteria.code = ?", [review_id, criterion_code]))
    if not rows:
        raise NotFound(f"{criterion_code!r} is not a criterion of this review's framework.")
    return rows[0]


def scale(db: Database, review_id: int) -> dict[int, str]:
    """The review's grades, best first (empty for an ungraded framework)."""
    return {grade: label for grade, label in db.execute(
        "SELECT grade, label FROM grades WHERE review_id = ? ORDER BY grade DESC", [review_id])}


def find_judgement(db: Database, review_id: int, criterion_code: str, scope: str = "partnership",
                   agency_id: int | None = None) -> dict[str, Any] | None:
    """The judgement for a criterion and scope, with its ``citations``, or None when none is proposed yet."""
    found = criterion(db, review_id, criterion_code)
    rows = list(db.query(JUDGEMENT_SELECT + " WHERE judgements.criterion_id = ? AND judgements.scope = ?"
                         " AND judgements.agency_id IS ?", [found["id"], scope, agency_id if scope == "agency" else None]))
    return _with_citations(db, rows[0]) if rows else None


def get_judgement(db: Database, judgement_id: int, actor: Actor | None = None) -> dict[str, Any]:
    """A judgement by id with its criterion, agency and ``citations``.

    :raises NotFound: no such judgement. :raises Forbidden: with an actor who may not read judgements.
    """
    if actor is not None:
        require_read(actor)
    rows = list(db.query(JUDGEMENT_SELECT + " WHERE judgements.id = ?", [judgement_id]))
    if not rows:
        raise NotFound(f"No judgement {judgement_id}.")
    return _with_citations(db, rows[0])


JUDGEMENT_SELECT = """
SELECT judgements.*, criteria.code AS criterion_code, criteria.title AS criterion_title,
       judgement_areas.code AS area_code, agencies.name AS agency
FROM judgements
JOIN criteria ON criteria.id = judgements.criterion_id
JOIN judgement_areas ON judgement_areas.id = criteria.area_id
LEFT JOIN agencies ON agencies.id = judgements.agency_id
"""


def list_judgements(db: Database, actor: Actor | None, review_id: int) -> list[dict[str, Any]]:
    """Every judgement of the review in framework order, each with ``citations``.

    :raises Forbidden: with an actor who may not read judgements (None: the library's own callers).
    """
    if actor is not None:
        require_read(actor)
    rows = list(db.query(JUDGEMENT_SELECT + " WHERE judgements.review_id = ?"
                         " ORDER BY criteria.position, judgements.scope DESC, agencies.name", [review_id]))
    return [_with_citations(db, row) for row in rows]


def _with_citations(db: Database, judgement: dict[str, Any]) -> dict[str, Any]:
    judgement["citations"] = citations(db, judgement["id"])
    return judgement


def citations(db: Database, judgement_id: int) -> list[dict[str, Any]]:
    """A judgement's citations in order, each with the cited finding's current state and text."""
    return list(db.query(
        """SELECT judgement_citations.*, findings.public_id, findings.qa_status, findings.version AS current_version,
                  findings.finding_type, findings.collected_on, findings.evidence_text, findings.evaluation_text,
                  strands.code AS strand, agencies.name AS agency, cases.case_ref
           FROM judgement_citations
           JOIN findings ON findings.id = judgement_citations.finding_id
           JOIN strands ON strands.id = findings.strand_id
           LEFT JOIN agencies ON agencies.id = findings.agency_id
           LEFT JOIN cases ON cases.id = findings.case_id
           WHERE judgement_citations.judgement_id = ? ORDER BY judgement_citations.position""", [judgement_id]))


def evidence_for(db: Database, review_id: int, criterion_code: str, *, agency_id: int | None = None,
                 accepted_only: bool = True, strand: str | None = None, finding_type: str | None = None,
                 search: str | None = None) -> list[dict[str, Any]]:
    """The findings linked to a criterion (for one agency when given), newest first, with full text.

    Accepted findings only unless ``accepted_only`` is false (then every
    status but withdrawn). Filters: strand code, finding type, words in the text.
    """
    found = criterion(db, review_id, criterion_code)
    where = ["finding_criteria.criterion_id = ?", "findings.review_id = ?"]
    params: list[Any] = [found["id"], review_id]
    where.append("findings.qa_status = 'accepted'" if accepted_only else "findings.qa_status != 'withdrawn'")
    if agency_id is not None:
        where.append("findings.agency_id = ?")
        params.append(agency_id)
    if strand:
        where.append("strands.code = ?")
        params.append(strand)
    if finding_type:
        where.append("findings.finding_type = ?")
        params.append(finding_type)
    if search:
        where.append("(instr(lower(findings.evidence_text), ?) OR instr(lower(coalesce(findings.evaluation_text, '')), ?))")
        params += [search.lower(), search.lower()]
    return list(db.query(
        f"""SELECT findings.id, findings.public_id, findings.finding_type, findings.qa_status, findings.version,
                   findings.activity, findings.collected_on, findings.evidence_text, findings.evaluation_text,
                   findings.impact_on_child, finding_criteria.relevance, strands.code AS strand,
                   inspectors.code AS inspector, agencies.name AS agency, findings.agency_id, cases.case_ref
            FROM finding_criteria
            JOIN findings ON findings.id = finding_criteria.finding_id
            JOIN strands ON strands.id = findings.strand_id
            JOIN inspectors ON inspectors.id = findings.inspector_id
            LEFT JOIN agencies ON agencies.id = findings.agency_id
            LEFT JOIN cases ON cases.id = findings.case_id
            WHERE {' AND '.join(where)}
            ORDER BY findings.finding_type = 'context', findings.collected_on DESC, findings.id DESC""", params))


def evidence_counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts of an evidence list by type, by strand × type and by agency × type."""
    by_type = {code: 0 for code in vocab.FINDING_TYPES}
    by_strand: dict[str, dict[str, int]] = {}
    by_agency: dict[str, dict[str, int]] = {}
    for row in rows:
        by_type[row["finding_type"]] = by_type.get(row["finding_type"], 0) + 1
        for key, table in ((row["strand"], by_strand), (row.get("agency") or "Partnership-wide", by_agency)):
            cell = table.setdefault(key, {code: 0 for code in vocab.FINDING_TYPES})
            cell[row["finding_type"]] += 1
    return {"total": len(rows), "by_type": by_type, "by_strand": by_strand, "by_agency": by_agency}


def coverage(db: Database, review_id: int, criterion_code: str) -> list[dict[str, Any]]:
    """Question 6's cells for one criterion: per strand, findings, inspectors and ``cell``
    (empty, single source, corroborated), from the ``criterion_strand_coverage`` view."""
    slug = db.execute("SELECT slug FROM reviews WHERE id = ?", [review_id]).fetchone()
    return list(db.query("SELECT strand, findings, inspectors, agencies, cell FROM criterion_strand_coverage"
                         " WHERE review = ? AND criterion = ?", [slug[0] if slug else "", criterion_code]))


# ----------------------------------------------------------------- warnings


def warnings(db: Database, review_id: int, criterion_code: str, judgement: Mapping[str, Any] | None,
             *, agency_id: int | None = None) -> list[dict[str, str]]:
    """What the lead should look at before relying on a judgement: a list of ``{"kind", "message"}``.

    - ``grade``: the grade (moderated, else proposed) disagrees with the mix of
      the cited evidence, or of all the evidence linked to the criterion (and
      agency) that is not withdrawn (question 9's rule);
    - ``citation``: a cited finding is not accepted, or was edited after it was cited;
    - ``coverage``: the criterion has no evidence, or all of it comes from one
      inspector; a strand's cell is empty or single-source (question 6's rule).
    """
    found: list[dict[str, str]] = []
    if judgement is not None:
        grade = judgement.get("moderated_grade") if judgement.get("moderated_grade") is not None \
            else judgement.get("proposed_grade")
        cited = judgement.get("citations") or []
        if cited:
            reason = grade_disagreement(grade, EvidenceMix.of(c["finding_type"] for c in cited))
            if reason:
                mix = EvidenceMix.of(c["finding_type"] for c in cited)
                found.append({"kind": "grade", "message": (
                    f"The grade {grade} disagrees with the cited evidence: {reason} ({mix.strengths} strengths, "
                    f"{mix.negatives} areas for improvement or serious weaknesses of {mix.findings} cited).")})
        linked = evidence_for(db, review_id, criterion_code, agency_id=agency_id, accepted_only=False)
        mix = EvidenceMix.of(row["finding_type"] for row in linked)
        reason = grade_disagreement(grade, mix)
        if reason:
            found.append({"kind": "grade", "message": (
                f"The grade {grade} disagrees with the evidence linked to the criterion: {reason} "
                f"({mix.strengths} strengths, {mix.negatives} areas for improvement or serious weaknesses "
                f"of {mix.findings}).")})
        for citation in cited:
            if citation["qa_status"] != "accepted":
                found.append({"kind": "citation", "message": (
                    f"{citation['public_id']} is cited but is {vocab.QA_STATUSES.get(citation['qa_status'])} "
                    "in QA, not accepted: the draft report leaves it out.")})
            elif citation["current_version"] != citation["finding_version"]:
                found.append({"kind": "citation", "message": (
                    f"{citation['public_id']} was edited after it was cited (cited version "
                    f"{citation['finding_version']}, now version {citation['current_version']}): re-read it "
                    "and save the judgement again to cite the current version.")})
            if citation.get("quote") and not _quote_found(citation["quote"], citation):
                found.append({"kind": "citation", "message": (
                    f"The quote from {citation['public_id']} is no longer in its text.")})
    cells = coverage(db, review_id, criterion_code)
    total = sum(cell["findings"] for cell in cells)
    sources = db.execute(
        "SELECT count(DISTINCT findings.inspector_id) FROM finding_criteria JOIN findings"
        " ON findings.id = finding_criteria.finding_id JOIN criteria ON criteria.id = finding_criteria.criterion_id"
        " WHERE criteria.review_id = ? AND criteria.code = ? AND findings.qa_status != 'withdrawn'",
        [review_id, criterion_code]).fetchone()[0]
    if total == 0:
        found.append({"kind": "coverage", "message": "No evidence is linked to this criterion yet."})
    elif sources == 1:
        found.append({"kind": "coverage", "message": "All the evidence for this criterion comes from one "
                                                     "inspector (single source): corroborate it before judging."})
    empty = [cell["strand"] for cell in cells if cell["cell"] == "empty"]
    single = [cell["strand"] for cell in cells if cell["cell"] == "single source"]
    if total and empty:
        found.append({"kind": "coverage", "message": f"No evidence from: {', '.join(empty)}."})
    if total and single and sources > 1:
        found.append({"kind": "coverage", "message": f"Single-source evidence from: {', '.join(single)}."})
    return found


def _quote_found(quote: str, finding: Mapping[str, Any]) -> bool:
    return quote in (finding.get("evidence_text") or "") or quote in (finding.get("evaluation_text") or "")


def disagreements(db: Database, actor: Actor | None, review_id: int) -> list[dict[str, Any]]:
    """Judgements whose moderated grade differs from the proposed one, for the lead, in framework order."""
    return [j for j in list_judgements(db, actor, review_id)
            if j["moderated_grade"] is not None and j["moderated_grade"] != j["proposed_grade"]]


def history(db: Database, judgement_id: int, actor: Actor | None = None) -> list[dict[str, Any]]:
    """Every version of a judgement, oldest first, each with its parsed ``snapshot``.

    :raises NotFound, Forbidden: as :func:`get_judgement`.
    """
    get_judgement(db, judgement_id, actor)
    versions = list(db.query("SELECT * FROM judgement_versions WHERE judgement_id = ? ORDER BY version",
                             [judgement_id]))
    for version in versions:
        version["snapshot"] = json.loads(version["snapshot"])
    return versions


# ----------------------------------------------------------------- writing


def is_locked(db: Database, review_id: int) -> bool:
    """True once the review has reached the factual accuracy check (or later)."""
    row = db.execute("SELECT status FROM reviews WHERE id = ?", [review_id]).fetchone()
    return row is not None and row[0] in LOCKED_STATUSES


def _require_open(db: Database, review_id: int) -> None:
    if is_locked(db, review_id):
        raise InvalidTransition("The review has reached the factual accuracy check: judgements are locked and "
                                "can no longer be changed.")


def record_judgement(db: Database, actor: Actor, *, review_id: int, criterion_code: str, scope: str = "partnership",
                     narrative: str, agency_id: int | None = None, proposed_grade: int | None = None,
                     strengths: str | None = None, areas_for_improvement: str | None = None,
                     citations: Sequence[Mapping[str, Any]] | None = None, expected_version: int | None = None,
                     reason: str | None = None) -> dict[str, Any]:
    """Propose, or revise, the lead's judgement for a criterion (partnership-wide, or for one agency).

    Grades must come from the review's scale; an ungraded framework takes none
    and its statements instead. ``citations`` is the whole list of cited
    findings in order, each ``{"finding": public id or row id, "quote": text or
    None}``; None leaves the stored citations as they are. A quote must be
    found word for word in the finding's evidence or evaluation text. Each
    citation records the finding's version at the time. The moderator's
    grade and reason are never touched. A save that changes nothing makes no
    new version.

    :raises Forbidden: the actor is not the lead.
    :raises InvalidTransition: judgements are locked (factual accuracy check).
    :raises Conflict: ``expected_version`` is stale (someone saved in between).
    :raises ValidationError: with ``field_errors`` naming every fault.
    """
    require_propose(actor)
    _require_open(db, review_id)
    errors: dict[str, str] = {}
    typed = {"scope": scope, "agency_id": agency_id, "narrative": narrative, "strengths": strengths,
             "areas_for_improvement": areas_for_improvement, "reason": reason}
    scope = fields.read(_FIELDS["scope"], typed, errors)
    agency_id = validation.review_row_id(db, "agencies", typed, "agency_id", review_id, errors, label="agency",
                                         required=scope == "agency")
    narrative, strengths, areas_for_improvement, reason = (
        fields.read(_FIELDS[name], typed, errors) for name in ("narrative", "strengths", "areas_for_improvement",
                                                               "reason"))
    grades = scale(db, review_id)
    proposed_grade = _grade(proposed_grade, grades, "proposed_grade", errors)
    if grades and proposed_grade is None and "proposed_grade" not in errors:
        errors["proposed_grade"] = "Choose a grade: " + ", ".join(f"{g} {label}" for g, label in grades.items())
    if not grades and not (strengths or areas_for_improvement) and "strengths" not in errors:
        errors["strengths"] = "This framework is not graded: write the strengths, the areas for improvement, or both"
    try:
        found = criterion(db, review_id, criterion_code)
    except NotFound as error:
        errors["criterion_code"] = error.message
        found = None
    cited = _checked_citations(db, review_id, citations, errors) if citations is not None else None
    if errors:
        raise ValidationError("There is a problem: " + "; ".join(errors.values()), field_errors=errors)
    assert found is not None
    agency_id = agency_id if scope == "agency" else None
    with write_transaction(db):
        _require_open(db, review_id)
        rows = list(db.query("SELECT * FROM judgements WHERE criterion_id = ? AND scope = ? AND agency_id IS ?",
                             [found["id"], scope, agency_id]))
        existing = _with_citations(db, rows[0]) if rows else None
        if existing and expected_version is not None and int(expected_version) != existing["version"]:
            raise Conflict(f"This judgement changed since you opened it (now version {existing['version']}); "
                           "your text is kept below: compare it with the current version before saving again.")
        stamp = now()
        values = {"proposed_grade": proposed_grade, "narrative": narrative, "strengths": strengths,
                  "areas_for_improvement": areas_for_improvement}
        if existing:
            unchanged = all(existing[k] == v for k, v in values.items()) and (
                cited is None or _citation_keys(existing["citations"]) == _citation_keys(cited))
            if unchanged:
                return existing
            version = existing["version"] + 1
            db.execute("UPDATE judgements SET proposed_grade = ?, narrative = ?, strengths = ?,"
                       " areas_for_improvement = ?, proposed_by = ?, updated_at = ?, version = ? WHERE id = ?",
                       [proposed_grade, narrative, strengths, areas_for_improvement, actor.username, stamp, version,
                        existing["id"]])
            judgement_id = existing["id"]
        else:
            version = 1
            judgement_id = db.execute(
                "INSERT INTO judgements (review_id, criterion_id, scope, agency_id, proposed_grade, narrative,"
                " strengths, areas_for_improvement, proposed_by, updated_at, version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                [review_id, found["id"], scope, agency_id, proposed_grade, narrative, strengths,
                 areas_for_improvement, actor.username, stamp]).lastrowid
        if cited is not None:
            _write_citations(db, actor, judgement_id, cited, existing["citations"] if existing else [], stamp)
        after = current_snapshot(db, judgement_id)
        _write_version(db, judgement_id, version, "revise" if existing else "propose", after, actor, reason, stamp)
        audit.record(db, actor, "judgement.revise" if existing else "judgement.propose", table="judgements",
                     row_id=judgement_id, before=_snapshot_of(existing) if existing else None, after=after,
                     detail=reason)
        return get_judgement(db, judgement_id)


def moderate_judgement(db: Database, actor: Actor, *, review_id: int, criterion_code: str,
                       scope: str = "partnership", moderated_grade: int | None, note: str,
                       agency_id: int | None = None) -> dict[str, Any]:
    """Record the moderator's grade and reason beside the lead's proposal (never over it).

    On an ungraded framework ``moderated_grade`` is None and ``note`` is the
    moderator's view of the statements.

    :raises Forbidden: the actor is not a moderator.
    :raises NotFound: no judgement has been proposed for this criterion and scope.
    :raises InvalidTransition: judgements are locked.
    :raises ValidationError: the grade is not on the review's scale, or no reason.
    """
    require_moderate(actor)
    _require_open(db, review_id)
    errors: dict[str, str] = {}
    note = validation.text({"note": note}, "note", errors, label="reason for the moderated grade", required=True,
                           limit=REASON_LIMIT)
    grades = scale(db, review_id)
    moderated_grade = _grade(moderated_grade, grades, "moderated_grade", errors)
    if grades and moderated_grade is None and "moderated_grade" not in errors:
        errors["moderated_grade"] = "Choose the moderated grade"
    if errors:
        raise ValidationError("There is a problem: " + "; ".join(errors.values()), field_errors=errors)
    with write_transaction(db):
        _require_open(db, review_id)
        existing = find_judgement(db, review_id, criterion_code, scope, agency_id)
        if existing is None:
            raise NotFound(f"No judgement has been proposed for {criterion_code} ({scope}) yet; "
                           "the lead proposes first.")
        if existing["moderated_grade"] == moderated_grade and existing["moderation_reason"] == note:
            return existing  # the same press twice
        stamp = now()
        version = existing["version"] + 1
        db.execute("UPDATE judgements SET moderated_grade = ?, moderation_reason = ?, moderated_by = ?,"
                   " moderated_at = ?, updated_at = ?, version = ? WHERE id = ?",
                   [moderated_grade, note, actor.username, stamp, stamp, version, existing["id"]])
        after = current_snapshot(db, existing["id"])
        _write_version(db, existing["id"], version, "moderate", after, actor, note, stamp)
        audit.record(db, actor, "judgement.moderate", table="judgements", row_id=existing["id"],
                     before={"moderated_grade": existing["moderated_grade"],
                             "moderation_reason": existing["moderation_reason"]},
                     after={"moderated_grade": moderated_grade, "moderation_reason": note}, detail=note)
        return get_judgement(db, existing["id"])


def _grade(value: Any, grades: dict[int, str], name: str, errors: dict[str, str]) -> int | None:
    if value in (None, ""):
        return None
    try:
        grade = int(value)
        if isinstance(value, bool) or str(grade) != str(value).strip():
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        errors[name] = "Choose a grade from the list"
        return None
    if not grades:
        errors[name] = "This framework is not graded: record strengths and areas for improvement instead"
        return None
    if grade not in grades:
        errors[name] = "Choose a grade from " + ", ".join(f"{g} {label}" for g, label in grades.items())
        return None
    return grade


def _checked_citations(db: Database, review_id: int, raw: Sequence[Mapping[str, Any]] | Any,
                       errors: dict[str, str]) -> list[dict[str, Any]]:
    if not isinstance(raw, (list, tuple)):
        errors["citations"] = "Citations must be a list of findings"
        return []
    if len(raw) > MAX_CITATIONS:
        errors["citations"] = f"Cite at most {MAX_CITATIONS} findings"
        return []
    checked: list[dict[str, Any]] = []
    seen: set[int] = set()
    for entry in raw:
        reference = entry.get("finding") if isinstance(entry, Mapping) else entry
        if not isinstance(reference, (str, int)) or isinstance(reference, bool) or str(reference).strip() == "":
            errors["citations"] = "Each citation names a finding by its public id"
            continue
        reference = str(reference).strip()
        if validation.LONE_SURROGATES.search(reference):
            errors["citations"] = "Each citation names a finding by its public id"
            continue
        column = "id" if reference.isdigit() else "public_id"
        rows = list(db.query(f"SELECT id, public_id, version, qa_status, evidence_text, evaluation_text"
                             f" FROM findings WHERE {column} = ? AND review_id = ?", [reference, review_id]))
        if not rows:
            errors["citations"] = f"There is no finding {reference} in this review"
            continue
        finding = rows[0]
        if finding["qa_status"] == "withdrawn":
            errors[f"quote-{finding['public_id']}"] = f"{finding['public_id']} was withdrawn: it cannot be cited"
            errors.setdefault("citations", f"{finding['public_id']} was withdrawn: it cannot be cited")
            continue
        if finding["id"] in seen:
            continue
        seen.add(finding["id"])
        quote_fields = {"quote": entry.get("quote") if isinstance(entry, Mapping) else None}
        quote_errors: dict[str, str] = {}
        quote = validation.text(quote_fields, "quote", quote_errors, label=f"quote from {finding['public_id']}",
                                limit=QUOTE_LIMIT)
        if quote is not None and not _quote_found(quote, finding):
            quote_errors["quote"] = (f"The quote is not in the text of {finding['public_id']}: copy it word for word "
                                     "from the evidence or evaluation")
        if quote_errors:
            errors[f"quote-{finding['public_id']}"] = quote_errors["quote"]
            errors.setdefault("citations", f"{finding['public_id']}: {quote_errors['quote']}")
            continue
        checked.append({"finding_id": finding["id"], "public_id": finding["public_id"],
                        "finding_version": finding["version"], "quote": quote})
    return checked


def _citation_keys(rows: Iterable[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    return [(row["finding_id"], row["finding_version"], row.get("quote")) for row in rows]


def _write_citations(db: Database, actor: Actor, judgement_id: int, cited: list[dict[str, Any]],
                     previous: list[dict[str, Any]], stamp: str) -> None:
    kept = {row["finding_id"]: row for row in previous}
    db.execute("DELETE FROM judgement_citations WHERE judgement_id = ?", [judgement_id])
    for position, citation in enumerate(cited, 1):
        old = kept.get(citation["finding_id"])
        same = old is not None and (old["finding_version"], old["quote"]) == (citation["finding_version"],
                                                                              citation["quote"])
        db.execute("INSERT INTO judgement_citations (judgement_id, finding_id, finding_version, quote, position,"
                   " cited_by, cited_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [judgement_id, citation["finding_id"], citation["finding_version"], citation["quote"], position,
                    old["cited_by"] if same else actor.username, old["cited_at"] if same else stamp])


def current_snapshot(db: Database, judgement_id: int) -> dict[str, Any]:
    """What a new version of the judgement would record now (its fields and citations)."""
    row = next(db.query("SELECT * FROM judgements WHERE id = ?", [judgement_id]))
    return _snapshot_of(_with_citations(db, row))


def _snapshot_of(judgement: Mapping[str, Any]) -> dict[str, Any]:
    snapshot = {key: judgement.get(key) for key in SNAPSHOT_FIELDS}
    snapshot["citations"] = [{"finding": c["public_id"], "finding_version": c["finding_version"], "quote": c["quote"]}
                             for c in judgement.get("citations") or []]
    return snapshot


def _write_version(db: Database, judgement_id: int, version: int, action: str, snapshot: dict[str, Any],
                   actor: Actor, reason: str | None, stamp: str) -> None:
    db.execute("INSERT INTO judgement_versions (judgement_id, version, action, snapshot, changed_by, changed_at,"
               " reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
               [judgement_id, version, action, json.dumps(snapshot, sort_keys=True), actor.username, stamp, reason])
