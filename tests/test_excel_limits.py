"""Workbooks that would exhaust memory or time are refused before openpyxl reads them.

The hostile files are the issue's own (tests/hostile_workbooks.py): a 1.35 MiB
workbook whose shared strings inflate to 201 MiB, a sheet formatted down to
row 1,048,576 and a 1,048,575-row sheet; smaller variants reach each count
limit below the size limits. How fast and in how much memory they are refused
by the real server under concurrent uploads is bench/hostile_uploads.py's job.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile

import pytest

from inspect_kit.excel.importer import ImportLimits, WorkbookRefused, import_capture_workbook, read_capture_workbook
from inspect_kit.excel.safety import check_workbook_file
from inspect_kit.web.imports import IMPORT_GATE_EXTENSION

from . import hostile_workbooks as hostile
from .library_fixtures import small_review
from .web_fixtures import csrf_token, login_as


@pytest.fixture
def review(fresh_db):
    return small_review(fresh_db)


@pytest.fixture
def filled(review, tmp_path):
    return hostile.filled_capture(review.db, review.review_id, tmp_path / "capture.xlsx",
                                  agency="Emergency department", case_ref="C-017")


def refused(review, path, *words, limits=None):
    with pytest.raises(WorkbookRefused) as caught:
        import_capture_workbook(review.db, review.health, review.review_id, path, limits=limits)
    for word in words:
        assert word in caught.value.message, caught.value.message
    assert review.db.execute("SELECT count(*) FROM findings").fetchone()[0] == 0
    return caught.value.message


def test_the_filled_workbook_itself_imports(review, filled):
    report = import_capture_workbook(review.db, review.health, review.review_id, filled)
    assert report.findings_created == 20


@pytest.mark.slow
def test_the_issues_shared_strings_bomb_is_refused_by_its_size(review, filled, tmp_path):
    bomb = hostile.shared_strings_bomb(filled, tmp_path / "bomb.xlsx")
    assert bomb.stat().st_size < 1.5 * 2**20
    with zipfile.ZipFile(bomb) as archive:
        table = archive.getinfo("xl/sharedStrings.xml")
    assert table.file_size > 200 * 2**20 and table.file_size / table.compress_size < 200  # inside the zip limits
    message = refused(review, bomb, "201.0 MiB", "at most 16.0 MiB", "Split the rows into smaller workbooks")
    assert "bomb.xlsx" in message


@pytest.mark.slow
def test_a_sheet_formatted_to_the_last_row_is_refused(review, filled, tmp_path):
    formatted = hostile.formatted_to_last_row(filled, tmp_path / "formatted.xlsx")
    refused(review, formatted, "Delete the empty rows below your last filled row", "at most 48.0 MiB")


@pytest.mark.slow
def test_a_million_row_sheet_is_refused_before_any_row_is_checked(review, filled, tmp_path):
    many = hostile.many_rows(filled, tmp_path / "many.xlsx")
    message = refused(review, many, "MiB uncompressed")
    assert "filled rows" not in message  # not the row-by-row check's refusal: no row was read


def test_more_rows_than_a_sheet_may_hold_are_refused_by_count(review, filled, tmp_path):
    # 2,000 formatted rows: small (~120 KB) but past max_rows + spare_rows.
    formatted = hostile.formatted_to_last_row(filled, tmp_path / "formatted.xlsx", first=100, last=2_099)
    limits = ImportLimits(max_rows=50)
    refused(review, formatted, "has more than 1,050 rows", "Delete the empty rows", limits=limits)


def test_one_row_numbered_past_the_limit_is_refused(review, filled, tmp_path):
    # openpyxl yields an empty row for every gap: one row numbered 1,048,576 costs a million.
    gap = hostile.formatted_to_last_row(filled, tmp_path / "gap.xlsx", first=1_048_576, last=1_048_576)
    refused(review, gap, "a row numbered 1,048,576", limits=ImportLimits(max_rows=50))


def test_a_declared_dimension_past_the_limit_is_refused(review, filled, tmp_path):
    with zipfile.ZipFile(filled) as archive:
        sheet = archive.read(hostile.FINDINGS_PART).decode()
    sheet = re.sub(r"<sheetPr>|<sheetPr\b", lambda m: '<dimension ref="A1:K1048576"/>' + m.group(0), sheet, count=1)
    declared = hostile._rewrite(filled, tmp_path / "declared.xlsx", hostile.FINDINGS_PART, [sheet.encode()])
    refused(review, declared, "reaches down to row 1,048,576")


def test_too_many_cells_are_refused(review, filled):
    # The Instructions sheet has 76 rows; no sheet here has more than 100 rows, but some have more than 100 cells.
    refused(review, filled, "more than 100 cells", limits=ImportLimits(max_rows=100, spare_rows=0, cells_per_row=1))


def test_too_many_shared_strings_are_refused_by_count(review, filled, tmp_path):
    strings = hostile.strings_at_limit(filled, tmp_path / "strings.xlsx", strings=5_000, total_bytes=200_000)
    refused(review, strings, "more than 1,000 separate pieces of text", limits=ImportLimits(max_shared_strings=1_000))
    # Within the limits the same table is read (the uuids of its rows are inline, so it imports).
    assert import_capture_workbook(review.db, review.health, review.review_id, strings).findings_created == 20


def test_an_oversized_other_part_is_refused(review, filled):
    # theme1.xml is 10 KiB, styles.xml 3 KiB.
    refused(review, filled, "xl/theme/theme1.xml is 10 KiB uncompressed (at most 4 KiB)",
            "does not look like a capture workbook", limits=ImportLimits(max_other_xml_bytes=4_096))


def test_a_namespace_prefixed_sheet_is_counted_too(tmp_path):
    # Some writers use a prefix for the spreadsheet namespace: <x:row>, not <row>.
    rows = "".join(f'<x:row r="{n}"><x:c r="A{n}"/></x:row>' for n in range(1, 200))
    path = tmp_path / "prefixed.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml",
                         '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                         f"<x:sheetData>{rows}</x:sheetData></x:worksheet>")
    with pytest.raises(WorkbookRefused, match="more than 150 rows"):
        check_workbook_file(path, ImportLimits(max_rows=100, spare_rows=50))
    check_workbook_file(path, ImportLimits(max_rows=200))  # and passes when within them


def test_counting_is_exact_across_chunk_boundaries(tmp_path, monkeypatch):
    from inspect_kit.excel import safety

    monkeypatch.setattr(safety, "CHUNK_BYTES", 7)  # every tag split somewhere
    rows = "".join(f'<row r="{n}"><c r="A{n}"/></row>' for n in range(1, 101))
    path = tmp_path / "split.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", f"<worksheet><sheetData>{rows}</sheetData></worksheet>")
    check_workbook_file(path, ImportLimits(max_rows=50, spare_rows=50))  # exactly 100 rows: allowed
    with pytest.raises(WorkbookRefused, match="more than 99 rows"):
        check_workbook_file(path, ImportLimits(max_rows=50, spare_rows=49))


def test_the_importer_never_reads_past_the_sheet_limit(review, filled, tmp_path, monkeypatch):
    # Even if a file slipped past the checks, openpyxl is not asked for more rows.
    from inspect_kit.excel import importer

    monkeypatch.setattr(importer, "check_workbook_file", lambda *args, **kwargs: None)
    gap = hostile.formatted_to_last_row(filled, tmp_path / "gap.xlsx", first=1_048_576, last=1_048_576)
    checked = read_capture_workbook(review.db, review.review_id, gap, limits=ImportLimits(max_rows=50))
    assert len(checked.findings) == 20


# ----------------------------------------------------------------- the web page


def test_uploads_beyond_the_concurrency_limit_wait_then_are_asked_to_retry(review_store):
    from .web_fixtures import make_app

    app = make_app(review_store, EXCEL_IMPORT_CONCURRENCY=1, EXCEL_IMPORT_WAIT_SECONDS=0.2)
    client = app.test_client()
    login_as(client, "ofsted1")
    download = client.get("/excel/capture.xlsx")
    template = download.get_data()
    download.close()  # the file is sent from disk
    # Another import holds the only slot.
    gate = app.extensions.setdefault(IMPORT_GATE_EXTENSION, threading.BoundedSemaphore(1))
    assert gate.acquire(blocking=False)
    data = {"csrf_token": csrf_token(client, "/excel/"), "workbook": (io.BytesIO(template), "capture.xlsx")}
    busy = client.post("/excel/", data=data, content_type="multipart/form-data")
    page = busy.get_data(as_text=True)
    assert busy.status_code == 503 and "Try again in a minute" in page and "nothing was stored" in page
    gate.release()
    data = {"csrf_token": csrf_token(client, "/excel/"), "workbook": (io.BytesIO(template), "capture.xlsx")}
    done = client.post("/excel/", data=data, content_type="multipart/form-data")
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
