"""Import a filled capture workbook: check every row, then store all or nothing.

The order of work:

1. :func:`~.safety.check_workbook_file` refuses files that are not plain
   ``.xlsx`` workbooks (wrong type, password, decompression bomb) and files
   openpyxl would need too much memory or time to read (big text tables,
   sheets formatted down to row 1,048,576), within a second;
2. openpyxl opens it ``read_only``; the Instructions sheet's marker row must
   name this template version and this review (and, when the template was made
   for one inspector, the importing inspector);
3. every row of Findings and Chronology is turned into the fields a form
   would send and checked with ``findings.normalise`` / ``chronology.normalise``
   (the very rules of the intake forms), collecting *every* fault as
   "sheet, row, column: what is wrong and what is allowed";
4. only when no row failed (or, with ``partial``, for the rows that passed)
   are the records written, in one ``write_transaction``, by
   :func:`inspect_kit.findings_batch.record_findings` (the rows
   ``record_finding`` writes, with the values checked in step 3, by
   ``executemany``) and ``record_event``: idempotent by the row's uuid, so a
   workbook imported twice creates nothing the second time.

Imported records are authored by the importing account; the workbook's name
is in the audit log, on each record's creation row and on one summary row.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlite_utils import Database

from .. import audit, chronology, fields, findings, findings_batch, policy, references, validation
from ..actors import Actor
from ..errors import Conflict, Forbidden, NotFound, ValidationError
from ..store import write_transaction
from .capture import (
    CHRONOLOGY,
    EVENT_CAPTURE_COLUMNS,
    FINDING_CAPTURE_COLUMNS,
    FINDINGS,
    INSTRUCTIONS,
    MARKER,
    TEMPLATE_VERSION,
)
from .cells import unescape_text
from .safety import ImportLimits, WorkbookRefused, check_workbook_file

__all__ = ["ImportLimits", "ImportReport", "RowError", "WorkbookInvalid", "WorkbookRefused",
           "import_capture_workbook", "read_capture_workbook"]

# The capture column each field is typed in (for mapping errors back to columns), from the field registry.
FINDING_FIELD_COLUMNS = {spec.name: spec.typed_column for spec in fields.FINDING if spec.column}
EVENT_FIELD_COLUMNS = {spec.name: spec.typed_column for spec in fields.CHRONOLOGY_EVENT if spec.column}
# Columns whose cells may hold a vocabulary's code or its label.
CODED_COLUMNS = {spec.name: dict(spec.vocabulary or {}) for spec in (*fields.FINDING, *fields.CHRONOLOGY_EVENT)
                 if spec.kind == fields.CHOICE}
# Columns a workbook made before they existed lacks: read as empty (the template's version is unchanged).
OPTIONAL_COLUMNS = (FINDING_FIELD_COLUMNS["event_ids"],)
_SECONDARY = re.compile(r"\s*\((secondary|s)\)\s*$", re.IGNORECASE)
MAX_ERRORS_LISTED = 500


@dataclass(frozen=True)
class RowError:
    """One fault in one cell (or row) of the workbook."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.sheet}, row {self.row}, column {self.column}: {self.message}"


class WorkbookInvalid(ValidationError):
    """Some rows are wrong; nothing was stored.

    ``errors`` lists the first :data:`MAX_ERRORS_LISTED` faults as
    :class:`RowError`; the message counts every fault and says when the
    list is shorter than that.
    """

    def __init__(self, errors: list[RowError], rows_checked: int, workbook: str):
        rows = len({(error.sheet, error.row) for error in errors})
        listed = "" if len(errors) <= MAX_ERRORS_LISTED else f" The first {MAX_ERRORS_LISTED} are listed."
        super().__init__(f"Nothing was imported from {workbook}: {len(errors)} problem(s) in {rows} of "
                         f"{rows_checked} row(s). Correct them in the workbook and import it again.{listed}")
        self.errors = errors[:MAX_ERRORS_LISTED]
        self.total_errors = len(errors)
        self.rows_checked = rows_checked


@dataclass
class CaptureRow:
    """One filled row: where it is, its uuid and the form fields it gives."""

    sheet: str
    row: int
    client_uuid: str
    fields: dict[str, Any]
    # What findings.normalise returned for the row (findings only): the values to store.
    values: dict[str, Any] | None = None


@dataclass
class CaptureWorkbook:
    """What :func:`read_capture_workbook` found: valid rows and every fault."""

    name: str
    findings: list[CaptureRow] = field(default_factory=list)
    events: list[CaptureRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    inspector: str | None = None

    @property
    def rows_checked(self) -> int:
        return len(self.findings) + len(self.events) + len({(e.sheet, e.row) for e in self.errors})


@dataclass
class ImportReport:
    """What an import did."""

    workbook: str
    findings_created: int = 0
    findings_existing: int = 0
    events_created: int = 0
    events_existing: int = 0
    skipped: list[RowError] = field(default_factory=list)
    audit_id: int | None = None

    def summary(self) -> str:
        text = (f"Imported {self.workbook}: {self.findings_created} finding(s) and {self.events_created} chronology "
                f"event(s) created; {self.findings_existing + self.events_existing} row(s) were already imported.")
        if self.skipped:
            text += f" {len({(e.sheet, e.row) for e in self.skipped})} row(s) with problems were skipped."
        return text


class _Lookups:
    """Names → ids for one review, and labels → codes, built once per import."""

    def __init__(self, db: Database, review_id: int):
        # Names and case refs under the one rule of inspect_kit.references (as the API reads them).
        self.references = references.References(db, review_id)
        self.codes = {
            column: {**{label.casefold(): code for code, label in choices.items()},
                     **{code.casefold(): code for code in choices}}
            for column, choices in CODED_COLUMNS.items()
        }


def _text(value: Any) -> str | None:
    """A cell's value as the text an inspector typed (None when empty)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = unescape_text(value)
        return value if value.strip() else None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return str(value)


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    return _text(value)


def _criteria(raw: str | None) -> dict[str, str] | str | None:
    """``'2.1; 2.3 (secondary)'`` → ``{'2.1': 'primary', '2.3': 'secondary'}``."""
    if raw is None:
        return None
    chosen: dict[str, str] = {}
    for token in re.split(r"[;,\n]", raw):
        token = token.strip()
        if not token:
            continue
        relevance = "primary"
        if _SECONDARY.search(token):
            relevance = "secondary"
            token = _SECONDARY.sub("", token)
        chosen[token] = relevance
    return chosen


def _event_numbers(raw: Any) -> list[str] | None:
    """``'12; 15'`` (or a number Excel stored as such) → ``['12', '15']``, under the rule of
    :func:`inspect_kit.references.event_numbers`."""
    text = _text(raw)
    return None if text is None else references.event_numbers(text)


def _marker(workbook: Any, name: str, review_slug: str) -> str | None:
    """Check the Instructions marker row; return the inspector the workbook is for (if any).

    :raises WorkbookRefused: not a capture workbook, another version, another review.
    """
    if INSTRUCTIONS not in workbook.sheetnames:
        raise WorkbookRefused(f"{name} is not an inspect_kit capture workbook (it has no {INSTRUCTIONS} sheet). "
                              "Make one with `inspect-kit template` or the 'Download a capture workbook' link.")
    first = next(_read_rows(workbook[INSTRUCTIONS].iter_rows(min_row=1, max_row=1, values_only=True), name,
                            INSTRUCTIONS), ())
    first = list(first) + [None] * 7
    if first[0] != MARKER:
        raise WorkbookRefused(f"{name} is not an inspect_kit capture workbook (its {INSTRUCTIONS} sheet does not "
                              "start with the template marker). Make one with `inspect-kit template`.")
    version = first[2]
    if version != TEMPLATE_VERSION:
        raise WorkbookRefused(
            f"{name} was made from capture template version {version}; this inspect_kit expects version "
            f"{TEMPLATE_VERSION}. Download a new capture workbook and copy your rows into it (keep each row's "
            "client_uuid).")
    if first[4] != review_slug:
        raise WorkbookRefused(f"{name} was made for review {first[4]!r}, not {review_slug!r}.")
    return first[6] or None


def _read_rows(rows: Iterator[tuple[Any, ...]], name: str, sheet: str) -> Iterator[tuple[Any, ...]]:
    """``rows`` as they are read; a sheet whose XML is damaged is refused, not a traceback.

    In ``read_only`` mode openpyxl parses a sheet only as its rows are read,
    so a damaged sheet fails here, after ``load_workbook`` succeeded.

    :raises WorkbookRefused: the sheet cannot be read.
    """
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as error:  # ParseError, ValueError, KeyError…: openpyxl raises many types
            raise WorkbookRefused(f"{name}: the {sheet} sheet is damaged and cannot be read "
                                  f"({type(error).__name__}). Open it in Excel, save it as .xlsx and try "
                                  "again.") from None
        yield row


def _sheet_rows(workbook: Any, sheet: str, columns: tuple[str, ...], name: str,
                counter: list[int], limits: ImportLimits) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (Excel row number, {heading: value}) for every non-empty row.

    :raises WorkbookRefused: a missing sheet or heading, or too many rows.
    """
    if sheet not in workbook.sheetnames:
        raise WorkbookRefused(f"{name} has no {sheet} sheet: start again from a new capture workbook.")
    worksheet = workbook[sheet]
    # The dimension tag some writers leave behind can be wrong; read every row,
    # but never past the rows check_workbook_file allows (openpyxl yields an
    # empty row for every gap, so one row numbered 1,048,576 would otherwise
    # cost a million).
    worksheet.reset_dimensions()
    rows = _read_rows(worksheet.iter_rows(max_row=limits.max_sheet_rows, values_only=True), name, sheet)
    header = [(_text(value) or "").strip() for value in next(rows, ())]
    positions = {heading: index for index, heading in enumerate(header) if heading}
    missing = [heading for heading in columns if heading not in positions and heading not in OPTIONAL_COLUMNS]
    if missing:
        raise WorkbookRefused(f"{name}: the {sheet} sheet has no column {', '.join(missing)}. Do not rename or "
                              "delete the heading row; start from a new capture workbook.")
    picks = [(heading, positions[heading]) for heading in columns if heading in positions]
    absent = {heading: None for heading in columns if heading not in positions}
    for number, values in enumerate(rows, 2):
        record = {heading: values[index] if index < len(values) else None for heading, index in picks} | absent
        if all(value is None or (isinstance(value, str) and not value.strip())
               for heading, value in record.items() if heading not in ("client_uuid", "strand")):
            continue
        counter[0] += 1
        if counter[0] > limits.max_rows:
            raise WorkbookRefused(f"{name} has more than {limits.max_rows:,} filled rows (the configured limit). "
                                  "Split it into smaller workbooks.")
        yield number, record


def read_capture_workbook(db: Database, review_id: int, path: Path | str, *, actor: Actor | None = None,
                          limits: ImportLimits | None = None, name: str | None = None,
                          today: dt.date | None = None) -> CaptureWorkbook:
    """Check a capture workbook and every row in it, storing nothing.

    Rows that pass are returned with the form fields to record; every fault
    is in ``errors``.

    :raises WorkbookRefused: the file as a whole cannot be imported.
    """
    path = Path(path)
    name = name or path.name
    limits = limits or ImportLimits()
    check_workbook_file(path, limits, name=name)
    review = next(db.query("SELECT slug FROM reviews WHERE id = ?", [review_id]), None)
    if review is None:
        raise NotFound(f"No review with id {review_id}.")
    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many types for broken files
        raise WorkbookRefused(f"{name} could not be read as an Excel workbook ({type(error).__name__}). Open it "
                              "in Excel, save it as .xlsx and try again.") from None
    # One read transaction: every row is checked against the same snapshot
    # (and SQLite takes its read lock once, not once per lookup).
    own_transaction = not db.conn.in_transaction
    if own_transaction:
        db.conn.execute("BEGIN")
    try:
        result = CaptureWorkbook(name=name)
        result.inspector = _marker(workbook, name, review["slug"])
        lookups = _Lookups(db, review_id)
        counter = [0]
        seen: dict[str, str] = {}
        finding_headings = tuple(column.heading for column in FINDING_CAPTURE_COLUMNS)
        for number, record in _sheet_rows(workbook, FINDINGS, finding_headings, name, counter, limits):
            _check_finding(db, review_id, number, record, lookups, seen, result, actor, today)
        event_headings = tuple(column.heading for column in EVENT_CAPTURE_COLUMNS)
        for number, record in _sheet_rows(workbook, CHRONOLOGY, event_headings, name, counter, limits):
            _check_event(db, review_id, number, record, lookups, seen, result, today)
    finally:
        workbook.close()
        if own_transaction and db.conn.in_transaction:
            db.conn.execute("COMMIT")
    return result


def _uuid(sheet: str, number: int, record: dict[str, Any], seen: dict[str, str],
          errors: list[RowError]) -> str | None:
    raw = _text(record.get("client_uuid"))
    if raw is None:
        errors.append(RowError(sheet, number, "client_uuid", "the uuid is missing: every row needs the uuid the "
                                                             "template gave it; use an unused row's uuid"))
        return None
    try:
        value = validation.client_uuid(raw.strip())
    except ValueError:
        errors.append(RowError(sheet, number, "client_uuid", f"{raw!r} is not a uuid: do not edit this column"))
        return None
    where = f"{sheet} row {number}"
    if value in seen:
        errors.append(RowError(sheet, number, "client_uuid", f"the same uuid is on {seen[value]}: each row needs "
                                                             "its own (was a row copied?); use an unused row's uuid"))
        return None
    seen[value] = where
    return value


def _lookup(sheet: str, number: int, column: str, raw: Any, lookups: _Lookups, what: str,
            errors: list[RowError]) -> int | None:
    text = _text(raw)
    if text is None:
        return None
    row = lookups.references.find(what, text)
    found = row[0] if row else None
    if found is None:
        errors.append(RowError(sheet, number, column, f"{text!r} is not one of this review's {what}; choose one "
                                                      "from the dropdown list"))
    return found


def _code(column: str, raw: Any, lookups: _Lookups) -> str | None:
    text = _text(raw)
    if text is None:
        return None
    return lookups.codes[column].get(text.strip().casefold(), text)


def _field_errors(sheet: str, number: int, error: ValidationError, columns: dict[str, str]) -> list[RowError]:
    return [RowError(sheet, number, columns.get(name, name), message) for name, message in error.field_errors.items()]


def _normalised(sheet: str, number: int, columns: dict[str, str], errors: list[RowError],
                normalise: Callable[[], Any]) -> Any:
    """What ``normalise()`` returns, or None once its field errors are added to ``errors``
    (a column that already has a fault, such as an unknown case, keeps that first message)."""
    try:
        return normalise()
    except ValidationError as error:
        errors.extend(e for e in _field_errors(sheet, number, error, columns)
                      if e.column not in {x.column for x in errors})
        return None


def _check_finding(db: Database, review_id: int, number: int, record: dict[str, Any], lookups: _Lookups,
                   seen: dict[str, str], result: CaptureWorkbook, actor: Actor | None, today: dt.date | None) -> None:
    errors: list[RowError] = []
    uuid = _uuid(FINDINGS, number, record, seen, errors)
    strand = _text(record.get("strand"))
    if strand and actor is not None and actor.strand and strand.strip() != actor.strand:
        errors.append(RowError(FINDINGS, number, "strand", f"this row is for strand {strand!r}, but the importing "
                                                           f"account records evidence for {actor.strand!r}"))
    fields = {
        "agency_id": _lookup(FINDINGS, number, "agency", record["agency"], lookups, "agencies", errors),
        "case_id": _lookup(FINDINGS, number, "case_ref", record["case_ref"], lookups, "cases", errors),
        "activity": _code("activity", record["activity"], lookups),
        "collected_on": _date(record["collected_on"]),
        "evidence_text": _text(record["evidence_text"]),
        "evaluation_text": _text(record["evaluation_text"]),
        "finding_type": _code("finding_type", record["finding_type"], lookups),
        "impact_on_child": _code("impact_on_child", record["impact_on_child"], lookups),
        "criteria": _criteria(_text(record["criteria"])),
        "event_ids": _event_numbers(record["events"]),
    }
    values = _normalised(FINDINGS, number, FINDING_FIELD_COLUMNS, errors,
                         lambda: findings.normalise(db, review_id, fields, require_criteria=False, today=today))
    if errors:
        result.errors.extend(errors)
    elif uuid is not None:
        result.findings.append(CaptureRow(FINDINGS, number, uuid, fields, values))


def _check_event(db: Database, review_id: int, number: int, record: dict[str, Any], lookups: _Lookups,
                 seen: dict[str, str], result: CaptureWorkbook, today: dt.date | None) -> None:
    errors: list[RowError] = []
    uuid = _uuid(CHRONOLOGY, number, record, seen, errors)
    fields = {
        "case_id": _lookup(CHRONOLOGY, number, "case_ref", record["case_ref"], lookups, "cases", errors),
        "agency_id": _lookup(CHRONOLOGY, number, "agency", record["agency"], lookups, "agencies", errors),
        "practitioner_role": _text(record["practitioner_role"]),
        "event_date": _date(record["event_date"]),
        "date_precision": _code("date_precision", record["date_precision"], lookups),
        "event_type": _code("event_type", record["event_type"], lookups),
        "description": _text(record["description"]),
        "source_of_information": _text(record["source_of_information"]),
        "key_event": _text(record["key_event"]),
        "missed_opportunity": _text(record["missed_opportunity"]),
        "good_practice": _text(record["good_practice"]),
    }
    _normalised(CHRONOLOGY, number, EVENT_FIELD_COLUMNS, errors,
                lambda: chronology.normalise(db, review_id, fields, today=today))
    if errors:
        result.errors.extend(errors)
    elif uuid is not None:
        result.events.append(CaptureRow(CHRONOLOGY, number, uuid, fields))


def import_capture_workbook(db: Database, actor: Actor, review_id: int, path: Path | str, *,
                            limits: ImportLimits | None = None, name: str | None = None, partial: bool = False,
                            today: dt.date | None = None) -> ImportReport:
    """Check every row of a capture workbook, then record them all in one transaction.

    By default nothing is stored if any row fails; with ``partial`` the rows
    that pass are stored and the others reported in ``skipped``. ``name`` is
    the workbook's name for messages and the audit log (the upload's name).

    :raises WorkbookRefused: the file cannot be imported at all.
    :raises WorkbookInvalid: some rows are wrong (and ``partial`` is off); nothing stored.
    :raises Forbidden: the account is not an inspector of the review, or not the one the workbook is for.
    """
    path = Path(path)
    name = name or path.name
    if not policy.may_record_findings(actor):
        raise Forbidden("Only inspectors and leads import evidence: this account is not linked to an inspector of "
                        "the review, or does not record evidence.")
    checked = read_capture_workbook(db, review_id, path, actor=actor, limits=limits, name=name, today=today)
    if checked.inspector:
        code = db.execute("SELECT code FROM inspectors WHERE id = ?", [actor.inspector_id]).fetchone()
        if code is None or code[0] != checked.inspector:
            raise Forbidden(f"{name} was made for inspector {checked.inspector}; import it with that inspector's "
                            "account.")
    if checked.errors and not partial:
        raise WorkbookInvalid(checked.errors, checked.rows_checked, name)
    report = ImportReport(workbook=name, skipped=list(checked.errors))
    conflicts: list[RowError] = []
    with write_transaction(db):
        # One batch for the findings (the import's bulk): bench/excel.py's
        # 50,000 rows spent most of their time in record_finding's per-row
        # round trips. The values are the ones checked above, in this process.
        batch = findings_batch.record_findings(db, actor, review_id, [
            findings_batch.NewFinding(row.client_uuid, row.values or {}, _source(name, row))
            for row in checked.findings])
        report.findings_created += len(batch.created)
        report.findings_existing += len(batch.existing)
        conflicts.extend(_conflict(checked.findings[index]) for index in batch.conflicts)
        for row in checked.events:
            try:
                outcome = chronology.record_event(db, actor, row.fields, client_uuid=row.client_uuid,
                                                  review_id=review_id, audit_detail=_source(name, row))
            except Conflict:
                conflicts.append(_conflict(row))
                continue
            if outcome.created:
                report.events_created += 1
            else:
                report.events_existing += 1
        if conflicts and not partial:
            # Raising inside the transaction rolls every record of this import back.
            raise WorkbookInvalid(conflicts, checked.rows_checked, name)
        report.skipped.extend(conflicts)
        report.audit_id = audit.record(
            db, actor, "import.capture_workbook", table="reviews", row_id=review_id,
            detail=json.dumps({
                "workbook": name, "findings_created": report.findings_created,
                "findings_existing": report.findings_existing, "events_created": report.events_created,
                "events_existing": report.events_existing, "rows_skipped": len(report.skipped),
            }, sort_keys=True))
    return report


def _conflict(row: CaptureRow) -> RowError:
    return RowError(row.sheet, row.row, "client_uuid",
                    "this uuid was already imported with different content: a stored record is never overwritten "
                    "by an import; edit the stored record in the app, or use an unused row's uuid for a new one")


def _source(workbook: str, row: CaptureRow) -> str:
    """Where an imported record came from, for its creation audit row."""
    return f"imported from {workbook}, {row.sheet} row {row.row}"
