"""The first draft of the report, in Word format, built from the judgements and their evidence.

Structured by the review's framework: a title page (marked DRAFT, with the
evidence snapshot's time and basis), headline findings, every area and
criterion with its judgements, narrative and cited evidence as numbered
references (evidence id, strand, agency, date, quote), what needs to improve,
the index case's merged chronology as a case-example annex, the methodology
and evidence base (counts by strand, activity and QA status; the coverage
matrix) and an annex listing every cited finding in full.

Only accepted evidence is cited unless ``include_unaccepted`` is asked for;
the report says which. Everything is read in one read transaction, so every
count and table describe the same snapshot. Text from users goes in as text
runs (never a field code, formula or hyperlink), with only the characters XML
cannot hold removed. The finished file's manifest is recorded in the audit log
(:mod:`inspect_kit.manifests`).

python-docx, not docxtpl: the report's shape follows the framework (any
number of areas, criteria, agencies and references), which is code rather
than a fixed template, and docxtpl renders user text through Jinja into
template XML, where an unescaped ``<`` or ``{{`` in a finding would be
interpreted; python-docx writes each string as a text node.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_BREAK
from docx.shared import Inches, Pt
from sqlite_utils import Database

from . import chart_images, chart_specs, charts, judgements, manifests, vocab
from .actors import Actor
from .errors import Forbidden, NotFound
from .file_modes import save_by_rename
from .store import now

# Characters XML 1.0 cannot hold (python-docx refuses them): C0 controls but
# tab, newline and carriage return; lone surrogates; U+FFFE and U+FFFF.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Strong right-to-left characters (Hebrew, Arabic, Syriac, Thaana, N'Ko …):
# a paragraph holding them is marked bidirectional so Word lays it out right.
RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
CHRONOLOGY_HEADERS = ("Date", "Agency", "Event", "What happened", "Key event", "Missed opportunity",
                      "Good practice")
REFERENCE_HEADERS = ("Ref", "Evidence id", "Strand", "Agency", "Date", "Quote")


def text_for_word(value: Any) -> str:
    """A value as text Word can hold: XML-illegal characters removed, everything else as it is."""
    if value is None:
        return ""
    return XML_ILLEGAL.sub("", str(value))


@dataclass
class DraftReport:
    """What :func:`build_report` wrote."""

    path: Path
    criteria: int = 0
    judgements: int = 0
    references: int = 0
    omitted_citations: int = 0
    chronology_events: int = 0
    charts: int = 0
    snapshot_at: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Reference:
    number: int
    finding: dict[str, Any]


class _References:
    """Numbers each cited finding once, in order of first citation."""

    def __init__(self) -> None:
        self.by_finding: dict[int, _Reference] = {}

    def number(self, finding: dict[str, Any]) -> int:
        if finding["finding_id"] not in self.by_finding:
            self.by_finding[finding["finding_id"]] = _Reference(len(self.by_finding) + 1, finding)
        return self.by_finding[finding["finding_id"]].number


def build_report(db: Database, actor: Actor, review_id: int, path: Path | str, *,
                 include_unaccepted: bool = False, file_name: str | None = None) -> DraftReport:
    """Write the draft report of a review to ``path`` (.docx) and record its manifest.

    The file is written beside ``path`` and moved into place when complete.
    ``file_name`` is the name the manifest records (default: ``path``'s; a
    download names the file the user receives).

    :raises Forbidden: the actor may not build the report.
    :raises NotFound: no such review.
    :raises OSError: the file cannot be written (nothing is left behind).
    """
    if not judgements.may_build_report(actor):
        raise Forbidden("Only the lead inspector builds the draft report.")
    path = Path(path)
    result = DraftReport(path=path)
    own = not db.conn.in_transaction
    if own:
        db.conn.execute("BEGIN")
    try:
        content = _read(db, review_id, include_unaccepted)
    finally:
        if own:
            db.conn.execute("COMMIT")
    result.snapshot_at = content["snapshot_at"]
    document = _compose(content, include_unaccepted, result)
    _save(document, path)
    result.manifest = manifests.record_manifest(
        db, actor, path, what="draft report", action="report.draft", review_id=review_id, file_name=file_name,
        row_counts={"criteria": result.criteria, "judgements": result.judgements, "references": result.references,
                    "omitted citations": result.omitted_citations, "chronology events": result.chronology_events},
        detail=f"{path.name}: {'including evidence not yet accepted' if include_unaccepted else 'accepted evidence only'}",
    )
    return result


# ----------------------------------------------------------------- reading (one snapshot)


def _read(db: Database, review_id: int, include_unaccepted: bool) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM reviews WHERE id = ?", [review_id]))
    if not rows:
        raise NotFound(f"No review with id {review_id}.")
    review = rows[0]
    from . import reviews

    areas = reviews.criteria_by_area(db, review_id)
    by_criterion: dict[int, list[dict[str, Any]]] = {}
    for judgement in judgements.list_judgements(db, None, review_id):
        by_criterion.setdefault(judgement["criterion_id"], []).append(judgement)
    status_filter = "findings.qa_status != 'withdrawn'" if include_unaccepted else "findings.qa_status = 'accepted'"
    mix = {criterion_id: counts for criterion_id, *counts in db.execute(
        f"""SELECT finding_criteria.criterion_id, count(*), sum(finding_type = 'strength'),
                   sum(finding_type = 'area_for_improvement'), sum(finding_type = 'serious_weakness')
            FROM finding_criteria JOIN findings ON findings.id = finding_criteria.finding_id
            WHERE findings.review_id = ? AND {status_filter} GROUP BY finding_criteria.criterion_id""", [review_id])}
    # The strands taking part: one taking part with no inspector yet is an empty column, a gap to see.
    strands = list(db.query(
        "SELECT strands.* FROM strands WHERE id IN (SELECT strand_id FROM review_strands WHERE review_id = ?"
        " UNION SELECT strand_id FROM inspectors WHERE review_id = ?) ORDER BY id", [review_id, review_id]))
    index_case = next(iter(db.query(
        "SELECT * FROM cases WHERE review_id = ? AND selection_route = 'index' ORDER BY case_ref LIMIT 1",
        [review_id])), None)
    chronology_events: list[dict[str, Any]] = []
    if index_case:
        from .chronology import case_chronology

        chronology_events = case_chronology(db, index_case["id"])
    counts = {
        "strand": list(db.execute(
            "SELECT strands.name, count(*) FROM findings JOIN strands ON strands.id = findings.strand_id"
            " WHERE findings.review_id = ? GROUP BY strands.id ORDER BY strands.id", [review_id])),
        "activity": list(db.execute(
            "SELECT activity, count(*) FROM findings WHERE review_id = ? GROUP BY activity ORDER BY count(*) DESC",
            [review_id])),
        "qa_status": list(db.execute(
            "SELECT qa_status, count(*) FROM findings WHERE review_id = ? GROUP BY qa_status", [review_id])),
    }
    coverage = list(db.query(
        f"""SELECT criteria.id AS criterion_id, strands.code AS strand, count(DISTINCT findings.id) AS findings,
                   count(DISTINCT findings.inspector_id) AS inspectors
            FROM finding_criteria JOIN findings ON findings.id = finding_criteria.finding_id
            JOIN criteria ON criteria.id = finding_criteria.criterion_id
            JOIN strands ON strands.id = findings.strand_id
            WHERE criteria.review_id = ? AND {status_filter}
            GROUP BY criteria.id, strands.id""", [review_id]))
    cited_inspectors = {row["id"]: row for row in db.query(
        """SELECT findings.id, inspectors.code AS inspector, findings.activity, findings.impact_on_child
           FROM judgement_citations JOIN findings ON findings.id = judgement_citations.finding_id
           JOIN inspectors ON inspectors.id = findings.inspector_id
           JOIN judgements ON judgements.id = judgement_citations.judgement_id WHERE judgements.review_id = ?""",
        [review_id])}
    head = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    return {
        "review": review, "areas": areas, "judgements": by_criterion, "mix": mix, "strands": strands,
        "grades": judgements.scale(db, review_id), "index_case": index_case, "chronology": chronology_events,
        "counts": counts, "coverage": coverage, "cited_details": cited_inspectors, "snapshot_at": now(),
        "audit_head": head,
    }


# ----------------------------------------------------------------- writing


def _compose(content: dict[str, Any], include_unaccepted: bool, result: DraftReport) -> Any:
    review = content["review"]
    document = Document()
    document.core_properties.title = text_for_word(f"DRAFT: {review['title']}")
    document.core_properties.subject = "Draft report"
    document.styles["Normal"].font.size = Pt(11)
    references = _References()
    basis = ("Evidence basis: accepted evidence only (findings not yet accepted in QA are not cited)."
             if not include_unaccepted else
             "Evidence basis: INCLUDES EVIDENCE NOT YET ACCEPTED in QA; such citations are marked 'not accepted'.")

    _title_page(document, content, basis)
    _headlines(document, content)
    _heading(document, "Judgements by area and criterion", level=1)
    improvements: list[tuple[str, dict[str, Any], list[int]]] = []
    for area in content["areas"]:
        _heading(document, f"{area['code']} {area['title']}", level=2)
        for criterion in area["criteria"]:
            result.criteria += 1
            _criterion(document, content, criterion, references, include_unaccepted, result, improvements)
    _improvements(document, improvements)
    _chronology_annex(document, content, result)
    _methodology(document, content, basis, result)
    _evidence_annex(document, content, references, include_unaccepted)
    result.references = len(references.by_finding)
    return document


def _style_id(document: Any, name: str) -> str:
    """A style's id, looked up once per document: python-docx resolves a style
    name by scanning every style for the default on each use, which was 40 % of
    the demo report's time (profiled: 0.55 of 1.36 s)."""
    cache = document.__dict__.setdefault("_inspect_kit_style_ids", {})
    if name not in cache:
        cache[name] = document.styles[name].style_id
    return cache[name]


def _styled(document: Any, style: str | None) -> Any:
    paragraph = document.add_paragraph()
    if style:
        paragraph._p.style = _style_id(document, style)
    return paragraph


def _heading(document: Any, text: str, level: int) -> Any:
    """A heading (level 0 is the title) holding ``text`` as text."""
    paragraph = _styled(document, "Title" if level == 0 else f"Heading {level}")
    paragraph.add_run(text_for_word(text))
    return paragraph


def _para(document: Any, text: Any, style: str | None = None, *, bold_prefix: str | None = None) -> Any:
    """A paragraph holding ``text`` literally (line breaks kept), right-to-left when the text is."""
    clean = text_for_word(text)
    paragraph = _styled(document, style)
    if bold_prefix:
        paragraph.add_run(text_for_word(bold_prefix)).bold = True
    paragraph.add_run(clean)
    if RTL.search(clean):
        paragraph.paragraph_format.element.get_or_add_pPr().append(_bidi())
    return paragraph


def _bidi() -> Any:
    from docx.oxml import OxmlElement

    return OxmlElement("w:bidi")


def _table(document: Any, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Any:
    rows = list(rows)
    table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table._tbl.tblStyle_val = _style_id(document, "Table Grid")
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text_for_word(header)).bold = True
    for table_row, values in zip(table.rows[1:], rows, strict=True):
        for cell, value in zip(table_row.cells, values, strict=True):
            cell.text = text_for_word(value)
    return table


def _grade_text(grades: Mapping[int, str], grade: int | None) -> str:
    if grade is None:
        return "not graded"
    return f"{grade} ({grades.get(grade, 'not on the scale')})"


def _title_page(document: Any, content: dict[str, Any], basis: str) -> None:
    review = content["review"]
    document.add_paragraph().add_run("DRAFT").bold = True
    _heading(document, review["title"], level=0)
    _para(document, review["area"], bold_prefix="Area: ")
    _para(document, f"{review['framework_title']} ({vocab.REVIEW_TYPES.get(review['review_type'], review['review_type'])})",
          bold_prefix="Framework: ")
    _para(document, f"{review['fieldwork_start'] or 'not set'} to {review['fieldwork_end'] or 'not set'}",
          bold_prefix="Fieldwork: ")
    _para(document, review["draft_due"] or "not set", bold_prefix="Draft due: ")
    if review.get("commissioned_by"):
        _para(document, review["commissioned_by"], bold_prefix="Commissioned by: ")
    inspectorates = "; ".join(f"{strand['inspectorate']} ({strand['name']})" for strand in content["strands"])
    _para(document, inspectorates or "none recorded", bold_prefix="Inspectorates: ")
    _para(document, f"DRAFT – not for publication (the review is at: "
                    f"{vocab.REVIEW_STATUSES.get(review['status'], review['status'])})", bold_prefix="Status: ")
    head = content["audit_head"]
    _para(document, f"{content['snapshot_at'].replace('+00:00', ' UTC')}"
                    + (f" (audit row {head[0]}, chain hash {head[1][:16]}…)" if head else ""),
          bold_prefix="Evidence snapshot: ")
    _para(document, basis)
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _headline_grade(judgement: Mapping[str, Any], grades: Mapping[int, str]) -> str:
    if grades:
        text = _grade_text(grades, judgement["proposed_grade"])
        if judgement["moderated_grade"] is not None:
            text += f"; moderated: {_grade_text(grades, judgement['moderated_grade'])}"
        return text
    return "strengths and areas for improvement (not graded)"


def _headlines(document: Any, content: dict[str, Any]) -> None:
    _heading(document, "Headline findings", level=1)
    rows = []
    for area in content["areas"]:
        for criterion in area["criteria"]:
            partnership = [j for j in content["judgements"].get(criterion["id"], []) if j["scope"] == "partnership"]
            judgement = partnership[0] if partnership else None
            rows.append((f"{criterion['code']} {criterion['title']}",
                         _headline_grade(judgement, content["grades"]) if judgement else "not yet judged",
                         (judgement["narrative"] if judgement else "")))
    _table(document, ("Criterion", "Judgement (partnership)", "Narrative"), rows)


def _criterion(document: Any, content: dict[str, Any], criterion: dict[str, Any], references: _References,
               include_unaccepted: bool, result: DraftReport,
               improvements: list[tuple[str, dict[str, Any], list[int]]]) -> None:
    _heading(document, f"{criterion['code']} {criterion['title']}", level=3)
    if criterion.get("description"):
        _para(document, criterion["description"]).runs[0].italic = True
    total, strengths, afi, serious = content["mix"].get(criterion["id"], (0, 0, 0, 0))
    _para(document, f"{total} finding(s): {strengths or 0} strength(s), {afi or 0} area(s) for improvement, "
                    f"{serious or 0} serious weakness(es).", bold_prefix="Evidence base: ")
    found = content["judgements"].get(criterion["id"], [])
    if not found:
        _para(document, "Not yet judged.")
        return
    for judgement in found:
        result.judgements += 1
        scope = "Partnership" if judgement["scope"] == "partnership" else f"Agency: {judgement['agency']}"
        _heading(document, f"{criterion['code']} – {scope}", level=4)
        grades = content["grades"]
        if grades:
            _para(document, f"{_grade_text(grades, judgement['proposed_grade'])} (version {judgement['version']})",
                  bold_prefix="Proposed grade: ")
            if judgement["moderated_grade"] is not None:
                _para(document, f"{_grade_text(grades, judgement['moderated_grade'])}: "
                                f"{judgement['moderation_reason'] or ''}", bold_prefix="Moderated grade: ")
        elif judgement["moderation_reason"]:
            _para(document, judgement["moderation_reason"], bold_prefix="Moderation: ")
        for line in (judgement["narrative"] or "").split("\n"):
            _para(document, line)
        if judgement["strengths"]:
            _para(document, judgement["strengths"], bold_prefix="Strengths: ")
        if judgement["areas_for_improvement"]:
            _para(document, judgement["areas_for_improvement"], bold_prefix="Areas for improvement: ")
        rows, numbers, negatives = [], [], []
        for citation in judgement["citations"]:
            accepted = citation["qa_status"] == "accepted"
            if not accepted and not include_unaccepted:
                result.omitted_citations += 1
                continue
            number = references.number(citation)
            numbers.append(number)
            if citation["finding_type"] in judgements.NEGATIVE_TYPES:
                negatives.append(number)
            quote = citation["quote"] or ""
            if not accepted:
                quote = f"{quote} (not accepted: {vocab.QA_STATUSES.get(citation['qa_status'])})".strip()
            rows.append((f"[{number}]", citation["public_id"], citation["strand"],
                         citation["agency"] or "Partnership-wide", citation["collected_on"], quote))
        if rows:
            _para(document, "Evidence cited:").runs[0].bold = True
            _table(document, REFERENCE_HEADERS, rows)
        else:
            _para(document, "No accepted evidence is cited for this judgement.")
        if judgement["areas_for_improvement"] or negatives or (
                grades and (judgement["moderated_grade"] or judgement["proposed_grade"] or 4) <= 2):
            improvements.append((f"{criterion['code']} {criterion['title']} – {scope}", judgement, negatives))


def _improvements(document: Any, improvements: list[tuple[str, dict[str, Any], list[int]]]) -> None:
    _heading(document, "What needs to improve", level=1)
    if not improvements:
        _para(document, "No area for improvement has been recorded in the judgements yet.")
        return
    for title, judgement, negatives in improvements:
        text = judgement["areas_for_improvement"] or judgement["narrative"]
        cited = f" (see {', '.join(f'[{n}]' for n in negatives)})" if negatives else ""
        _para(document, f"{text}{cited}", "List Bullet", bold_prefix=f"{title}: ")


def _chronology_annex(document: Any, content: dict[str, Any], result: DraftReport) -> None:
    document.add_page_break()
    case = content["index_case"]
    if case is None:
        _heading(document, "Annex A: Case example", level=1)
        _para(document, "The review has no index case, so no case chronology is included.")
        return
    events = content["chronology"]
    result.chronology_events = len(events)
    _heading(document, f"Annex A: Case example – merged chronology of {case['case_ref']}", level=1)
    key = sum(1 for e in events if e["key_event"])
    missed = sum(1 for e in events if e["missed_opportunity"])
    good = sum(1 for e in events if e["good_practice"])
    _para(document, f"{case['case_ref']} ({vocab.AGE_BANDS.get(case['age_band'], case['age_band'])}, "
                    f"{vocab.LEGAL_STATUSES.get(case['legal_status'], case['legal_status'])}): {len(events)} events "
                    f"recorded by {len({e['agency'] for e in events})} services; {key} key events, {missed} missed "
                    f"opportunities, {good} examples of good practice. The child is known by case reference only.")
    if events:
        timeline = charts.timeline(events)
        _chart(document, chart_specs.timeline_spec(timeline, link_events=False),
               f"Figure: {case['case_ref']}'s timeline by agency. {timeline['summary']}", result=result)
    _table(document, CHRONOLOGY_HEADERS, [
        (event["event_date"] + ("" if event["date_precision"] == "day" else f" ({event['date_precision']})"),
         event["agency"], vocab.EVENT_TYPES.get(event["event_type"], event["event_type"]), event["description"],
         "yes" if event["key_event"] else "", "yes" if event["missed_opportunity"] else "",
         "yes" if event["good_practice"] else "")
        for event in events])
    if missed:
        _heading(document, "Missed opportunities", level=2)
        for event in events:
            if event["missed_opportunity"]:
                _para(document, f"{event['event_date']}, {event['agency']}: {event['description']}", "List Bullet")


def _methodology(document: Any, content: dict[str, Any], basis: str, result: DraftReport) -> None:
    document.add_page_break()
    _heading(document, "Methodology and evidence base", level=1)
    counts = content["counts"]
    total = sum(n for _, n in counts["qa_status"])
    _para(document, f"Inspectors recorded {total} evidence records, each coded to the framework's criteria as it "
                    "was collected and quality-assured by the lead inspector or a moderator. " + basis)
    _heading(document, "Evidence records by strand", level=2)
    _table(document, ("Strand", "Records"), counts["strand"])
    _heading(document, "Evidence records by activity", level=2)
    _table(document, ("Activity", "Records"),
           [(vocab.ACTIVITIES.get(code, code), n) for code, n in counts["activity"]])
    _heading(document, "Evidence records by QA status", level=2)
    _table(document, ("QA status", "Records"),
           [(vocab.QA_STATUSES.get(code, code), n) for code, n in counts["qa_status"]])
    _heading(document, "Coverage: criterion × strand", level=2)
    _para(document, "Findings per criterion and strand ("
                    + ("accepted only" if "accepted evidence only" in basis else "not withdrawn")
                    + "); 'empty' and 'single source' cells are marked.")
    strands = [strand["code"] for strand in content["strands"]]
    cells = {(row["criterion_id"], row["strand"]): row for row in content["coverage"]}
    rows = []
    for area in content["areas"]:
        for criterion in area["criteria"]:
            values = [criterion["code"]]
            for strand in strands:
                cell = cells.get((criterion["id"], strand))
                values.append("empty" if cell is None else
                              f"{cell['findings']}" + (" (single source)" if cell["inspectors"] == 1 else ""))
            rows.append(values)
    _table(document, ("Criterion", *strands), rows)
    matrix = _coverage_chart_data(content)
    if matrix["cells"]:
        _chart(document, chart_specs.coverage_spec(matrix, cell_href=None),
               f"Figure: coverage of the framework by strand. {matrix['summary']}", result=result)


def _coverage_chart_data(content: dict[str, Any]) -> dict[str, Any]:
    """The methodology's coverage table in the shape :func:`chart_specs.coverage_spec` draws."""
    counted = {(row["criterion_id"], row["strand"]): row for row in content["coverage"]}
    matrix: dict[str, Any] = {"cells": [], "criteria": [], "strands": [
        {"code": strand["code"], "name": strand["name"]} for strand in content["strands"]]}
    for area in content["areas"]:
        for criterion in area["criteria"]:
            matrix["criteria"].append({"code": criterion["code"], "title": criterion["title"], "area": area["code"]})
            for strand in matrix["strands"]:
                row = counted.get((criterion["id"], strand["code"]))
                findings = row["findings"] if row else 0
                matrix["cells"].append({
                    "criterion": criterion["code"], "criterion_title": criterion["title"], "strand": strand["code"],
                    "findings": findings, "inspectors": row["inspectors"] if row else 0,
                    "cell": "empty" if not findings else "single source" if row["inspectors"] == 1 else "corroborated"})
    empty = [f"{cell['strand']} × {cell['criterion']}" for cell in matrix["cells"] if cell["cell"] == "empty"]
    matrix["summary"] = (f"{len(matrix['criteria'])} criteria × {len(matrix['strands'])} strands; "
                         + (f"no evidence in {', '.join(empty)}." if empty else "every cell has evidence."))
    return matrix


def _chart(document: Any, spec: dict[str, Any], caption: str, *, result: DraftReport) -> None:
    """A chart as a picture with ``caption`` as its alt text and as a caption under it
    (the figures are in the table beside it)."""
    picture = document.add_picture(io.BytesIO(chart_images.png(spec)), width=Inches(6.3))
    alt = text_for_word(caption)
    properties = picture._inline.docPr  # python-docx has no alt-text API: Word reads docPr's descr and title
    properties.set("descr", alt)
    properties.set("title", alt.split(". ", 1)[0])
    _para(document, caption, "Caption")
    result.charts += 1


def _evidence_annex(document: Any, content: dict[str, Any], references: _References,
                    include_unaccepted: bool) -> None:
    document.add_page_break()
    _heading(document, "Annex B: Evidence cited", level=1)
    if not references.by_finding:
        _para(document, "No evidence is cited yet.")
        return
    _para(document, "Every finding cited above, in full, by reference number"
                    + ("." if not include_unaccepted else "; findings not yet accepted in QA are marked."))
    for reference in references.by_finding.values():
        finding = reference.finding
        details = content["cited_details"].get(finding["finding_id"], {})
        _heading(document, f"[{reference.number}] {finding['public_id']}", level=3)
        _table(document, ("Field", "Value"), [
            ("Strand", finding["strand"]), ("Inspector", details.get("inspector", "")),
            ("Agency", finding["agency"] or "Partnership-wide"), ("Case", finding["case_ref"] or "none"),
            ("Activity", vocab.ACTIVITIES.get(details.get("activity"), details.get("activity") or "")),
            ("Collected on", finding["collected_on"]),
            ("Type", vocab.FINDING_TYPES.get(finding["finding_type"], finding["finding_type"])),
            ("QA status", vocab.QA_STATUSES.get(finding["qa_status"], finding["qa_status"])),
            ("Version", f"{finding['current_version']} (cited: {finding['finding_version']})"),
        ])
        _para(document, finding["evidence_text"], bold_prefix="Evidence: ")
        if finding["evaluation_text"]:
            _para(document, finding["evaluation_text"], bold_prefix="Evaluation: ")


def _save(document: Any, path: Path) -> None:
    """Save to a temporary file in the same folder, then rename into place.

    :raises OSError: the folder cannot be written; nothing is left behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    save_by_rename(path, document.save, prefix=".report-", suffix=".docx")


def report_filename(review_slug: str, day: str | None = None) -> str:
    """``<review>-draft-report-<date>.docx``."""
    return f"{review_slug}-draft-report-{(day or now())[:10]}.docx"
