"""Streaming sheets: a table with a frozen header, autofilter and sensible
column widths, and the "About this export" sheet.

Everything is written with openpyxl's ``write_only`` workbook (docs/architecture.md §3:
the default workbook took 701 MiB for 100,000 rows, write-only 29 MiB). In
write-only mode column widths must be set before the first row, so the first
:data:`WIDTH_SAMPLE_ROWS` rows are held back, measured, and then written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..disk import storage_fault
from ..file_modes import make_private_folder, save_by_rename
from .cells import AUTO, CONTROL_CHARS, TEXT, CellStats, CellWriter, clean_text

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
    """A valid, unique sheet title: no ``[]:*?/\\`` or control characters, at most 31 characters."""
    base = _BAD_SHEET_CHARS.sub("_", CONTROL_CHARS.sub("", name)).strip("'") or "Sheet"
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


class TableWriter:
    """Writes one table sheet row by row: header (bold, frozen, autofilter),
    widths measured on the first :data:`WIDTH_SAMPLE_ROWS` rows.

    Use :meth:`append` for each row (it returns False once ``max_rows`` rows
    are written and a further row is offered: the sheet is then *capped*), then
    :meth:`close`. For rows that arrive in pages (the Datasette export).
    """

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[Column], *, stats: CellStats,
                 max_rows: int | None = None):
        self.worksheet = workbook.create_sheet(sheet_title(title, workbook.sheetnames))
        self.columns = list(columns)
        self.kinds = [column.kind for column in columns]
        self.writer = CellWriter(self.worksheet, stats)
        self.limit = MAX_SHEET_ROWS - 1 if max_rows is None else min(max_rows, MAX_SHEET_ROWS - 1)
        self.rows = 0
        self.capped = False
        self._sample: list[list[Any]] | None = []

    def append(self, values: Sequence[Any]) -> bool:
        """Add one row of database values; False (and nothing written) once the cap is reached."""
        if self.rows >= self.limit:
            self.capped = True
            return False
        cells = self.writer.row(values, self.kinds)
        self.rows += 1
        if self._sample is not None:
            self._sample.append(cells)
            if len(self._sample) >= WIDTH_SAMPLE_ROWS:
                self._flush_sample()
        else:
            self.worksheet.append(cells)
        return True

    def _flush_sample(self) -> None:
        sample, self._sample = self._sample or [], None
        widths = [max(MIN_WIDTH, len(column.name) + 2) for column in self.columns]
        for cells in sample:
            for index, cell in enumerate(cells):
                widths[index] = max(widths[index], min(MAX_WIDTH, _width(cell) + 2))
        for index, width in enumerate(widths, 1):
            self.worksheet.column_dimensions[get_column_letter(index)].width = min(width, MAX_WIDTH)
        self.worksheet.freeze_panes = "A2"
        header = []
        for column in self.columns:
            # A heading is a column name, which a lead's SQL chooses: cleaned
            # like any text (a control character would raise in openpyxl).
            cell = WriteOnlyCell(self.worksheet, clean_text(column.name))
            cell.data_type = "s"
            cell.font = _HEADER_FONT
            header.append(cell)
        self.worksheet.append(header)
        for cells in sample:
            self.worksheet.append(cells)

    def close(self) -> SheetResult:
        """Finish the sheet (the header is written even for no rows) and say what was written."""
        if self._sample is not None:
            self._flush_sample()
        last = get_column_letter(max(len(self.columns), 1))
        self.worksheet.auto_filter.ref = f"A1:{last}{self.rows + 1}"
        return SheetResult(title=self.worksheet.title, rows=self.rows, capped=self.capped)


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
    """Write one table sheet from ``rows`` (consumed lazily) with :class:`TableWriter`.

    At most ``max_rows`` (and never more than Excel's limit) are written;
    ``capped`` says whether more were offered. ``on_row`` is called after
    each row (for progress bars).
    """
    table = TableWriter(workbook, title, columns, stats=stats, max_rows=max_rows)
    append = table.append
    for values in rows:
        if not append(values):
            break
        if on_row is not None:
            on_row()
    return table.close()


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
    """Save to a temporary file in the same folder, then rename into place,
    readable by its owner only (a missing folder is made 0700).

    :raises OSError: the folder cannot be made or written (a full disk, say);
        nothing is left behind, openpyxl's own temporary files included.
    """
    try:
        if not path.parent.is_dir():
            make_private_folder(path.parent)
        # An export is case evidence: 0600 whatever the umask (openpyxl rewrites
        # this file in place, so the mode survives, and so does the rename).
        save_by_rename(path, workbook.save, prefix=".export-", suffix=".xlsx")
    except BaseException:
        discard_workbook(workbook)
        raise


@contextlib.contextmanager
def discarded_on_failure(workbook: Workbook) -> Iterator[Workbook]:
    """Within the block, any exception discards the workbook (see :func:`discard_workbook`).

    :raises StorageFault: the disk filled up while lxml was writing a sheet.
    """
    try:
        yield workbook
    except BaseException as error:
        discard_workbook(workbook)
        # lxml reports a full disk as SerialisationError("IO_ENOSPC"): name it as the disk fault it is.
        fault = storage_fault(error) if type(error).__name__ == "SerialisationError" else None
        if fault is not None:
            raise fault from error
        raise


def discard_workbook(workbook: Workbook) -> None:
    """Close the write-only sheets of a workbook that will not be saved, and
    remove the temporary file each sheet was written to. Left open, each
    printed an "Exception ignored" traceback when collected; and openpyxl
    removes those files only when the process exits, so a server whose disk
    filled up mid-export would keep every one."""
    for worksheet in workbook.worksheets:
        try:
            worksheet.close()
        except Exception:  # already closed, never written, or the disk is full: nothing more to write
            pass
        writer = getattr(worksheet, "_writer", None)
        if writer is not None and getattr(writer, "out", None):
            try:
                writer.cleanup()
            except (OSError, ValueError):  # already removed (saved sheets clean up after themselves)
                pass
