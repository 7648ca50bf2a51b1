"""Streaming sheets: a table with a frozen header, autofilter and sensible
column widths, and the "About this export" sheet.

Everything is written with openpyxl's ``write_only`` workbook (DESIGN.md §3:
the default workbook took 701 MiB for 100,000 rows, write-only 29 MiB). In
write-only mode column widths must be set before the first row, so the first
:data:`WIDTH_SAMPLE_ROWS` rows are held back, measured, and then written.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .cells import AUTO, TEXT, CellStats, CellWriter

WIDTH_SAMPLE_ROWS = 200
MIN_WIDTH = 8
MAX_WIDTH = 60
MAX_SHEET_ROWS = 1_048_576
SHEET_NAME_LIMIT = 31
_BAD_SHEET_CHARS = re.compile(r"[\[\]\:\*\?\/\\]")
_HEADER_FONT = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its heading, its kind (``cells.KINDS``) and a
    description for the data dictionary."""

    name: str
    kind: str = AUTO
    description: str = ""


@dataclass
class SheetResult:
    """What was written to one sheet."""

    title: str
    rows: int
    capped: bool = False
    note: str = ""
    expected_rows: int | None = None

    @property
    def count_checked(self) -> bool | None:
        """True when the rows written equal the database's count (None if not checked)."""
        if self.expected_rows is None:
            return None
        return self.expected_rows == self.rows


def sheet_title(name: str, taken: Iterable[str] = ()) -> str:
    """A valid, unique sheet title: no ``[]:*?/\\``, at most 31 characters."""
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'") or "Sheet"
    base = base[:SHEET_NAME_LIMIT]
    taken_lower = {title.lower() for title in taken}
    title, number = base, 2
    while title.lower() in taken_lower:
        suffix = f" ({number})"
        title = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix
        number += 1
    return title


def _width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, Cell):
        value = value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return 19 if isinstance(value, dt.datetime) else 10
    text = str(value)
    longest_line = max((len(line) for line in text.split("\n")), default=0)
    return longest_line


def write_table(
    workbook: Workbook,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    stats: CellStats,
    max_rows: int | None = None,
    on_row: Callable[[], None] | None = None,
) -> SheetResult:
    """Write one table sheet: header (bold, frozen, autofilter), then ``rows``.

    ``rows`` is consumed lazily; at most ``max_rows`` (and never more than
    Excel's limit) are written and ``capped`` says whether more were offered.
    ``on_row`` is called after each row (for progress bars).
    """
    worksheet = workbook.create_sheet(sheet_title(title, workbook.sheetnames))
    writer = CellWriter(worksheet, stats)
    kinds = [column.kind for column in columns]
    limit = MAX_SHEET_ROWS - 1 if max_rows is None else min(max_rows, MAX_SHEET_ROWS - 1)
    iterator = iter(rows)
    sample: list[list[Any]] = []
    capped = False
    written = 0
    for values in iterator:
        if written + len(sample) >= limit:
            capped = True
            break
        sample.append(writer.row(values, kinds))
        if len(sample) >= WIDTH_SAMPLE_ROWS:
            break
    widths = [max(MIN_WIDTH, len(column.name) + 2) for column in columns]
    for cells in sample:
        for index, cell in enumerate(cells):
            widths[index] = max(widths[index], min(MAX_WIDTH, _width(cell) + 2))
    for index, width in enumerate(widths, 1):
        worksheet.column_dimensions[get_column_letter(index)].width = min(width, MAX_WIDTH)
    worksheet.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(worksheet, column.name)
        cell.data_type = "s"
        cell.font = _HEADER_FONT
        header.append(cell)
    worksheet.append(header)
    for cells in sample:
        worksheet.append(cells)
        written += 1
        if on_row is not None:
            on_row()
    if not capped and len(sample) >= WIDTH_SAMPLE_ROWS:
        row_cells = writer.row
        append = worksheet.append
        for values in iterator:
            if written >= limit:
                capped = True
                break
            append(row_cells(values, kinds))
            written += 1
            if on_row is not None:
                on_row()
    last = get_column_letter(max(len(columns), 1))
    worksheet.auto_filter.ref = f"A1:{last}{written + 1}"
    return SheetResult(title=worksheet.title, rows=written, capped=capped)


def write_about(workbook: Workbook, facts: Sequence[tuple[str, Any]], *, stats: CellStats | None = None) -> None:
    """Write the "About this export" sheet as label/value rows and make it the
    first sheet.

    Call it last, when every count is known: the sheet order is only fixed
    when the workbook is saved.
    """
    worksheet = workbook.create_sheet(sheet_title("About this export", workbook.sheetnames))
    writer = CellWriter(worksheet, stats if stats is not None else CellStats())
    worksheet.column_dimensions["A"].width = 34
    worksheet.column_dimensions["B"].width = 100
    for label, value in facts:
        label_cell = WriteOnlyCell(worksheet, label)
        label_cell.data_type = "s"
        label_cell.font = _HEADER_FONT
        cell = writer.value(value, TEXT if isinstance(value, str) else AUTO)
        if not isinstance(cell, Cell):
            cell = WriteOnlyCell(worksheet, cell)
        cell.alignment = _WRAP
        worksheet.append([label_cell, cell])
    workbook.move_sheet(worksheet.title, -(len(workbook.sheetnames) - 1))


def new_workbook() -> Workbook:
    """A write-only workbook with no sheets yet."""
    return Workbook(write_only=True)


def save_workbook(workbook: Workbook, path: Path) -> None:
    """Save to a temporary file in the same folder, then rename into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".export-", suffix=".xlsx", dir=path.parent)
    os.close(handle)
    try:
        workbook.save(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
