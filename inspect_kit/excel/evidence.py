"""The review's evidence workbook, for the lead inspector and the report team.

Sheets: About this export, Summary – criteria (criterion × strand counts),
Summary – agencies (strengths vs areas for improvement), both without
withdrawn findings and each with a native Excel bar chart beside its table
(:mod:`.charts`), Findings (every QA status unless filtered), Chronology,
Safeguarding alerts, Judgements and a Data dictionary. Written streaming
(write-only) from one read transaction, so every sheet's row count can be
checked against the database's count of the same snapshot; every export is
written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .. import audit, fields, manifests, policy, references, vocab
from ..actors import Actor
from ..errors import Forbidden, NotFound, ValidationError
from ..store import now
from .cells import CUT_MARKER, DATE, DATETIME, NUMBER, TEXT, CellStats
from .charts import add_bar_chart
from .sheets import Column, SheetResult, discarded_on_failure, new_workbook, save_workbook, write_about, write_table

Progress = Callable[[int], None]


@dataclass(frozen=True)
class EvidenceFilter:
    """Which evidence goes into the workbook."""

    accepted_only: bool = False
    strand: str | None = None
    case_ref: str | None = None

    def describe(self) -> str:
        parts = ["accepted findings only" if self.accepted_only else "findings of every QA status"]
        parts.append(f"findings of strand {self.strand} (chronology, alerts and judgements are not by strand)"
                     if self.strand else "every strand the exporter may see")
        parts.append(f"case {self.case_ref}" if self.case_ref else "all cases")
        return "; ".join(parts)


@dataclass
class EvidenceExport:
    """The result of :func:`export_evidence_workbook`."""

    path: Path
    sheets: list[SheetResult] = field(default_factory=list)
    stats: CellStats = field(default_factory=CellStats)
    audit_id: int | None = None
    manifest: dict[str, Any] | None = None

    @property
    def counts_ok(self) -> bool:
        return all(sheet.count_checked is not False for sheet in self.sheets)


def registry_column(spec: fields.Field) -> Column:
    """The export column of a registry field: the typed column (``agency``, ``case_ref``), the cell
    kind of its values and the reader's description (:func:`inspect_kit.fields.reader_note`)."""
    kind = {fields.DATE: DATE, fields.FLAG: NUMBER, fields.INTEGER: NUMBER}.get(spec.kind, TEXT)
    return Column(spec.typed_column, kind, fields.reader_note(spec))


_FINDING = {name: registry_column(spec) for name, spec in fields.by_name(fields.FINDING).items()}
_EVENT = {name: registry_column(spec) for name, spec in fields.by_name(fields.CHRONOLOGY_EVENT).items()}
_ALERT = {name: registry_column(spec) for name, spec in fields.by_name(fields.ALERT).items()}
_JUDGEMENT = {name: registry_column(spec) for name, spec in fields.by_name(fields.JUDGEMENT).items()}

FINDING_COLUMNS = [
    Column("public_id", TEXT, "The finding's public id: EF-<inspector>-<number>"),
    Column("strand", TEXT, "The inspectorate strand that recorded it"),
    Column("inspector", TEXT, "The inspector's display code"),
    *(_FINDING[name] for name in ("agency_id", "case_id", "activity", "collected_on", "finding_type",
                                  "impact_on_child")),
    Column("criteria", TEXT, "Framework criterion codes, '; '-separated; '(secondary)' marks a secondary link"),
    _FINDING["evidence_text"], _FINDING["evaluation_text"], _FINDING["event_ids"],
    Column("qa_status", TEXT, "Quality assurance status"),
    Column("version", NUMBER, "The record's version number (1 = never edited)"),
    Column("created_at", DATETIME, "When the record was created (UTC)"),
    Column("updated_at", DATETIME, "When the record last changed (UTC)"),
    Column("submitted_at", DATETIME, "When the record was first submitted for QA (UTC)"),
    Column("client_uuid", TEXT, "The record's submission id (re-importing it never duplicates the record)"),
]

CRITERIA_OF_FINDING = """(
    SELECT group_concat(label, '; ') FROM (
        SELECT criteria.code || CASE WHEN finding_criteria.relevance = 'secondary' THEN ' (secondary)' ELSE '' END
               AS label
        FROM finding_criteria JOIN criteria ON criteria.id = finding_criteria.criterion_id
        WHERE finding_criteria.finding_id = findings.id ORDER BY criteria.position))"""

# A finding's cited events as the capture workbook takes them: event numbers, '; '-separated.
EVENTS_OF_FINDING = """(
    SELECT group_concat(event_id, '; ') FROM (
        SELECT event_id FROM finding_events WHERE finding_events.finding_id = findings.id ORDER BY event_id))"""

FINDINGS_FROM = """
    FROM findings
    JOIN strands ON strands.id = findings.strand_id
    JOIN inspectors ON inspectors.id = findings.inspector_id
    LEFT JOIN agencies ON agencies.id = findings.agency_id
    LEFT JOIN cases ON cases.id = findings.case_id
"""

FINDINGS_SELECT = f"""
    SELECT findings.public_id, strands.code, inspectors.code, agencies.name, cases.case_ref, findings.activity,
           findings.collected_on, findings.finding_type, findings.impact_on_child, {CRITERIA_OF_FINDING},
           findings.evidence_text, findings.evaluation_text, {EVENTS_OF_FINDING}, findings.qa_status, findings.version,
           findings.created_at, findings.updated_at, findings.submitted_at, findings.client_uuid
    {FINDINGS_FROM}"""

CHRONOLOGY_COLUMNS = [
    Column("event", NUMBER, "The event's number: cite it in a finding's events column"),
    *(_EVENT[name] for name in ("case_id", "event_date", "date_precision", "agency_id", "practitioner_role",
                                "event_type", "description", "source_of_information", "key_event",
                                "missed_opportunity", "good_practice")),
    Column("recorded_by", TEXT, "The inspector who recorded it"),
    Column("created_at", DATETIME, "When it was recorded (UTC)"),
    Column("client_uuid", TEXT, "The event's submission id"),
    Column("cited_by", TEXT, "The findings in this workbook that cite the event, '; '-separated"),
]

CHRONOLOGY_FROM = """
    FROM chronology_events
    JOIN cases ON cases.id = chronology_events.case_id
    JOIN agencies ON agencies.id = chronology_events.agency_id
    LEFT JOIN inspectors ON inspectors.id = chronology_events.recorded_by
"""

def chronology_select(finding_where: str) -> str:
    """The Chronology sheet's query; ``cited_by`` lists the citing findings that ``finding_where`` (the
    Findings sheet's condition, `` WHERE findings.…``; its parameters go first) lets into the workbook."""
    cited_by = f"""(
        SELECT group_concat(public_id, '; ') FROM (
            SELECT findings.public_id FROM finding_events JOIN findings ON findings.id = finding_events.finding_id
            {finding_where} AND finding_events.event_id = chronology_events.id ORDER BY findings.public_id))"""
    return CHRONOLOGY_SELECT.replace("chronology_events.client_uuid", f"chronology_events.client_uuid, {cited_by}", 1)


CHRONOLOGY_SELECT = f"""
    SELECT chronology_events.id, cases.case_ref, chronology_events.event_date, chronology_events.date_precision, agencies.name,
           chronology_events.practitioner_role, chronology_events.event_type, chronology_events.description,
           chronology_events.source_of_information, chronology_events.key_event,
           chronology_events.missed_opportunity, chronology_events.good_practice, inspectors.code,
           chronology_events.created_at, chronology_events.client_uuid
    {CHRONOLOGY_FROM}"""

ALERT_COLUMNS = [
    _ALERT["case_id"],
    Column("finding", TEXT, "The finding it was raised from, if any"),
    _ALERT["urgency"],
    Column("status", TEXT, "raised → referred → responded → closed"),
    _ALERT["concern"],
    Column("raised_by", TEXT, "Who raised it"),
    Column("raised_at", DATETIME, "When (UTC)"),
    _ALERT["referral_due"],
    Column("referred_to", TEXT, "Who it was referred to"),
    Column("referred_at", DATETIME, "When it was referred (UTC)"),
    Column("response_due", DATE, "When a response is due"),
    Column("responded_at", DATETIME, "When the agency responded (UTC)"),
    Column("response", TEXT, "The agency's response"),
    Column("closed_at", DATETIME, "When the alert was closed (UTC)"),
]

ALERTS_FROM = """
    FROM safeguarding_alerts
    LEFT JOIN cases ON cases.id = safeguarding_alerts.case_id
    LEFT JOIN findings ON findings.id = safeguarding_alerts.finding_id
"""

ALERTS_SELECT = f"""
    SELECT cases.case_ref, findings.public_id, safeguarding_alerts.urgency, safeguarding_alerts.status,
           safeguarding_alerts.concern, safeguarding_alerts.raised_by, safeguarding_alerts.raised_at,
           safeguarding_alerts.referral_due, safeguarding_alerts.referred_to, safeguarding_alerts.referred_at,
           safeguarding_alerts.response_due, safeguarding_alerts.responded_at, safeguarding_alerts.response,
           safeguarding_alerts.closed_at
    {ALERTS_FROM}"""

# Who exported, in words: an account's role, or the terminal (policy.SYSTEM_ROLE).
ROLE_WORDS = {**vocab.ACCOUNT_ROLES, policy.SYSTEM_ROLE: "command line"}

JUDGEMENT_COLUMNS = [
    Column("criterion", TEXT, "The framework criterion code"),
    Column("criterion_title", TEXT, "The criterion"),
    _JUDGEMENT["scope"], _JUDGEMENT["agency_id"], _JUDGEMENT["proposed_grade"],
    Column("moderated_grade", NUMBER, "The grade after moderation"),
    _JUDGEMENT["narrative"],
    Column("proposed_by", TEXT, "Who recorded it"),
    Column("updated_at", DATETIME, "When it last changed (UTC)"),
]

JUDGEMENTS_FROM = """
    FROM judgements
    JOIN criteria ON criteria.id = judgements.criterion_id
    LEFT JOIN agencies ON agencies.id = judgements.agency_id
"""

JUDGEMENTS_SELECT = f"""
    SELECT criteria.code, criteria.title, judgements.scope, agencies.name, judgements.proposed_grade,
           judgements.moderated_grade, judgements.narrative, judgements.proposed_by, judgements.updated_at
    {JUDGEMENTS_FROM}"""

SUMMARY_AGENCY_COLUMNS = [
    Column("agency", TEXT, "The agency (service)"),
    Column("agency_type", TEXT, "The kind of service"),
    *[Column(code, NUMBER, f"Findings (not withdrawn) of type {label}") for code, label in vocab.FINDING_TYPES.items()],
    Column("total", NUMBER, "All findings about the agency in this export, withdrawn ones left out"),
]


def _where(table: str, review_id: int, conditions: Sequence[tuple[str, Any]]) -> tuple[str, list[Any]]:
    clauses, params = [f"{table}.review_id = ?"], [review_id]
    for clause, param in conditions:
        clauses.append(clause)
        if param is not None:
            params.append(param)
    return " WHERE " + " AND ".join(clauses), params


def _scope(db: Database, actor: Actor, review_id: int, wanted: EvidenceFilter) -> dict[str, Any]:
    """Resolve the filter against the actor's rights.

    :raises Forbidden: an inspector asks for another strand.
    :raises NotFound, ValidationError: unknown strand or case.
    """
    readable = policy.export_scope(actor)
    if readable is False:
        raise Forbidden("This account may not export evidence: administrators run the system and see no case "
                        "content.")
    full_access = readable is True
    strand = wanted.strand
    if not full_access:
        if strand and strand != readable:
            raise Forbidden(f"You may export your own strand's evidence ({readable}), not {strand}'s.")
        strand = readable
    strand_id = None
    if strand:
        row = db.execute("SELECT id FROM strands WHERE code = ?", [strand]).fetchone()
        if row is None:
            known = ", ".join(code for (code,) in db.execute("SELECT code FROM strands ORDER BY id"))
            raise ValidationError(f"Unknown strand {strand!r}; known strands: {known}.")
        strand_id = row[0]
    case_id = None
    if wanted.case_ref:
        case_id = references.case_id(db, review_id, wanted.case_ref)
        if case_id is None:
            raise NotFound(f"No case {wanted.case_ref} in this review.")
    return {"full_access": full_access, "strand": strand, "strand_id": strand_id, "case_id": case_id,
            "alerts": policy.may(actor, policy.READ_ALERTS), "judgements": policy.may(actor, policy.READ_JUDGEMENTS)}


def _finding_conditions(wanted: EvidenceFilter, scope: dict[str, Any]) -> list[tuple[str, Any]]:
    conditions: list[tuple[str, Any]] = []
    if wanted.accepted_only:
        conditions.append(("findings.qa_status = 'accepted'", None))
    if scope["strand_id"] is not None:
        conditions.append(("findings.strand_id = ?", scope["strand_id"]))
    if scope["case_id"] is not None:
        conditions.append(("findings.case_id = ?", scope["case_id"]))
    return conditions


def _rows(db: Database, sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
    cursor = db.conn.execute(sql, params)
    while True:
        batch = cursor.fetchmany(500)
        if not batch:
            return
        yield from batch


def _count(db: Database, from_sql: str, where: str, params: list[Any]) -> int:
    return db.conn.execute(f"SELECT count(*) {from_sql} {where}", params).fetchone()[0]


def planned_rows(db: Database, actor: Actor, review_id: int, wanted: EvidenceFilter = EvidenceFilter()) -> int:
    """How many rows the main sheets of the workbook will hold (for a progress bar).

    :raises Forbidden, NotFound, ValidationError: as :func:`export_evidence_workbook`.
    """
    scope = _scope(db, actor, review_id, wanted)
    where, params = _where("findings", review_id, _finding_conditions(wanted, scope))
    total = _count(db, FINDINGS_FROM, where, params)
    chrono = [("chronology_events.case_id = ?", scope["case_id"])] if scope["case_id"] is not None else []
    where, params = _where("chronology_events", review_id, chrono)
    total += _count(db, CHRONOLOGY_FROM, where, params)
    if scope["alerts"]:
        alerts = [("safeguarding_alerts.case_id = ?", scope["case_id"])] if scope["case_id"] is not None else []
        where, params = _where("safeguarding_alerts", review_id, alerts)
        total += _count(db, ALERTS_FROM, where, params)
    if scope["judgements"]:
        where, params = _where("judgements", review_id, [])
        total += _count(db, JUDGEMENTS_FROM, where, params)
    return total


def export_evidence_workbook(
    db: Database,
    actor: Actor,
    review_id: int,
    path: Path | str,
    *,
    wanted: EvidenceFilter = EvidenceFilter(),
    progress: Progress | None = None,
    source: str = "inspect-kit export",
    file_name: str | None = None,
) -> EvidenceExport:
    """Write the review's evidence workbook to ``path`` and audit the export.

    Only what ``actor`` may see is exported (:func:`policy.export_scope`):
    inspectors get their own strand's findings, and the case chronologies and
    safeguarding alerts, which every strand may read; leads and moderators
    everything; administrators nothing (they see no case content). The file is written to a
    temporary file beside ``path`` and moved into place only when complete.
    ``progress`` is called with the number of rows written since its last call.
    The export's manifest (:mod:`inspect_kit.manifests`) names the file
    ``file_name`` (default: ``path``'s name; a download names what the user receives).

    :raises Forbidden: the actor may not export this.
    :raises NotFound, ValidationError: unknown review, strand or case.
    """
    path = Path(path)
    review_rows = list(db.query("SELECT * FROM reviews WHERE id = ?", [review_id]))
    if not review_rows:
        raise NotFound(f"No review with id {review_id}.")
    review = review_rows[0]
    scope = _scope(db, actor, review_id, wanted)
    result = EvidenceExport(path=path)
    stats = result.stats
    workbook = new_workbook()
    # A full disk mid-export leaves none of openpyxl's temporary files behind.
    with discarded_on_failure(workbook):
        tick = (lambda: progress(1)) if progress else None

        # One read transaction: every count and every sheet see the same snapshot.
        own_transaction = not db.conn.in_transaction
        if own_transaction:
            db.conn.execute("BEGIN")
        try:
            finding_where, finding_params = _where("findings", review_id, _finding_conditions(wanted, scope))
            chrono_conditions: list[tuple[str, Any]] = []
            if scope["case_id"] is not None:
                chrono_conditions.append(("chronology_events.case_id = ?", scope["case_id"]))
            chrono_where, chrono_params = _where("chronology_events", review_id, chrono_conditions)

            # The summaries leave withdrawn findings out, as the lead's coverage and
            # balance questions do (6, 8): a withdrawn finding is not evidence, and
            # counted it could hide an empty criterion × strand cell.
            summary_where = finding_where + " AND findings.qa_status != 'withdrawn'"
            result.sheets.append(_summary_criteria(db, workbook, review_id, summary_where, finding_params, stats))
            result.sheets.append(_summary_agencies(db, workbook, summary_where, finding_params, stats))

            sheet = write_table(workbook, "Findings", FINDING_COLUMNS,
                                _rows(db, FINDINGS_SELECT + finding_where + " ORDER BY findings.id", finding_params),
                                stats=stats, on_row=tick)
            sheet.expected_rows = _count(db, FINDINGS_FROM, finding_where, finding_params)
            result.sheets.append(sheet)

            sheet = write_table(
                workbook, "Chronology", CHRONOLOGY_COLUMNS,
                _rows(db, chronology_select(finding_where) + chrono_where
                      + " ORDER BY cases.case_ref, chronology_events.event_date, chronology_events.id",
                      [*finding_params, *chrono_params]),
                stats=stats, on_row=tick)
            sheet.expected_rows = _count(db, CHRONOLOGY_FROM, chrono_where, chrono_params)
            result.sheets.append(sheet)

            if scope["alerts"]:
                alert_conditions: list[tuple[str, Any]] = []
                if scope["case_id"] is not None:
                    alert_conditions.append(("safeguarding_alerts.case_id = ?", scope["case_id"]))
                alert_where, alert_params = _where("safeguarding_alerts", review_id, alert_conditions)
                sheet = write_table(workbook, "Safeguarding alerts", ALERT_COLUMNS,
                                    _rows(db, ALERTS_SELECT + alert_where + " ORDER BY safeguarding_alerts.id",
                                          alert_params), stats=stats, on_row=tick)
                sheet.expected_rows = _count(db, ALERTS_FROM, alert_where, alert_params)
                result.sheets.append(sheet)
            else:
                result.sheets.append(SheetResult(title="Safeguarding alerts", rows=0,
                                                 note="not exported: not readable by this account"))

            if scope["judgements"]:
                judgement_where, judgement_params = _where("judgements", review_id, [])
                sheet = write_table(workbook, "Judgements", JUDGEMENT_COLUMNS,
                                    _rows(db, JUDGEMENTS_SELECT + judgement_where
                                          + " ORDER BY criteria.position, judgements.scope, agencies.name",
                                          judgement_params), stats=stats, on_row=tick)
                sheet.expected_rows = _count(db, JUDGEMENTS_FROM, judgement_where, judgement_params)
                result.sheets.append(sheet)
            else:
                result.sheets.append(SheetResult(title="Judgements", rows=0,
                                                 note="not exported: leads and moderators only"))
        finally:
            if own_transaction:
                db.conn.execute("COMMIT")

        result.sheets.append(_data_dictionary(workbook, stats))
        exported_at = now()
        facts: list[tuple[str, Any]] = [
            ("Export", "The review's evidence workbook"),
            ("Review", f"{review['title']} ({review['slug']})"),
            ("Framework", review["framework_title"]),
            ("Exported by", f"{actor.username} ({ROLE_WORDS.get(actor.role, actor.role)})"),
            ("Exported at (UTC)", exported_at.replace("+00:00", "")),
            ("Source", source),
            ("Filters", wanted.describe() + ("" if scope["full_access"] else f" (limited to strand {scope['strand']})")),
        ]
        for sheet in result.sheets:
            if sheet.note:
                facts.append((f"Sheet: {sheet.title}", sheet.note))
                continue
            line = f"{sheet.rows:,} rows"
            if sheet.expected_rows is not None:
                line += (f"; the database holds {sheet.expected_rows:,}: count checked"
                         if sheet.count_checked else
                         f"; MISMATCH: the database holds {sheet.expected_rows:,}")
            if sheet.capped:
                line += "; CAPPED at Excel's row limit: the rest is not in this file"
            facts.append((f"Sheet: {sheet.title}", line))
        facts.append(("Cells cut", _cut_note(stats)))
        facts.append(("Control characters", f"stripped from {stats.stripped_cells:,} cell(s)"))
        facts.append(("Text cells", "Every recorded text is a text cell: nothing in this workbook is a formula."))
        facts.append(("Times", "Times are UTC; dates are Excel dates."))
        chain_head = audit.head(db)
        facts.append(("Audit chain head", f"row {chain_head['id']}, {chain_head['hash']}: this file's sha256 is "
                                          "recorded in the audit log after it; check a copy with "
                                          "`inspect-kit verify --file`."))
        write_about(workbook, facts, stats=stats)
        save_workbook(workbook, path)

    # The manifest (sha256 of the saved file, row counts, the audit chain's
    # head) is the export's audit row, so a copy handed out can be checked
    # later with `inspect-kit verify --file`.
    result.manifest = manifests.record_manifest(
        db, actor, path, what="evidence workbook", action="export.evidence_workbook", review_id=review_id,
        file_name=file_name,
        row_counts={sheet.title: sheet.rows for sheet in result.sheets if not sheet.note},
        detail=f"{file_name or path.name}: {wanted.describe()}; "
               + ", ".join(f"{sheet.title} {sheet.rows}" for sheet in result.sheets if not sheet.note),
    )
    result.audit_id = result.manifest["audit_id"]
    return result


def _cut_note(stats: CellStats) -> str:
    if not stats.cut_cells:
        return "none: every text is complete"
    examples = ", ".join(stats.cut_examples)
    return (f"{stats.cut_cells:,} cell(s) longer than Excel's 32,767 characters were cut and end with "
            f"'{CUT_MARKER.strip()}'" + (f" (e.g. {examples})" if examples else ""))


def _summary_criteria(db: Database, workbook: Any, review_id: int, finding_where: str,
                      finding_params: list[Any], stats: CellStats) -> SheetResult:
    from ..roster import review_strand_codes

    # The review's own strands, plus any strand that still has findings in it.
    strands = review_strand_codes(db, review_id)
    counts: dict[tuple[str, str], int] = {}
    for criterion, strand, count in db.conn.execute(
            f"""SELECT criteria.code, strands.code, count(*) {FINDINGS_FROM}
                JOIN finding_criteria ON finding_criteria.finding_id = findings.id
                JOIN criteria ON criteria.id = finding_criteria.criterion_id
                {finding_where} GROUP BY criteria.code, strands.code""", finding_params):
        counts[(criterion, strand)] = count
    strands += sorted({strand for _, strand in counts} - set(strands))
    columns = [Column("criterion", TEXT, "Framework criterion code"), Column("title", TEXT, "The criterion"),
               *[Column(code, NUMBER, f"Findings (not withdrawn) of strand {code} linked to the criterion")
                 for code in strands],
               Column("strands_with_evidence", NUMBER, "How many strands have evidence (0 or 1 = a gap to check)")]
    rows = []
    for code, title in db.conn.execute("SELECT code, title FROM criteria WHERE review_id = ? ORDER BY position",
                                       [review_id]):
        cells = [counts.get((code, strand), 0) for strand in strands]
        rows.append([code, title, *cells, sum(1 for count in cells if count)])
    sheet = write_table(workbook, "Summary – criteria", columns, rows, stats=stats)
    add_bar_chart(_worksheet(workbook, sheet), title="Findings per criterion, by strand", rows=len(rows),
                  series=(3, 2 + len(strands)))
    sheet.expected_rows = db.conn.execute("SELECT count(*) FROM criteria WHERE review_id = ?",
                                          [review_id]).fetchone()[0]
    return sheet


def _summary_agencies(db: Database, workbook: Any, finding_where: str, finding_params: list[Any],
                      stats: CellStats) -> SheetResult:
    types = list(vocab.FINDING_TYPES)
    # Keyed by the agency's id: two agencies of the same name stay two rows.
    per_agency: dict[int, dict[str, Any]] = {}
    for agency_id, agency, agency_type, finding_type, count in db.conn.execute(
            f"""SELECT coalesce(findings.agency_id, 0), coalesce(agencies.name, '(partnership-wide)'),
                       coalesce(agencies.agency_type, ''), findings.finding_type, count(*)
                {FINDINGS_FROM} {finding_where}
                GROUP BY 1, 2, 3, 4 ORDER BY 2, 1""", finding_params):
        entry = per_agency.setdefault(agency_id, {"name": agency,
                                                  "type": vocab.AGENCY_TYPES.get(agency_type, agency_type)})
        entry[finding_type] = count
    rows = []
    for entry in per_agency.values():
        cells = [entry.get(code, 0) for code in types]
        rows.append([entry["name"], entry["type"], *cells, sum(cells)])
    sheet = write_table(workbook, "Summary – agencies", SUMMARY_AGENCY_COLUMNS, rows, stats=stats)
    # Strengths, areas for improvement and serious weaknesses: the balance check; context is left out.
    add_bar_chart(_worksheet(workbook, sheet), title="Strengths and areas for improvement by agency",
                  rows=len(rows), series=(3, 5))
    # Checked against the database, not against the rows just built (which could not differ).
    sheet.expected_rows = db.conn.execute(
        f"SELECT count(DISTINCT coalesce(findings.agency_id, 0)) {FINDINGS_FROM} {finding_where}",
        finding_params).fetchone()[0]
    return sheet


def _worksheet(workbook: Any, sheet: SheetResult) -> Any:
    """The worksheet :func:`write_table` just wrote (write-only sheets take charts until saved)."""
    return next(worksheet for worksheet in workbook.worksheets if worksheet.title == sheet.title)


def _data_dictionary(workbook: Any, stats: CellStats) -> SheetResult:
    columns = [Column("sheet", TEXT, ""), Column("column", TEXT, ""), Column("kind", TEXT, ""),
               Column("description", TEXT, ""), Column("values", TEXT, "")]
    allowed = {
        "activity": vocab.ACTIVITIES, "finding_type": vocab.FINDING_TYPES, "impact_on_child": vocab.IMPACTS_ON_CHILD,
        "qa_status": vocab.QA_STATUSES, "date_precision": vocab.DATE_PRECISIONS, "event_type": vocab.EVENT_TYPES,
        "urgency": vocab.ALERT_URGENCIES, "status": vocab.ALERT_STATUSES, "scope": vocab.JUDGEMENT_SCOPES,
    }
    rows = []
    for sheet, sheet_columns in (("Findings", FINDING_COLUMNS), ("Chronology", CHRONOLOGY_COLUMNS),
                                 ("Safeguarding alerts", ALERT_COLUMNS), ("Judgements", JUDGEMENT_COLUMNS),
                                 ("Summary – agencies", SUMMARY_AGENCY_COLUMNS)):
        for column in sheet_columns:
            values = allowed.get(column.name)
            listed = "; ".join(f"{code} = {label}" for code, label in values.items()) if values else ""
            rows.append([sheet, column.name, column.kind, column.description, listed])
    return write_table(workbook, "Data dictionary", columns, rows, stats=stats)


def export_filename(review_slug: str, day: dt.date | None = None) -> str:
    """The default file name: ``<review>-evidence-<date>.xlsx``."""
    return f"{review_slug}-evidence-{(day or dt.date.today()).isoformat()}.xlsx"
