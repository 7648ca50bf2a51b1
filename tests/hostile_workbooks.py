"""Capture workbooks built to exhaust a server's memory or time.

Each starts from a real, filled capture workbook (saved by openpyxl as Excel
would, with a shared-strings part) and rewrites one part, streaming, so even
the 201 MiB one is built in a few MiB of memory. Used by the tests and by
``bench/hostile_uploads.py``.
"""

from __future__ import annotations

import random
import shutil
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from sqlite_utils import Database

from inspect_kit.excel.capture import write_capture_template

MiB = 1024 * 1024
EXCEL_LAST_ROW = 1_048_576
FINDINGS_PART = "xl/worksheets/sheet2.xml"  # the capture workbook's second sheet
SHARED_STRINGS = "xl/sharedStrings.xml"
CONTENT_TYPES = "[Content_Types].xml"
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def filled_capture(db: Database, review_id: int, path: Path, *, agency: str, case_ref: str, rows: int = 20,
                   inspector_code: str | None = None) -> Path:
    """A capture workbook with ``rows`` valid findings typed in, saved the way Excel saves (shared strings)."""
    write_capture_template(db, review_id, path, finding_rows=rows, event_rows=5, inspector_code=inspector_code)
    book = load_workbook(path)
    sheet = book["Findings"]
    headings = [cell.value for cell in sheet[1]]
    values = {"agency": agency, "case_ref": case_ref, "activity": "Case file review", "collected_on": "2008-11-20",
              "finding_type": "strength", "criteria": "2.1", "evidence_text": "Referral made the same day."}
    for row in range(2, rows + 2):
        for heading, value in values.items():
            cell = sheet.cell(row=row, column=headings.index(heading) + 1)
            cell.value = value
            cell.data_type = "s"
    book.save(path)
    return path


def _rewrite(source: Path, out: Path, name: str, chunks, *, content_types: bytes | None = None) -> Path:
    """Copy the zip ``source`` to ``out`` with part ``name`` replaced (or added) by the byte ``chunks``."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in original.infolist():
            if item.filename == name:
                continue
            data = original.read(item)
            if item.filename == CONTENT_TYPES and content_types is not None:
                data = content_types
            archive.writestr(item.filename, data)
        with archive.open(name, "w", force_zip64=True) as part:
            for chunk in chunks:
                part.write(chunk)
    return out


def shared_strings_bomb(source: Path, out: Path, *, inflated: int = 201 * MiB) -> Path:
    """A shared-strings part of ``inflated`` bytes of tiny strings, about 151 times
    smaller zipped (inside a 200× ratio limit): the 1.35 MiB file that once inflated to 201 MiB.
    (openpyxl writes inline strings; Excel, and this part, use a shared table,
    which openpyxl loads whole before the first row is read.)"""
    with zipfile.ZipFile(source) as original:
        types = original.read(CONTENT_TYPES).decode()
    if SST_TYPE not in types:
        types = types.replace("</Types>", f'<Override PartName="/{SHARED_STRINGS}" ContentType="{SST_TYPE}"/></Types>')
    rnd = random.Random(8)

    def chunks():
        yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        written, index = 0, 0
        while written < inflated:
            block = []
            for _ in range(4096):
                index += 1
                block.append(b"<si><t>a</t></si>" if index % 110 else
                             f"<si><t>{rnd.getrandbits(32):08x}</t></si>".encode())
            data = b"".join(block)
            written += len(data)
            yield data
        yield b"</sst>"

    return _rewrite(source, out, SHARED_STRINGS, chunks(), content_types=types.encode())


def _sheet_with_rows(source: Path, out: Path, extra_rows) -> Path:
    """The Findings sheet with ``extra_rows`` (bytes) after its last row."""
    with zipfile.ZipFile(source) as original:
        sheet = original.read(FINDINGS_PART).decode()
    before, _, after = sheet.partition("</sheetData>")

    def chunks():
        yield before.encode()
        yield from extra_rows
        yield b"</sheetData>" + after.encode()

    return _rewrite(source, out, FINDINGS_PART, chunks())


def formatted_to_last_row(source: Path, out: Path, *, first: int = 100, last: int = EXCEL_LAST_ROW) -> Path:
    """Empty but formatted rows from ``first`` down to Excel's last row (as a sheet
    formatted "to the bottom" is saved by some tools), after the filled rows."""

    def rows():
        for start in range(first, last + 1, 4096):
            yield "".join(f'<row r="{n}" s="1" customFormat="1"><c r="A{n}" s="1"/></row>'
                          for n in range(start, min(start + 4096, last + 1))).encode()

    return _sheet_with_rows(source, out, rows())


def many_rows(source: Path, out: Path, *, first: int = 100, last: int = EXCEL_LAST_ROW - 1,
              agency: str = "Emergency department") -> Path:
    """Rows ``first``..``last`` with one cell typed in, 1,048,575 rows in all by default."""

    def rows():
        for start in range(first, last + 1, 4096):
            yield "".join(f'<row r="{n}"><c r="C{n}" t="inlineStr"><is><t>{agency}</t></is></c></row>'
                          for n in range(start, min(start + 4096, last + 1))).encode()

    return _sheet_with_rows(source, out, rows())


def copy(source: Path, out: Path) -> Path:
    shutil.copyfile(source, out)
    return out


def strings_at_limit(source: Path, out: Path, *, strings: int, total_bytes: int) -> Path:
    """A shared-strings part just inside the limits: ``strings`` random strings in
    about ``total_bytes`` (what a checked workbook can still make openpyxl hold)."""
    with zipfile.ZipFile(source) as original:
        types = original.read(CONTENT_TYPES).decode()
    if SST_TYPE not in types:
        types = types.replace("</Types>", f'<Override PartName="/{SHARED_STRINGS}" ContentType="{SST_TYPE}"/></Types>')
    rnd = random.Random(13)
    text_length = max(1, (total_bytes - 200) // strings - len("<si><t></t></si>"))

    def chunks():
        yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        for start in range(0, strings, 4096):
            yield b"".join(f"<si><t>{rnd.randbytes(text_length // 2 + 1).hex()[:text_length]}</t></si>".encode()
                           for _ in range(min(4096, strings - start)))
        yield b"</sst>"

    return _rewrite(source, out, SHARED_STRINGS, chunks(), content_types=types.encode())


def rows_at_limit(source: Path, out: Path, *, rows: int, cells_per_row: int, total_bytes: int,
                  first: int = 100) -> Path:
    """Rows ``first``.. (``rows`` of them, ``cells_per_row`` inline-text cells each, about
    ``total_bytes`` of sheet XML): a sheet just inside the limits, none of its rows valid."""
    per_cell = max(1, total_bytes // (rows * cells_per_row) - len('<c r="ZZ1000000" t="inlineStr"><is><t></t></is></c>'))
    text = "x" * per_cell
    columns = [chr(ord("A") + i) if i < 26 else "A" + chr(ord("A") + i - 26) for i in range(cells_per_row)]

    def chunks():
        for start in range(first, first + rows, 512):
            yield "".join(
                f'<row r="{n}">' + "".join(f'<c r="{col}{n}" t="inlineStr"><is><t>{text}</t></is></c>'
                                          for col in columns) + "</row>"
                for n in range(start, min(start + 512, first + rows))).encode()

    return _sheet_with_rows(source, out, chunks())
