"""The capture workbook: template, row-level checks, refusals, and the round trip
export → edit a cell → import."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from inspect_kit import chronology, findings
from inspect_kit.errors import Forbidden
from inspect_kit.excel.capture import TEMPLATE_VERSION, write_capture_template
from inspect_kit.excel.cells import unescape_text
from inspect_kit.excel.evidence import export_evidence_workbook
from inspect_kit.excel.importer import ImportLimits, WorkbookInvalid, WorkbookRefused, import_capture_workbook
from inspect_kit.excel.safety import OLE_MAGIC

from .library_fixtures import new_uuid, small_review

INJECTIONS = ["=1+2", "+1", "-1", "@SUM(A1)", "a\tb", "a\nb", "=cmd|' /C calc'!A0",
              '=HYPERLINK("http://evil.example","click")']
FINDING_HEADINGS = ["client_uuid", "strand", "agency", "case_ref", "activity", "collected_on", "finding_type",
                    "impact_on_child", "criteria", "evidence_text", "evaluation_text", "events"]
EVENT_HEADINGS = ["client_uuid", "case_ref", "agency", "practitioner_role", "event_date", "date_precision",
                  "event_type", "description", "source_of_information", "key_event", "missed_opportunity",
                  "good_practice"]


@pytest.fixture
def review(fresh_db):
    return small_review(fresh_db)


@pytest.fixture
def template(review, tmp_path):
    path = tmp_path / "capture.xlsx"
    write_capture_template(review.db, review.review_id, path, finding_rows=20, event_rows=20)
    return path


def fill(path, findings_rows=(), event_rows=(), out=None):
    """Type rows into a template like a user in Excel (text typed as text)."""
    book = load_workbook(path)
    for sheet, headings, rows in (("Findings", FINDING_HEADINGS, findings_rows),
                                  ("Chronology", EVENT_HEADINGS, event_rows)):
        for offset, values in enumerate(rows):
            for column, heading in enumerate(headings, 1):
                if heading in values:
                    cell = book[sheet].cell(row=offset + 2, column=column)
                    cell.value = values[heading]
                    if isinstance(values[heading], str):
                        cell.data_type = "s"  # what Excel stores for typed text, even "=..."
    out = out or path
    book.save(out)
    return out


def a_finding(**overrides):
    return {"agency": "Emergency department", "case_ref": "C-017", "activity": "Case file review",
            "collected_on": dt.datetime(2008, 11, 20), "finding_type": "strength", "criteria": "2.1",
            "evidence_text": "Referral made the same day.", **overrides}


def an_event(**overrides):
    return {"case_ref": "C-017", "agency": "Elm GP practice", "event_date": dt.datetime(2008, 5, 1),
            "event_type": "GP appointment", "description": "Bruise seen; no referral.", "missed_opportunity": "yes",
            **overrides}


def test_template_has_marker_dropdowns_and_uuids(review, template):
    book = load_workbook(template)
    assert book.sheetnames == ["Instructions", "Findings", "Chronology", "Lists"]
    marker = next(book["Instructions"].iter_rows(max_row=1, values_only=True))
    assert marker[:5] == ("inspect_kit capture workbook", "template version", TEMPLATE_VERSION, "review", "testshire")
    assert book["Lists"].sheet_state == "hidden"
    findings_sheet = book["Findings"]
    assert [cell.value for cell in findings_sheet[1]] == FINDING_HEADINGS
    uuids = [findings_sheet.cell(row=row, column=1).value for row in range(2, 22)]
    assert len(set(uuids)) == 20
    validated = {str(validation.sqref).split(":")[0][0]: validation.formula1
                 for validation in findings_sheet.data_validations.dataValidation}
    # strand B, agency C, case D, activity E, finding type G, impact H, criteria I
    assert set(validated) == {"B", "C", "D", "E", "G", "H", "I"}
    lists = {row[0]: row for row in zip(*book["Lists"].iter_rows(values_only=True), strict=True)}
    assert "Emergency department" in lists["agency"] and "C-018" in lists["case_ref"] and "2.3" in lists["criteria"]
    assert "interview" in lists["activity"]


def test_import_creates_records_authored_by_the_importer_and_is_idempotent(review, template):
    fill(template, [a_finding(criteria="2.1; 2.3 (secondary)")], [an_event()])
    report = import_capture_workbook(review.db, review.health, review.review_id, template)
    assert (report.findings_created, report.events_created) == (1, 1)
    finding = findings.get_finding(review.db, 1)
    assert finding["inspector"] == "HLT-01" and finding["activity"] == "case_file_review"
    assert finding["criteria"] == {"2.1": "primary", "2.3": "secondary"}
    assert finding["collected_on"] == "2008-11-20"
    event = chronology.get_event(review.db, 1)
    assert event["event_type"] == "gp_appointment" and event["missed_opportunity"] == 1
    again = import_capture_workbook(review.db, review.health, review.review_id, template)
    assert (again.findings_created, again.findings_existing, again.events_existing) == (0, 1, 1)
    assert review.db.execute("SELECT count(*) FROM findings").fetchone()[0] == 1
    details = [row["detail"] for row in review.db.query(
        "SELECT detail FROM audit_log WHERE action IN ('finding.create', 'chronology_event.create') ORDER BY id")]
    assert details == ["imported from capture.xlsx, Findings row 2", "imported from capture.xlsx, Chronology row 2"]
    summary = list(review.db.query("SELECT * FROM audit_log WHERE action = 'import.capture_workbook'"))
    assert len(summary) == 2 and summary[0]["actor"] == "health1" and "capture.xlsx" in summary[0]["detail"]


@pytest.mark.parametrize("overrides, column, words", [
    ({"agency": "Nowhere clinic"}, "agency", "not one of this review's agencies"),
    ({"case_ref": "C-999"}, "case_ref", "not one of this review's cases"),
    ({"activity": "dancing"}, "activity", "Select a valid activity: Case file review"),
    ({"collected_on": "27/03/2008"}, "collected_on", "must be a real date, for example"),
    ({"collected_on": dt.datetime(2999, 1, 1)}, "collected_on", "today or in the past"),
    ({"finding_type": None}, "finding_type", "Select the type of finding"),
    ({"evidence_text": None}, "evidence_text", "Enter the evidence"),
    ({"criteria": "9.9"}, "criteria", "'9.9' is not one of them"),
    ({"strand": "police"}, "strand", "records evidence for 'health'"),
    ({"client_uuid": "not-a-uuid"}, "client_uuid", "is not a uuid"),
])
def test_row_errors_name_sheet_row_column_and_store_nothing(review, template, overrides, column, words):
    fill(template, [a_finding(), a_finding(**overrides)])
    with pytest.raises(WorkbookInvalid) as raised:
        import_capture_workbook(review.db, review.health, review.review_id, template)
    messages = [str(error) for error in raised.value.errors]
    assert any(m.startswith(f"Findings, row 3, column {column}: ") and words in m for m in messages), messages
    assert review.db.execute("SELECT count(*) FROM findings").fetchone()[0] == 0
    assert "Nothing was imported" in raised.value.message


def test_every_bad_row_is_reported_at_once(review, template):
    fill(template, [a_finding(activity="x"), a_finding(), a_finding(finding_type="y")],
         [an_event(event_type="nonsense", key_event="perhaps")])
    with pytest.raises(WorkbookInvalid) as raised:
        import_capture_workbook(review.db, review.health, review.review_id, template)
    where = {(error.sheet, error.row, error.column) for error in raised.value.errors}
    assert where == {("Findings", 2, "activity"), ("Findings", 4, "finding_type"),
                     ("Chronology", 2, "event_type"), ("Chronology", 2, "key_event")}


def test_partial_imports_the_good_rows(review, template):
    fill(template, [a_finding(activity="x"), a_finding()])
    report = import_capture_workbook(review.db, review.health, review.review_id, template, partial=True)
    assert report.findings_created == 1 and [error.row for error in report.skipped] == [2]


def test_a_copied_uuid_is_an_error(review, template):
    book = load_workbook(template)
    uuid = book["Findings"]["A2"].value
    fill(template, [a_finding(), a_finding(client_uuid=uuid)])
    with pytest.raises(WorkbookInvalid, match="1 problem"):
        import_capture_workbook(review.db, review.health, review.review_id, template)


def test_a_template_for_one_inspector_refuses_another(review, tmp_path):
    path = tmp_path / "pol.xlsx"
    write_capture_template(review.db, review.review_id, path, inspector_code="POL-02", finding_rows=3, event_rows=3)
    fill(path, [a_finding()])
    with pytest.raises(Forbidden, match="POL-02"):
        import_capture_workbook(review.db, review.health, review.review_id, path)
    assert import_capture_workbook(review.db, review.police, review.review_id, path).findings_created == 1


# ----------------------------------------------------------------- refusals


def refused(review, path, match, limits=None):
    with pytest.raises(WorkbookRefused, match=match):
        import_capture_workbook(review.db, review.health, review.review_id, path, limits=limits)
    assert review.db.execute("SELECT count(*) FROM findings").fetchone()[0] == 0


def test_refuses_a_file_that_is_not_xlsx(review, tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("case,evidence\nC-017,=1+2\n")
    refused(review, path, "not an Excel workbook")
    docx = tmp_path / "report.xlsx"
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    refused(review, docx, "not an Excel workbook")


def test_refuses_a_password_protected_workbook(review, tmp_path):
    # Excel saves an encrypted workbook as an OLE compound file with an EncryptionInfo stream.
    path = tmp_path / "locked.xlsx"
    path.write_bytes(OLE_MAGIC + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 1000)
    refused(review, path, "password-protected")
    old = tmp_path / "old.xls"
    old.write_bytes(OLE_MAGIC + b"\x00" * 2000)
    refused(review, old, "Excel 97")


def test_refuses_a_decompression_bomb_before_opening_it(review, template, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            archive.writestr(item, source.read(item))
        archive.writestr("xl/media/padding.bin", b"\0" * (20 * 1024 * 1024))
    refused(review, bomb, "decompression bomb")
    refused(review, template, "decompression bomb", ImportLimits(max_uncompressed_bytes=10_000))


def test_refuses_more_rows_than_the_limit(review, template):
    fill(template, [a_finding() for _ in range(6)])
    refused(review, template, "more than 5 filled rows", ImportLimits(max_rows=5))


def test_refuses_an_older_template_version_saying_which_is_expected(review, template):
    book = load_workbook(template)
    book["Instructions"]["C1"] = TEMPLATE_VERSION - 1
    book.save(template)
    refused(review, template, f"version {TEMPLATE_VERSION - 1}; this inspect_kit expects version {TEMPLATE_VERSION}")


def test_refuses_a_workbook_that_is_not_a_capture_workbook(review, tmp_path):
    path = tmp_path / "other.xlsx"
    book = Workbook()
    book.active["A1"] = "hello"
    book.save(path)
    refused(review, path, "not an inspect_kit capture workbook")


def test_refuses_a_renamed_heading(review, template):
    book = load_workbook(template)
    book["Findings"]["J1"] = "evidence"
    book.save(template)
    refused(review, template, "no column evidence_text")


# ----------------------------------------------------------------- round trip


def test_round_trip_export_edit_a_cell_import(review, template, tmp_path):
    """Record through the library, export, copy the exported rows into a capture
    workbook, edit one cell, import: the unchanged rows are recognised (same
    uuid, same content: nothing duplicated) and the text, dates and identifiers
    come back exactly; the edited row is a new record."""
    long_text = "Long text — " + "ünïcode 😀 " * 1500
    texts = [*INJECTIONS, "0123", long_text]
    for text in texts:
        fields = review.finding(evidence_text=text, criteria={"2.1": "primary"})
        findings.record_finding(review.db, review.health, fields, client_uuid=new_uuid())
    exported = tmp_path / "export.xlsx"
    export_evidence_workbook(review.db, review.lead, review.review_id, exported)
    book = load_workbook(exported)
    sheet = book["Findings"]
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, values, strict=True)) for values in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(row["collected_on"], dt.datetime) for row in rows)
    assert [unescape_text(row["evidence_text"]) for row in rows] == [text.strip() for text in texts]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"

    capture_rows = [{heading: row.get(heading) for heading in FINDING_HEADINGS} for row in rows]
    edited = dict(capture_rows[0], client_uuid=str(__import__("uuid").uuid4()),
                  evidence_text="=HYPERLINK(\"http://edited.example\") edited in Excel")
    filled = fill(template, [*capture_rows, edited], out=tmp_path / "capture-filled.xlsx")
    report = import_capture_workbook(review.db, review.health, review.review_id, filled)
    assert (report.findings_created, report.findings_existing) == (1, len(texts))
    stored = list(review.db.query("SELECT evidence_text, collected_on FROM findings ORDER BY id"))
    assert [row["evidence_text"] for row in stored[:-1]] == [text.strip() for text in texts]
    assert stored[-1]["evidence_text"].startswith("=HYPERLINK") and stored[-1]["collected_on"] == "2008-11-20"

    again = tmp_path / "export-again.xlsx"
    export_evidence_workbook(review.db, review.lead, review.review_id, again)
    second = load_workbook(again)["Findings"]
    for row in second.iter_rows(min_row=2):
        assert row[header.index("evidence_text")].data_type == "s"
        assert row[header.index("collected_on")].is_date
    assert any(cell.value == "0123" for cell in second["K"])


def test_round_trip_of_chronology_flags_and_dates(review, template, tmp_path):
    fill(template, event_rows=[an_event(description="=cmd|' /C calc'!A0", key_event="yes", good_practice="no")])
    import_capture_workbook(review.db, review.health, review.review_id, template)
    exported = tmp_path / "export.xlsx"
    export_evidence_workbook(review.db, review.lead, review.review_id, exported)
    sheet = load_workbook(exported)["Chronology"]
    header = [cell.value for cell in sheet[1]]
    row = {name: sheet.cell(row=2, column=index + 1) for index, name in enumerate(header)}
    assert row["description"].value == "=cmd|' /C calc'!A0" and row["description"].data_type == "s"
    assert row["event_date"].is_date and row["event_date"].value == dt.datetime(2008, 5, 1)
    assert row["key_event"].value == 1 and row["good_practice"].value == 0


def test_formula_typed_in_excel_is_imported_as_its_text(review, template):
    book = load_workbook(template)
    for column, value in zip("CDEFGIJ", ["Emergency department", "C-017", "interview", dt.datetime(2008, 1, 2),
                                          "context", "2.2"], strict=False):
        book["Findings"][f"{column}2"] = value
    book["Findings"]["J2"] = "=1+2"  # a real formula cell, as Excel saves one
    assert book["Findings"]["J2"].data_type == "f"
    buffer = io.BytesIO()
    book.save(buffer)
    template.write_bytes(buffer.getvalue())
    import_capture_workbook(review.db, review.health, review.review_id, template)
    assert review.db.execute("SELECT evidence_text FROM findings").fetchone()[0] == "=1+2"


def test_a_damaged_sheet_is_refused_not_a_traceback(review, template, tmp_path):
    """read_only openpyxl parses a sheet only as its rows are read: a damaged
    sheet fails after load_workbook succeeded, and must still be refused cleanly."""
    fill(template, [a_finding()])
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(damaged, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet2.xml":  # the Findings sheet, cut in half
                data = data[: len(data) // 2]
            target.writestr(name, data)
    with pytest.raises(WorkbookRefused, match="Findings sheet is damaged"):
        import_capture_workbook(review.db, review.health, review.review_id, damaged)
    assert review.db.execute("SELECT count(*) FROM findings").fetchone()[0] == 0


def test_more_problems_than_are_listed_are_still_counted(review, template, monkeypatch):
    from inspect_kit.excel import importer

    monkeypatch.setattr(importer, "MAX_ERRORS_LISTED", 2)
    fill(template, [a_finding(activity="x"), a_finding(activity="y"), a_finding(activity="z")])
    with pytest.raises(WorkbookInvalid) as raised:
        import_capture_workbook(review.db, review.health, review.review_id, template)
    assert len(raised.value.errors) == 2 and raised.value.total_errors == 3
    assert "3 problem(s) in 3 of 3 row(s)" in raised.value.message
    assert "The first 2 are listed." in raised.value.message


def test_template_names_from_the_database_are_text_never_formulas(review, tmp_path):
    """Review titles and agency names are typed by people: in the template they stay text."""
    review.db.execute("UPDATE reviews SET title = '=HYPERLINK(\"http://evil.example\",\"Review\")'")
    review.db.execute("UPDATE agencies SET name = '=cmd|'' /C calc''!A0' WHERE id = ?", [review.gp])
    path = tmp_path / "capture.xlsx"
    write_capture_template(review.db, review.review_id, path, finding_rows=3, event_rows=3)
    book = load_workbook(path)
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    texts = {cell.value for sheet in book for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)}
    assert "=cmd|' /C calc'!A0" in texts
    assert any(text.startswith('=HYPERLINK("http://evil.example"') for text in texts)
