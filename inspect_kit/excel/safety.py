"""Checks on an uploaded workbook *before* openpyxl opens it.

A workbook is refused, with a message saying what to do, when it is not an
``.xlsx`` file (an old ``.xls``, a CSV, a Word file…), when it is
password-protected (Excel then saves an encrypted OLE compound file, not a
zip), or when it looks like a decompression bomb: too many parts, too many
uncompressed bytes in total, or a part that expands more than the allowed
ratio. Python's ``zipfile`` never returns more bytes than a member's declared
size, so checking the declared sizes bounds what openpyxl will inflate.

It is also refused when openpyxl would need too much memory or time to read
it, judged by what each part would cost rather than by the zip's
size. openpyxl loads the whole shared-strings table before the first row: a
1.35 MiB workbook whose table inflated to 201 MiB of tiny strings held
1.2-1.8 GiB for 100-200 s. In ``read_only`` mode it streams a sheet, but keeps
an element per row read and yields an empty row for every gap: a sheet
formatted down to row 1,048,576 took 472 MiB and 18 s to import 20 rows. So
each sheet is limited in uncompressed bytes, declared dimension (its first
bytes), row elements, highest row number and cells; the shared strings in
bytes and count; every other XML part (styles, workbook…) in bytes. Sizes come
from the zip directory; counts from one streaming pass over the inflated part
(bytes counted, no XML parsed), which stops at the first limit passed.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InspectKitError

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
MiB = 1024 * 1024


class WorkbookRefused(InspectKitError):
    """The file as a whole cannot be imported; nothing was stored."""

    status = 400


@dataclass(frozen=True)
class ImportLimits:
    """Configured limits for an imported workbook."""

    max_rows: int = 10_000
    max_file_bytes: int = 50 * MiB
    max_uncompressed_bytes: int = 500 * MiB
    max_ratio: float = 200.0
    max_parts: int = 2_000
    # Small parts compress very well when they are mostly repeated markup;
    # only parts bigger than this are held to max_ratio.
    ratio_floor_bytes: int = 1 * MiB
    # What openpyxl would hold in memory (see the module docstring). A capture
    # row of Excel's is ~1 KB of sheet XML (about 3 KB with inline text), so
    # 10,000 rows fit in 48 MiB; its text goes to the shared strings.
    max_sheet_bytes: int = 48 * MiB
    # Rows in a sheet beyond max_rows, filled or not (the template's prepared
    # rows, 300 by default, and rows only formatted), so a sheet with more
    # rows than max_rows can hold is refused before any row is checked
    # (checking 10,000 rows took 13-27 s). See max_sheet_rows.
    spare_rows: int = 1_000
    # Cells a row may average: the capture sheets have 11 and 12 columns.
    cells_per_row: int = 24
    # 16 MiB of text is ~8,000 rows of long notes; 200,000 strings is far more
    # than 10,000 rows hold (a uuid and two notes each, codes shared). Each
    # string costs openpyxl ~100 bytes on top of its text.
    max_shared_strings_bytes: int = 16 * MiB
    max_shared_strings: int = 200_000
    # styles.xml, workbook.xml, …: parsed whole into Python objects.
    max_other_xml_bytes: int = 4 * MiB

    @property
    def max_sheet_rows(self) -> int:
        """Rows a sheet may have at all, and its highest row number."""
        return self.max_rows + self.spare_rows

    @property
    def max_sheet_cells(self) -> int:
        return self.max_sheet_rows * self.cells_per_row


def check_workbook_file(path: Path | str, limits: ImportLimits | None = None, *, name: str | None = None) -> None:
    """Refuse anything that is not a plain, reasonably sized ``.xlsx`` workbook.

    ``name`` is the file name to show in messages (the upload's name).

    :raises WorkbookRefused: with a message naming the fault and the remedy.
    """
    path = Path(path)
    limits = limits or ImportLimits()
    shown = name or path.name
    size = path.stat().st_size
    if size == 0:
        raise WorkbookRefused(f"{shown} is empty. Choose the workbook you filled in.")
    if size > limits.max_file_bytes:
        raise WorkbookRefused(f"{shown} is {size / MiB:.1f} MiB; workbooks up to {limits.max_file_bytes / MiB:.0f} MiB "
                              "can be imported. Split it into smaller workbooks.")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head == OLE_MAGIC:
        if _is_encrypted_ole(path):
            raise WorkbookRefused(
                f"{shown} is password-protected, so it cannot be checked. Open it in Excel, remove the password "
                "(File → Info → Protect Workbook → Encrypt with Password, clear it), save and upload it again.")
        raise WorkbookRefused(f"{shown} is an old Excel 97–2003 (.xls) file. Open it in Excel and save it as an "
                              "Excel Workbook (.xlsx), or start from a new capture template.")
    if head[:4] != ZIP_MAGIC or not zipfile.is_zipfile(path):
        raise WorkbookRefused(f"{shown} is not an Excel workbook (.xlsx). Save it from Excel as 'Excel Workbook "
                              "(.xlsx)' and upload it again.")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise WorkbookRefused(f"{shown} is damaged and cannot be opened ({error}).") from None
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise WorkbookRefused(f"{shown} is a zip file but not an Excel workbook (.xlsx). Save it from Excel as "
                              "'Excel Workbook (.xlsx)'.")
    if any(member.flag_bits & 0x1 for member in members):
        raise WorkbookRefused(f"{shown} is password-protected (encrypted parts). Remove the password and save "
                              "it again.")
    if len(members) > limits.max_parts:
        raise WorkbookRefused(f"{shown} has {len(members):,} parts (at most {limits.max_parts:,} allowed): "
                              "it does not look like a capture workbook.")
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed_bytes:
        raise WorkbookRefused(
            f"{shown} would expand to {total / MiB:,.0f} MiB (at most {limits.max_uncompressed_bytes / MiB:,.0f} "
            "MiB allowed): refused as a possible decompression bomb. Split it into smaller workbooks.")
    for member in members:
        if member.file_size <= limits.ratio_floor_bytes:
            continue
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > limits.max_ratio:
            raise WorkbookRefused(
                f"{shown}: part {member.filename} expands {ratio:,.0f} times (at most {limits.max_ratio:,.0f} "
                "allowed): refused as a possible decompression bomb.")
    with zipfile.ZipFile(path) as archive:
        for member in members:
            _check_part_cost(archive, member, limits, shown)


SPLIT = "Split the rows into smaller workbooks (each from a new capture workbook, keeping each row's client_uuid)"
HEAD_BYTES = 4096
CHUNK_BYTES = 1 * MiB
# The root element of a part, and its namespace prefix when it has one (<x:worksheet …>).
ROOT_RE = re.compile(rb"<([A-Za-z_][\w.-]*:)?(worksheet|sst)\b")
DIMENSION_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*\bref=\"[A-Z]*\d*:?[A-Z]*(\d+)\"")


def _mib(size: int) -> str:
    return f"{size / MiB:,.1f} MiB" if size >= MiB else f"{max(1, round(size / 1024)):,} KiB"


def _check_part_cost(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: ImportLimits, shown: str) -> None:
    """Refuse a part that openpyxl would need too much memory or time to read.

    :raises WorkbookRefused: naming the part's sheet (or kind), the limit and what to do.
    """
    name = member.filename
    if not name.endswith(".xml") and not name.endswith(".rels"):
        return  # images and other binary parts are not parsed when importing
    if name.startswith("xl/worksheets/"):
        _count_sheet(archive, member, limits, shown)
    elif name == "xl/sharedStrings.xml":
        if member.file_size > limits.max_shared_strings_bytes:
            raise WorkbookRefused(
                f"{shown}: its text table (the typed text of every cell, {name}) is {_mib(member.file_size)} "
                f"uncompressed; at most {_mib(limits.max_shared_strings_bytes)} can be imported at once. {SPLIT}.")
        _count_strings(archive, member, limits, shown)
    elif member.file_size > limits.max_other_xml_bytes:
        raise WorkbookRefused(
            f"{shown}: its part {name} is {_mib(member.file_size)} uncompressed (at most "
            f"{_mib(limits.max_other_xml_bytes)}): it does not look like a capture workbook. Copy your rows into a "
            "new capture workbook and import that.")


def _stream(archive: zipfile.ZipFile, member: zipfile.ZipInfo, patterns: dict[str, list[bytes]],
            on_chunk) -> dict[str, int]:
    """Count ``patterns`` (name -> byte strings) in the inflated part, calling
    ``on_chunk(counts, text)`` after each chunk so the caller can stop early.

    Patterns are counted across chunk boundaries exactly: each chunk is counted
    together with the tail of the one before, minus what the tail alone holds.
    """
    counts = {key: 0 for key in patterns}
    tail = b""
    keep = 1024  # longer than any row tag up to its r="…" in files seen; counted patterns are shorter
    with archive.open(member) as part:
        while True:
            chunk = part.read(CHUNK_BYTES)
            if not chunk:
                break
            text = tail + chunk
            for key, group in patterns.items():
                counts[key] += sum(text.count(p) - tail.count(p) for p in group)
            on_chunk(counts, text)
            tail = text[-keep:]
    return counts


def _prefix(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> tuple[bytes, bytes]:
    """The part's first bytes and its root element's namespace prefix (``b""`` or ``b"x:"``)."""
    with archive.open(member) as part:
        head = part.read(HEAD_BYTES)
    found = ROOT_RE.search(head)
    return head, (found.group(1) or b"") if found else b""


def _tags(prefix: bytes, name: bytes) -> list[bytes]:
    # "<row " / "<row>" / "<row/>", never "<rowBreaks": the name must end there.
    return [b"<" + prefix + name + end for end in (b" ", b">", b"/", b"\t", b"\n", b"\r")]


def _count_sheet(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: ImportLimits, shown: str) -> None:
    head, prefix = _prefix(archive, member)
    where = f"{shown}: one of its sheets ({member.filename})"
    remedy = ("Delete the empty rows below your last filled row (select them, right-click, Delete) and save it "
              f"again; if you need more rows than that, {SPLIT[0].lower()}{SPLIT[1:]}.")
    declared = DIMENSION_RE.search(head)
    if declared and int(declared.group(1)) > limits.max_sheet_rows:
        raise WorkbookRefused(f"{where} reaches down to row {int(declared.group(1)):,} (filled or only "
                              f"formatted); at most {limits.max_sheet_rows:,} rows a sheet are read. {remedy}")
    if member.file_size > limits.max_sheet_bytes:
        raise WorkbookRefused(f"{where} is {_mib(member.file_size)} uncompressed; at most "
                              f"{_mib(limits.max_sheet_bytes)} a sheet can be imported (it usually means rows "
                              f"formatted far below the last filled one, or too many rows). {remedy}")
    # A row number with at least as many digits as the limit; compared exactly below.
    digits = len(str(limits.max_sheet_rows))
    high_row = re.compile(rb"<" + re.escape(prefix) + rb"row\b[^>]*?\sr=\"(\d{" + str(digits).encode() + rb",})\"")

    def check(counts: dict[str, int], text: bytes) -> None:
        if counts["rows"] > limits.max_sheet_rows:
            raise WorkbookRefused(f"{where} has more than {limits.max_sheet_rows:,} rows (filled or only "
                                  f"formatted); at most {limits.max_sheet_rows:,} are read. {remedy}")
        if counts["cells"] > limits.max_sheet_cells:
            raise WorkbookRefused(f"{where} has more than {limits.max_sheet_cells:,} cells (filled or only "
                                  f"formatted); at most {limits.max_sheet_cells:,} are read. {remedy}")
        for found in high_row.finditer(text):
            if int(found.group(1)) > limits.max_sheet_rows:
                raise WorkbookRefused(f"{where} has a row numbered {int(found.group(1)):,} (filled or only "
                                      f"formatted); at most {limits.max_sheet_rows:,} rows a sheet are read. "
                                      f"{remedy}")

    _stream(archive, member, {"rows": _tags(prefix, b"row"), "cells": _tags(prefix, b"c")}, check)


def _count_strings(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: ImportLimits, shown: str) -> None:
    _, prefix = _prefix(archive, member)

    def check(counts: dict[str, int], text: bytes) -> None:
        if counts["strings"] > limits.max_shared_strings:
            raise WorkbookRefused(
                f"{shown}: its text table ({member.filename}) holds more than {limits.max_shared_strings:,} "
                f"separate pieces of text; at most {limits.max_shared_strings:,} can be imported at once. {SPLIT}.")

    _stream(archive, member, {"strings": _tags(prefix, b"si")}, check)


def _is_encrypted_ole(path: Path) -> bool:
    """True when an OLE compound file holds an Office ``EncryptionInfo`` stream.

    Directory entry names are UTF-16LE. The file is already known to be within
    ``max_file_bytes``, so it is read whole.
    """
    return "EncryptionInfo".encode("utf-16-le") in path.read_bytes()
