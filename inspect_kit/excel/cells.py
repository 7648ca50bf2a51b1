"""Safe cells: turn a database value into an Excel cell that cannot bite.

The rules (docs/architecture.md §3):

- every string is a *text* cell (``data_type = "s"``), never a formula or an
  error value: openpyxl turns any string starting with ``=`` into a formula
  and ``"#N/A"`` into an error cell, so those are forced back to text;
- control characters are stripped (openpyxl raises ``IllegalCharacterError``
  on them); tab, newline and carriage return are kept, the carriage return
  written as Excel's ``_x000D_`` so it survives the XML round trip;
- text longer than Excel's 32,767 characters (UTF-16 units, as Excel counts:
  an emoji is 2) is cut, ends with :data:`CUT_MARKER` and is counted
  (openpyxl would cut it silently);
- ISO dates and datetimes in date columns become real Excel dates (from
  1900, Excel's first year; earlier ones, typos such as 0208-03-27, stay
  text); numbers stay numbers; identifiers such as ``"0123"`` stay text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES

MAX_CELL_CHARS = 32_767
CUT_MARKER = " […cut: the full text is in the evidence store]"
# Excel keeps only 15 significant digits: bigger integers are written as text.
MAX_EXACT_INT = 10**15
# Excel has no dates before 1900: openpyxl writes 0208-03-27 as a negative
# serial (shown as #####) and 1899-12-31 as a bare time, so these stay text.
EXCEL_FIRST_YEAR = 1900

# Kept: tab, newline, carriage return. Everything else below 0x20 (and DEL)
# breaks the file or hides text. U+FFFE and U+FFFF are not XML characters:
# openpyxl writes them as they are and Excel then finds the sheet corrupt.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# ST_Xstring escapes: Excel reads "_x000D_" as a carriage return, so a literal
# "_xHHHH_" in user text is itself escaped as "_x005F_xHHHH_".
XSTRING_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
XSTRING_UNESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
# A string needs a forced text cell when openpyxl would not make it one.
_NEEDS_FORCING = frozenset(ERROR_CODES)

# Column kinds: how a column's values are written.
TEXT = "text"          # free text or an identifier: always a text cell
DATE = "date"          # ISO date strings → Excel dates
DATETIME = "datetime"  # ISO datetime strings → Excel datetimes (UTC, no zone)
NUMBER = "number"      # numbers; anything else falls back to text
AUTO = "auto"          # numbers as numbers, strings as text (no date guessing)
KINDS = (TEXT, DATE, DATETIME, NUMBER, AUTO)

_DATE_NAME = re.compile(r"(^|_)(date|day|on|at|due|start|end|dob|time|timestamp|when)$|_date_|^date_")


def kind_for_column(name: str) -> str:
    """Guess a column's kind from its name: date-like names (``collected_on``,
    ``raised_at``, ``event_date``, ``draft_due``) are :data:`DATETIME`-capable
    date columns, others :data:`AUTO`.

    Only the *name* decides, never the content, so free text that happens to
    look like a date stays text.
    """
    return DATE if _DATE_NAME.search(name.lower()) else AUTO


@dataclass
class CellStats:
    """What the writer changed, to be stated in the About sheet."""

    cut_cells: int = 0
    stripped_cells: int = 0
    cut_examples: list[str] = field(default_factory=list)

    def note_cut(self, where: str) -> None:
        self.cut_cells += 1
        if len(self.cut_examples) < 10:
            self.cut_examples.append(where)


def clean_text(value: str, stats: CellStats | None = None, where: str = "") -> str:
    """Return ``value`` fit for a cell: control characters stripped, Excel
    escapes applied, cut to :data:`MAX_CELL_CHARS` with :data:`CUT_MARKER`.

    ``stats`` (when given) counts cut and stripped cells; ``where`` names the
    cell for the About sheet.
    """
    if CONTROL_CHARS.search(value):
        value = CONTROL_CHARS.sub("", value)
        if stats is not None:
            stats.stripped_cells += 1
    if "_x" in value:
        value = XSTRING_ESCAPE.sub(r"_x005F_\1", value)
    if "\r" in value:
        value = value.replace("\r", "_x000D_")
    if len(value) > MAX_CELL_CHARS // 2 and excel_length(value) > MAX_CELL_CHARS:
        # Cut by UTF-16 units; a surrogate pair split by the cut is dropped whole.
        room = 2 * (MAX_CELL_CHARS - len(CUT_MARKER))
        value = value.encode("utf-16-le")[:room].decode("utf-16-le", errors="ignore") + CUT_MARKER
        if stats is not None:
            stats.note_cut(where)
    return value


def excel_length(value: str) -> int:
    """The length Excel counts against its 32,767 limit: UTF-16 units, so a
    character outside the Basic Multilingual Plane (an emoji) counts 2."""
    return len(value.encode("utf-16-le")) // 2


def unescape_text(value: str) -> str:
    """Undo Excel's ``_xHHHH_`` escapes (the reverse of :func:`clean_text`'s)."""
    if "_x" not in value:
        return value
    return XSTRING_UNESCAPE.sub(lambda match: chr(int(match.group(1), 16)), value)


def parse_date(value: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` string as a date, or None if it is not exactly one."""
    if ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def parse_datetime(value: str) -> dt.datetime | None:
    """An ISO 8601 datetime as a naive UTC datetime (Excel has no time zones),
    or None if it is not one."""
    if not ISO_DATETIME.match(value):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


class CellWriter:
    """Makes safe cells for one write-only worksheet and counts what it changed.

    Values that openpyxl already writes safely (numbers, most strings) are
    passed through as plain values, which keeps the streaming writer fast;
    only strings openpyxl would misread (``=…``, ``#N/A``) become explicit
    text cells. Either way, every string lands in a text cell.
    """

    def __init__(self, worksheet: Any, stats: CellStats | None = None):
        self.worksheet = worksheet
        self.stats = stats if stats is not None else CellStats()

    def text(self, value: str, where: str = "") -> Any:
        """A text cell (or plain str openpyxl will store as text) for ``value``."""
        # The common case (clean, short, plain text) does no work beyond these checks.
        if len(value) > MAX_CELL_CHARS // 2 or "_x" in value or "\r" in value or CONTROL_CHARS.search(value):
            value = clean_text(value, self.stats, where)
        if value[:1] == "=" or value in _NEEDS_FORCING:
            cell = WriteOnlyCell(self.worksheet, value)
            cell.data_type = "s"
            return cell
        return value

    @staticmethod
    def date(value: dt.date | dt.datetime) -> dt.date | dt.datetime:
        """A date or (naive UTC) datetime, which openpyxl writes as a real Excel
        date with its own date or date-time number format."""
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value

    def value(self, value: Any, kind: str = AUTO, where: str = "") -> Any:
        """The cell for ``value`` in a column of ``kind`` (one of :data:`KINDS`).

        Never raises for a value SQLite can hold: bytes become a short text
        note, non-finite floats and huge integers become text.
        """
        if value is None:
            return None
        if isinstance(value, str):
            if kind == DATE or kind == DATETIME:
                parsed: dt.date | None = parse_date(value)
                if parsed is None:
                    parsed = parse_datetime(value)
                if parsed is not None and parsed.year >= EXCEL_FIRST_YEAR:
                    return parsed
            return self.text(value, where)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            if kind == TEXT or abs(value) >= MAX_EXACT_INT:
                return self.text(str(value), where)
            return value
        if isinstance(value, float):
            if kind == TEXT or not math.isfinite(value):
                return self.text(repr(value), where)
            return value
        if isinstance(value, (dt.date, dt.datetime)):
            if value.year < EXCEL_FIRST_YEAR:
                return self.text(value.isoformat(), where)
            return self.date(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self.text(f"<binary data, {len(bytes(value)):,} bytes: not exported>", where)
        return self.text(str(value), where)

    def row(self, values: list[Any] | tuple[Any, ...], kinds: list[str] | tuple[str, ...]) -> list[Any]:
        """Safe cells for one row; ``kinds`` gives each column's kind."""
        value = self.value
        return [None if cell is None else value(cell, kind) for cell, kind in zip(values, kinds, strict=True)]
