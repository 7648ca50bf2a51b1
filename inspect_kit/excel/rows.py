"""Any columns-and-rows result as a workbook: the ``.xlsx`` of a Datasette page.

The caller feeds rows as they arrive (a page at a time), then closes the
export with the facts for the "About this export" sheet. Column kinds come
from the column names (:func:`~.cells.kind_for_column`): dates become Excel
dates only in date-named columns, every string is text, numbers are numbers.
A row cap, when reached, is stated in the About sheet and in ``capped``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cells import CUT_MARKER, CellStats, kind_for_column
from .sheets import Column, TableWriter, new_workbook, save_workbook, write_about

DEFAULT_MAX_ROWS = 100_000
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class RowsResult:
    """What was written: rows, whether the cap cut the result, cells cut."""

    path: Path
    rows: int
    capped: bool
    cut_cells: int


def export_filename(name: str, day: dt.date | None = None) -> str:
    """A safe file name from a table or query name and the date: ``findings-2026-11-25.xlsx``."""
    stem = _UNSAFE_FILENAME.sub("-", name).strip("-.") or "export"
    return f"{stem[:80]}-{(day or dt.date.today()).isoformat()}.xlsx"


def label_of(value: Any) -> Any:
    """A Datasette expanded foreign key (``{"value": 3, "label": "ED"}``) as its label."""
    if isinstance(value, dict) and "value" in value:
        label = value.get("label")
        return label if label not in (None, "") else value["value"]
    return value


class RowsExport:
    """A streaming one-sheet export with an About sheet.

    :param title: the sheet's name (a table or query name).
    :param columns: the column names, in order.
    :param max_rows: the configured cap (stated in the file when reached).
    """

    def __init__(self, title: str, columns: Sequence[str], *, max_rows: int = DEFAULT_MAX_ROWS):
        self.title = title
        self.columns = list(columns)
        self.max_rows = max_rows
        self.stats = CellStats()
        self.workbook = new_workbook()
        self.table = TableWriter(self.workbook, title, [Column(name, kind_for_column(name)) for name in columns],
                                 stats=self.stats, max_rows=max_rows)

    @property
    def rows(self) -> int:
        return self.table.rows

    @property
    def capped(self) -> bool:
        return self.table.capped

    def add(self, rows: Iterable[Sequence[Any]]) -> bool:
        """Append rows; returns False once the cap is reached (stop sending rows)."""
        append = self.table.append
        for row in rows:
            if not append([label_of(value) for value in row]):
                return False
        return True

    def finish(self, path: Path | str, facts: Sequence[tuple[str, Any]]) -> RowsResult:
        """Close the sheet, write the About sheet (``facts`` first, then counts,
        cap and cut cells) and save to ``path``."""
        path = Path(path)
        sheet = self.table.close()
        about = list(facts)
        about.append(("Rows", f"{sheet.rows:,}"))
        if sheet.capped:
            about.append(("Row cap", f"CAPPED: only the first {self.max_rows:,} rows are in this file (the "
                                     "configured limit). Filter the data, or ask for the limit to be raised."))
        else:
            about.append(("Row cap", f"not reached (limit {self.max_rows:,} rows): every row is here"))
        if self.stats.cut_cells:
            about.append(("Cells cut", f"{self.stats.cut_cells:,} cell(s) longer than Excel's 32,767 characters "
                                       f"were cut and end with '{CUT_MARKER.strip()}'"))
        else:
            about.append(("Cells cut", "none: every text is complete"))
        if self.stats.stripped_cells:
            about.append(("Control characters", f"stripped from {self.stats.stripped_cells:,} cell(s)"))
        about.append(("Text cells", "Every text is a text cell: nothing in this workbook is a formula."))
        about.append(("Times", "Times are UTC; dates are Excel dates."))
        write_about(self.workbook, about, stats=self.stats)
        save_workbook(self.workbook, path)
        return RowsResult(path=path, rows=sheet.rows, capped=sheet.capped, cut_cells=self.stats.cut_cells)
