"""The capture workbook: an inspector records evidence offline in Excel.

Sheets: Instructions (with the template version marker in row 1), Findings
and Chronology (one record a row, dropdowns for strand, agency, case,
activity, finding type, criteria and the other coded columns) and a hidden
Lists sheet the dropdowns read from. Every row carries a uuid made when the
template is written, so importing the same workbook twice never duplicates a
record (``record_finding``/``record_event`` are idempotent by uuid).

Column headings are the same as the evidence workbook's, so rows can be
copied between the two.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from sqlite_utils import Database

from .. import audit, fields, references, vocab
from ..actors import Actor
from ..errors import NotFound
from ..fields import CHOICE, DATE, FLAG, REFERENCE, REFERENCES, Field
from ..store import write_transaction
from .cells import CellStats, CellWriter
from .sheets import discarded_on_failure, new_workbook, save_workbook

TEMPLATE_VERSION = 1
MARKER = "inspect_kit capture workbook"
INSTRUCTIONS = "Instructions"
FINDINGS = "Findings"
CHRONOLOGY = "Chronology"
LISTS = "Lists"
DEFAULT_ROWS = 300
YES_NO = {"yes": "Yes", "no": "No"}


@dataclass(frozen=True)
class CaptureColumn:
    """A column of a capture sheet: heading, the field it fills, a hint, the
    dropdown list it uses (a key of the Lists sheet) and whether the list is
    strict (Excel refuses other values) and the column required."""

    heading: str
    hint: str
    dropdown: str | None = None
    strict: bool = True
    required: bool = False
    width: int = 18


def registry_column(field: Field, width: int = 18) -> CaptureColumn:
    """The capture column of a registry field: its typed column (``agency`` for
    ``agency_id``), hint and required flag from :mod:`inspect_kit.fields`, the
    dropdown of its vocabulary, of the review's names, or yes/no."""
    dropdown = {CHOICE: field.name, REFERENCE: field.typed_column, FLAG: "yes_no"}.get(field.kind)
    hint = field.hint + {DATE: ", e.g. 2008-03-27", FLAG: ": yes or no",
                         REFERENCES: ": event numbers ('Event 12' on the case page, the 'event' column of the "
                                     "evidence workbook), separated by ';', e.g. 12; 15"}.get(field.kind, "")
    return CaptureColumn(field.typed_column, hint, dropdown, strict=field.kind != REFERENCES,
                         required=field.required, width=width)


# Column widths (characters); the rest of each column comes from the registry.
_FINDING_WIDTHS = {"agency_id": 30, "case_id": 10, "activity": 24, "collected_on": 13, "finding_type": 22,
                   "impact_on_child": 16, "evidence_text": 60, "evaluation_text": 50, "event_ids": 16}
_EVENT_WIDTHS = {"case_id": 10, "agency_id": 30, "practitioner_role": 22, "event_date": 13, "date_precision": 14,
                 "event_type": 24, "description": 60, "source_of_information": 30, "key_event": 10,
                 "missed_opportunity": 12, "good_practice": 12}
_FINDING = fields.by_name(fields.FINDING)

FINDING_CAPTURE_COLUMNS: tuple[CaptureColumn, ...] = (
    CaptureColumn("client_uuid", "Filled in for you: never change or copy it; it stops a row being imported twice",
                  width=38, required=True),
    CaptureColumn("strand", "Your strand (optional; checked against your account)", "strand"),
    *(registry_column(_FINDING[name], _FINDING_WIDTHS[name]) for name in (
        "agency_id", "case_id", "activity", "collected_on", "finding_type", "impact_on_child")),
    CaptureColumn("criteria", "Criterion codes, e.g. '2.1' or '2.1; 2.3 (secondary)'", "criteria",
                  strict=False, width=16),
    # Cited events last: a workbook made before findings cited events has every other column where it was.
    *(registry_column(_FINDING[name], _FINDING_WIDTHS[name]) for name in ("evidence_text", "evaluation_text",
                                                                          "event_ids")),
)

EVENT_CAPTURE_COLUMNS: tuple[CaptureColumn, ...] = (
    CaptureColumn("client_uuid", "Filled in for you: never change or copy it", width=38, required=True),
    *(registry_column(field, _EVENT_WIDTHS[field.name]) for field in fields.CHRONOLOGY_EVENT),
)

_BOLD = Font(bold=True)
_HEADING_FILL = PatternFill("solid", fgColor="DDDDDD")
_WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class TemplateResult:
    """What :func:`write_capture_template` wrote."""

    path: Path
    finding_rows: int
    event_rows: int
    inspector: str | None


def capture_lists(db: Database, review_id: int) -> dict[str, list[str]]:
    """The dropdown values of a review's capture workbook, by list name."""
    return {
        "strand": [code for (code,) in db.execute(  # the strands taking part in the review
            "SELECT strands.code FROM review_strands JOIN strands ON strands.id = review_strands.strand_id"
            " WHERE review_strands.review_id = ? ORDER BY strands.id", [review_id])],
        "agency": [name for (name,) in db.execute(
            "SELECT name FROM agencies WHERE review_id = ? ORDER BY organisation, name", [review_id])],
        "case_ref": [ref for (ref,) in db.execute(
            "SELECT case_ref FROM cases WHERE review_id = ? ORDER BY case_ref", [review_id])],
        "activity": list(vocab.ACTIVITIES),
        "finding_type": list(vocab.FINDING_TYPES),
        "impact_on_child": list(vocab.IMPACTS_ON_CHILD),
        "criteria": [code for (code,) in db.execute(
            "SELECT code FROM criteria WHERE review_id = ? ORDER BY position", [review_id])],
        "date_precision": list(vocab.DATE_PRECISIONS),
        "event_type": list(vocab.EVENT_TYPES),
        "yes_no": list(YES_NO),
    }


def write_capture_template(db: Database, review_id: int, path: Path | str, *, inspector_code: str | None = None,
                           finding_rows: int = DEFAULT_ROWS, event_rows: int = DEFAULT_ROWS,
                           actor: Actor | None = None) -> TemplateResult:
    """Write a capture workbook for the review to ``path``.

    ``inspector_code`` names the inspector the workbook is for; the import then
    refuses it under another inspector's account. ``finding_rows`` and
    ``event_rows`` rows are prepared, each with its own uuid. With ``actor``
    the export is written to the audit log (it lists the review's case
    references and agencies).

    :raises NotFound: no such review or inspector.
    """
    path = Path(path)
    review = next(db.query("SELECT * FROM reviews WHERE id = ?", [review_id]), None)
    if review is None:
        raise NotFound(f"No review with id {review_id}.")
    strand = None
    if inspector_code:
        found = references.References(db, review_id).find("inspectors", inspector_code)
        if found is None:
            raise NotFound(f"No inspector {inspector_code} in review {review['slug']}.")
        inspector_code = found[1]
        (strand,) = db.execute("SELECT strands.code FROM inspectors JOIN strands ON strands.id = inspectors.strand_id"
                               " WHERE inspectors.id = ?", [found[0]]).fetchone()
    lists = capture_lists(db, review_id)
    workbook = new_workbook()
    # A full disk mid-export leaves none of openpyxl's temporary files behind.
    with discarded_on_failure(workbook):
        stats = CellStats()
        _instructions(workbook, review, inspector_code, strand, stats)
        ranges = _lists_sheet(workbook, lists)
        _capture_sheet(workbook, FINDINGS, FINDING_CAPTURE_COLUMNS, finding_rows, ranges)
        _capture_sheet(workbook, CHRONOLOGY, EVENT_CAPTURE_COLUMNS, event_rows, ranges)
        workbook.move_sheet(LISTS, len(workbook.sheetnames))
        save_workbook(workbook, path)
    if actor is not None:
        with write_transaction(db):
            audit.record(db, actor, "export.capture_template", table="reviews", row_id=review_id,
                         detail=f"{path.name}: template version {TEMPLATE_VERSION}"
                                + (f" for {inspector_code}" if inspector_code else ""))
    return TemplateResult(path=path, finding_rows=finding_rows, event_rows=event_rows, inspector=inspector_code)


def _instructions(workbook: Any, review: dict[str, Any], inspector_code: str | None, strand: str | None,
                  stats: CellStats) -> None:
    sheet = workbook.create_sheet(INSTRUCTIONS)
    writer = CellWriter(sheet, stats)
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 22
    sheet.column_dimensions["C"].width = 90
    # Row 1 is the marker the import reads: do not move it.
    sheet.append([MARKER, "template version", TEMPLATE_VERSION, "review", writer.text(review["slug"]),
                  "inspector", writer.text(inspector_code) if inspector_code else None])
    lines: list[Sequence[Any]] = [
        [],
        ["Review", None, writer.text(f"{review['title']} ({review['framework_title']})")],
        ["Inspector", None, writer.text(f"{inspector_code} ({strand})") if inspector_code else
         "Any inspector of the review: the account that imports the workbook becomes the author"],
        [],
        ["How to use this workbook"],
        ["1.", None, "Record one finding a row on the Findings sheet, one event a row on the Chronology sheet."],
        ["2.", None, "Choose coded values from the dropdowns; dates as 2008-11-20 (or any Excel date)."],
        ["3.", None, "Never change, copy or delete the client_uuid column: it lets the same row be imported "
                     "again without making a duplicate. Need more rows? Ask for a new workbook."],
        ["4.", None, "Leave rows you do not need empty. Formulas are not evaluated: what you type is stored "
                     "as text."],
        ["5.", None, "Upload it on the 'Import a workbook' page, or: inspect-kit import FILE --as USERNAME. "
                     "Every row is checked first; if any row is wrong nothing is imported and each problem "
                     "is listed by sheet, row and column."],
        [],
        ["Column", "Sheet", "What to enter"],
    ]
    for line in lines:
        sheet.append(list(line))
    for sheet_name, columns in ((FINDINGS, FINDING_CAPTURE_COLUMNS), (CHRONOLOGY, EVENT_CAPTURE_COLUMNS)):
        for column in columns:
            required = " (required)" if column.required else ""
            sheet.append([column.heading, sheet_name, writer.text(column.hint + required)])
    sheet.append([])
    sheet.append(["Codes", None, "The dropdowns use these codes:"])
    for name, labels in (("activity", vocab.ACTIVITIES), ("finding_type", vocab.FINDING_TYPES),
                         ("impact_on_child", vocab.IMPACTS_ON_CHILD), ("date_precision", vocab.DATE_PRECISIONS),
                         ("event_type", vocab.EVENT_TYPES)):
        for code, label in labels.items():
            sheet.append([name, code, label])


def _lists_sheet(workbook: Any, lists: dict[str, list[str]]) -> dict[str, str]:
    """Write the dropdown lists one per column; return list name → range formula."""
    sheet = workbook.create_sheet(LISTS)
    sheet.sheet_state = "hidden"
    writer = CellWriter(sheet, CellStats())
    names = list(lists)
    sheet.append(names)
    longest = max((len(values) for values in lists.values()), default=0)
    for index in range(longest):
        sheet.append([writer.text(lists[name][index]) if index < len(lists[name]) else None for name in names])
    ranges = {}
    for position, name in enumerate(names, 1):
        letter = get_column_letter(position)
        count = max(len(lists[name]), 1)
        ranges[name] = f"{quote_sheetname(LISTS)}!${letter}$2:${letter}${count + 1}"
    return ranges


def _capture_sheet(workbook: Any, title: str, columns: Sequence[CaptureColumn], rows: int,
                   ranges: dict[str, str]) -> None:
    sheet = workbook.create_sheet(title)
    for position, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(position)].width = column.width
    sheet.freeze_panes = "B2"
    last_row = rows + 1
    for position, column in enumerate(columns, 1):
        if column.dropdown is None:
            continue
        letter = get_column_letter(position)
        validation = DataValidation(type="list", formula1=ranges[column.dropdown], allow_blank=True,
                                    showDropDown=False, showErrorMessage=column.strict,
                                    errorTitle="Not in the list", error="Choose a value from the dropdown list.",
                                    promptTitle=column.heading, prompt=column.hint[:255], showInputMessage=True)
        validation.add(f"{letter}2:{letter}{last_row}")
        sheet.data_validations.append(validation)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, column.heading)
        cell.data_type = "s"
        cell.font = _BOLD
        cell.fill = _HEADING_FILL
        header.append(cell)
    sheet.append(header)
    for _ in range(rows):
        sheet.append([str(uuid.uuid4())])
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"
