"""The case sample: the children a review looks at, imported from the local
authority's spreadsheet (``.xlsx`` or ``.csv``).

One row per child: ``case_ref`` (pseudonymous, ``C-017``), ``household_ref``,
``age_band``, ``legal_status``, ``cp_category``, ``selection_route`` and,
when supplied, ``local_identifier`` (the local authority's own number: it
goes only to ``private.db``'s ``case_identity_keys``, never to the evidence
store). Coded columns take the code or its label, in any case
(``cp_plan`` or ``Child protection plan``).

Every row is checked before anything is written, and every fault is named
by row and column as the capture import names them
(:class:`inspect_kit.excel.importer.RowError`); one fault and nothing is
imported. Importing again updates the cases whose details changed and adds
the new ones: a case ref is never duplicated. Workbooks pass the capture
import's size limits first (:mod:`inspect_kit.excel.safety`); a CSV is held
to the same file size and row count.

:func:`read_sheet` is shared with :mod:`inspect_kit.agencies`' import.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from . import audit, reviews, vocab
from .actors import Actor
from .excel.importer import RowError, WorkbookInvalid, _read_rows, _text
from .excel.safety import ImportLimits, MiB, WorkbookRefused, check_workbook_file
from .store import write_transaction

CASE_COLUMNS = ("case_ref", "household_ref", "age_band", "legal_status", "cp_category", "selection_route",
                "local_identifier")
REQUIRED_CASE_COLUMNS = ("case_ref", "age_band", "legal_status", "selection_route")
CASE_REF_RE = re.compile(r"^C-\d{3,}$")
HOUSEHOLD_REF_RE = re.compile(r"^[A-Z]{1,3}-\d{1,6}$")
CODED = {"age_band": vocab.AGE_BANDS, "legal_status": vocab.LEGAL_STATUSES, "cp_category": vocab.CP_CATEGORIES,
         "selection_route": vocab.SELECTION_ROUTES}
MAX_LOCAL_IDENTIFIER = 64


@dataclass
class SampleReport:
    """What an import did: cases added, updated and left as they were."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    identifiers: int = 0


def _heading(value: Any) -> str:
    return re.sub(r"[\s-]+", "_", (_text(value) or "").strip().lower())


def read_sheet(path: Path | str, columns: tuple[str, ...], required: tuple[str, ...], *, name: str | None = None,
               limits: ImportLimits | None = None) -> Iterator[tuple[int, dict[str, str | None]]]:
    """Yield (row number, {column: text or None}) for each filled row of the
    first sheet of an ``.xlsx`` file or of a ``.csv`` file; the first row holds
    the headings (spaces and case ignored, other columns ignored).

    :raises WorkbookRefused: not a workbook or CSV, too big, too many rows, a
        damaged sheet, or a required heading missing.
    """
    path = Path(path)
    shown = name or path.name
    limits = limits or ImportLimits()
    if path.stat().st_size > limits.max_file_bytes:
        raise WorkbookRefused(f"{shown} is {path.stat().st_size / MiB:.1f} MiB; files up to "
                              f"{limits.max_file_bytes / MiB:.0f} MiB can be imported.")
    if shown.lower().endswith(".csv"):
        rows = _csv_rows(path, shown)
    else:
        check_workbook_file(path, limits, name=shown)
        rows = _xlsx_rows(path, shown, limits)
    header = [_heading(value) for value in next(rows, ())]
    positions = {heading: index for index, heading in enumerate(header) if heading}
    missing = [heading for heading in required if heading not in positions]
    if missing:
        raise WorkbookRefused(f"{shown} has no column {', '.join(missing)}. The first row must name the columns: "
                              f"{', '.join(columns)}.")
    picks = [(heading, positions[heading]) for heading in columns if heading in positions]
    filled = 0
    for number, values in enumerate(rows, 2):
        record = {heading: _text(values[index]) if index < len(values) else None for heading, index in picks}
        record = {heading: value.strip() if value else None for heading, value in record.items()}
        if not any(record.values()):
            continue
        filled += 1
        if filled > limits.max_rows:
            raise WorkbookRefused(f"{shown} has more than {limits.max_rows:,} filled rows (the configured limit).")
        yield number, record


def _xlsx_rows(path: Path, shown: str, limits: ImportLimits) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise WorkbookRefused(f"{shown} cannot be read as a workbook ({type(error).__name__}). Save it as .xlsx "
                              "and try again.") from None
    try:
        worksheet = workbook.worksheets[0]
        worksheet.reset_dimensions()
        yield from _read_rows(worksheet.iter_rows(max_row=limits.max_sheet_rows, values_only=True), shown,
                              worksheet.title)
    finally:
        workbook.close()


def _csv_rows(path: Path, shown: str) -> Iterator[tuple[Any, ...]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise WorkbookRefused(f"{shown} is not UTF-8 text. Save it from Excel as \"CSV UTF-8\".") from None
    try:
        yield from (tuple(row) for row in csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise WorkbookRefused(f"{shown} is not a readable CSV file ({error}).") from None


def code_for(value: str | None, choices: dict[str, str]) -> str | None:
    """The code for a cell holding a code or its label (any case), or None."""
    if value is None:
        return None
    folded = value.strip().lower()
    for code, label in choices.items():
        if folded in (code.lower(), label.lower()):
            return code
    return None


def _check_case(number: int, record: dict[str, str | None], seen: dict[str, int]) -> tuple[dict[str, Any], list[RowError]]:
    sheet = "Cases"
    errors = []
    case = {"case_ref": (record.get("case_ref") or "").upper() or None,
            "household_ref": (record.get("household_ref") or "").upper() or None}
    if not case["case_ref"]:
        errors.append(RowError(sheet, number, "case_ref", "Enter the case reference, like C-017"))
    elif not CASE_REF_RE.match(case["case_ref"]):
        errors.append(RowError(sheet, number, "case_ref",
                               f"{case['case_ref']!r} is not a case reference: use C- and at least three digits "
                               "(C-017); never a name or the local authority's number"))
    elif case["case_ref"] in seen:
        errors.append(RowError(sheet, number, "case_ref", f"{case['case_ref']} is also on row {seen[case['case_ref']]}"))
    else:
        seen[case["case_ref"]] = number
    if case["household_ref"] and not HOUSEHOLD_REF_RE.match(case["household_ref"]):
        errors.append(RowError(sheet, number, "household_ref",
                               f"{case['household_ref']!r} is not a household reference: use letters, a hyphen "
                               "and digits (H-012)"))
    for column, choices in CODED.items():
        value = record.get(column)
        code = code_for(value, choices)
        if value and code is None:
            errors.append(RowError(sheet, number, column,
                                   f"{value!r} is not one of: {', '.join(choices.values())}"))
        elif not value and column != "cp_category":
            errors.append(RowError(sheet, number, column, f"Choose one of: {', '.join(choices.values())}"))
        case[column] = code
    if case["cp_category"] and case["legal_status"] and case["legal_status"] != "cp_plan":
        errors.append(RowError(sheet, number, "cp_category", "A CP category is only for a child on a child "
                                                             "protection plan"))
    identifier = record.get("local_identifier")
    if identifier and len(identifier) > MAX_LOCAL_IDENTIFIER:
        errors.append(RowError(sheet, number, "local_identifier",
                               f"Keep the local identifier to {MAX_LOCAL_IDENTIFIER} characters"))
    case["local_identifier"] = identifier
    return case, errors


def import_case_sample(db: Database, private_db: Database, actor: Actor, review_id: int, path: Path | str, *,
                       name: str | None = None, limits: ImportLimits | None = None) -> SampleReport:
    """Import (or re-import) the review's case sample from ``path``.

    All or nothing: every row is checked first. Cases are matched by case ref:
    new ones are added, changed ones updated (each audited), none duplicated.
    Local identifiers go to ``private.db`` only, keyed by review and case ref.

    :raises WorkbookRefused: the file as a whole (see :func:`read_sheet`).
    :raises WorkbookInvalid: some rows are wrong (``errors`` lists them); nothing written.
    """
    shown = name or Path(path).name
    review = reviews.get_review(db, review_id)
    seen: dict[str, int] = {}
    checked: list[dict[str, Any]] = []
    errors: list[RowError] = []
    rows = 0
    for number, record in read_sheet(path, CASE_COLUMNS, REQUIRED_CASE_COLUMNS, name=shown, limits=limits):
        rows += 1
        case, row_errors = _check_case(number, record, seen)
        errors.extend(row_errors)
        checked.append(case)
    if errors:
        raise WorkbookInvalid(errors, rows, shown)
    if not rows:
        raise WorkbookRefused(f"{shown} has no cases: one row per child under the heading row.")
    report = SampleReport()
    fields = ("household_ref", "age_band", "legal_status", "cp_category", "selection_route")
    # Two files cannot share one transaction (ATTACH would put private.db in
    # reach of the evidence connection). The identity keys are committed
    # inside the evidence transaction, just before its commit: if that commit
    # then fails, only keys for cases not yet imported are left, which reveal
    # nothing new and which a retry overwrites (INSERT … ON CONFLICT UPDATE).
    with write_transaction(db):
        existing = {row["case_ref"]: row for row in db.query("SELECT * FROM cases WHERE review_id = ?", [review_id])}
        for case in checked:
            ref = case["case_ref"]
            if ref not in existing:
                reviews.add_case(db, review_id=review_id, case_ref=ref, actor=actor,
                                 **{key: case[key] for key in fields})
                report.added.append(ref)
                continue
            before = existing[ref]
            if all(before[key] == case[key] for key in fields):
                report.unchanged.append(ref)
                continue
            db.execute(f"UPDATE cases SET {', '.join(f'{key} = ?' for key in fields)} WHERE id = ?",
                       [*(case[key] for key in fields), before["id"]])
            audit.record(db, actor, "case.update", table="cases", row_id=before["id"],
                         before={key: before[key] for key in ("case_ref", *fields)},
                         after={key: case[key] for key in ("case_ref", *fields)})
            report.updated.append(ref)
        keys = [(review["slug"], case["case_ref"], case["local_identifier"]) for case in checked
                if case["local_identifier"]]
        if keys:
            with write_transaction(private_db):
                private_db.conn.executemany(
                    "INSERT INTO case_identity_keys (review_slug, case_ref, local_identifier) VALUES (?, ?, ?)"
                    " ON CONFLICT (review_slug, case_ref) DO UPDATE SET local_identifier = excluded.local_identifier",
                    keys)
        report.identifiers = len(keys)
        audit.record(db, actor, "cases.import", table="reviews", row_id=review_id,
                     after={"file": shown, "added": len(report.added), "updated": len(report.updated),
                            "unchanged": len(report.unchanged), "local_identifiers": len(keys)})
    return report


def write_sample_template(path: Path | str, *, example_rows: int = 0) -> int:
    """Write an ``.xlsx`` for the case sample: the heading row :func:`import_case_sample`
    reads, then ``example_rows`` fictional rows (``C-001`` …, for trying the
    import out), and a Codes sheet listing every allowed value. Returns the
    number of example rows written.
    """
    from openpyxl import Workbook

    from .excel.sheets import save_workbook

    workbook = Workbook(write_only=True)
    cases_sheet = workbook.create_sheet("Cases")
    cases_sheet.append(list(CASE_COLUMNS))
    statuses = ["cp_plan", "child_in_need", "looked_after", "early_help", "cp_plan", "none"]
    categories = list(vocab.CP_CATEGORIES)
    bands = [band for band in vocab.AGE_BANDS if band != "unborn"]
    for number in range(1, example_rows + 1):
        status = statuses[number % len(statuses)]
        route = "index" if number == 1 else "tracked" if number % 5 == 0 else "sampled"
        cases_sheet.append([f"C-{number:03d}", f"H-{(number + 1) // 2:03d}", bands[number % len(bands)], status,
                            categories[number % len(categories)] if status == "cp_plan" else None, route,
                            f"EXAMPLE-{number:04d}"])
    codes = workbook.create_sheet("Codes")
    codes.append(["column", "code", "label"])
    for column, choices in CODED.items():
        for code, label in choices.items():
            codes.append([column, code, label])
    save_workbook(workbook, Path(path))  # 0600: a filled sample names children's circumstances
    return example_rows
