"""The Excel page of the intake app: download a capture workbook, upload it
filled (row errors listed, nothing half-stored), and the lead's evidence workbook."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from .web_fixtures import csrf_token, login_as, record


def download(client, path):
    response = client.get(path)
    body = response.get_data()
    response.close()
    assert response.status_code == 200, body[:300]
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return load_workbook(io.BytesIO(body))


def filled_capture(web, rows):
    book = download(web, "/excel/capture.xlsx")
    sheet = book["Findings"]
    for offset, values in enumerate(rows):
        for column, value in values.items():
            cell = sheet[f"{column}{offset + 2}"]
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD = {"C": "Testbridge MASH", "D": "C-017", "E": "interview", "F": dt.datetime(2026, 11, 2), "G": "strength",
        "I": "2.1", "J": "=HYPERLINK(\"http://x\") typed offline"}


def upload(web, workbook: bytes, name="capture.xlsx", **extra):
    data = {"csrf_token": csrf_token(web, "/excel/"), "workbook": (io.BytesIO(workbook), name), **extra}
    return web.post("/excel/", data=data, content_type="multipart/form-data")


def test_the_page_offers_what_the_role_may_do(web):
    login_as(web, "police1")
    page = web.get("/excel/").get_data(as_text=True)
    assert "Download a capture workbook" in page and 'id="import-workbook"' in page
    # An inspector's evidence workbook holds their own strand's findings (inspect_kit.policy.export_scope).
    assert "Download the evidence workbook" in page
    assert '<option value="police">' in page and '<option value="health">' not in page
    login_as(web, "admin")
    page = web.get("/excel/").get_data(as_text=True)
    assert "Download the evidence workbook" not in page
    login_as(web, "lead")
    page = web.get("/excel/").get_data(as_text=True)
    assert "Download the evidence workbook" in page and 'value="C-017"' in page


def test_an_inspector_downloads_their_own_capture_workbook_and_it_is_audited(web, review_store):
    login_as(web, "police1")
    book = download(web, "/excel/capture.xlsx")
    marker = next(book["Instructions"].iter_rows(max_row=1, values_only=True))
    assert marker[4] == "testbridge" and marker[6] == "POL-02"
    with review_store.evidence() as db:
        audited = db.execute("SELECT actor, detail FROM audit_log WHERE action = 'export.capture_template'").fetchall()
    assert len(audited) == 1 and audited[0][0] == "police1" and "for POL-02" in audited[0][1]


def test_the_configured_row_limit_refuses_a_big_workbook(review_store):
    from .web_fixtures import make_app

    web = make_app(review_store, EXCEL_IMPORT_MAX_ROWS=1).test_client()
    login_as(web, "police1")
    response = upload(web, filled_capture(web, [GOOD, GOOD]))
    assert response.status_code == 400
    assert "more than 1 filled rows (the configured limit)" in response.get_data(as_text=True)


def test_upload_imports_and_a_second_upload_duplicates_nothing(web, review_store):
    login_as(web, "police1")
    workbook = filled_capture(web, [GOOD])
    response = upload(web, workbook)
    assert response.status_code == 302
    page = web.get("/excel/").get_data(as_text=True)
    assert "Imported capture.xlsx: 1 finding(s)" in page
    upload(web, workbook)
    assert "1 row(s) were already imported" in web.get("/excel/").get_data(as_text=True)
    with review_store.evidence() as db:
        rows = list(db.query("SELECT evidence_text, inspector_id FROM findings"))
        detail = db.execute("SELECT detail FROM audit_log WHERE action = 'finding.create'").fetchone()[0]
    assert len(rows) == 1 and rows[0]["evidence_text"].startswith("=HYPERLINK")
    assert detail == "imported from capture.xlsx, Findings row 2"


def test_row_problems_are_listed_and_nothing_is_stored(web, review_store):
    login_as(web, "police1")
    workbook = filled_capture(web, [GOOD, {**GOOD, "E": "dancing", "D": "C-999"}])
    response = upload(web, workbook)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="problem-table"' in page
    assert "C-999" in page and "Select a valid activity" in page
    assert "Nothing was imported from capture.xlsx" in page
    with review_store.evidence() as db:
        assert db.execute("SELECT count(*) FROM findings").fetchone()[0] == 0


def test_a_file_that_is_not_a_workbook_is_refused_with_a_message(web):
    login_as(web, "police1")
    response = upload(web, b"case,evidence\nC-017,=1+2\n", name="notes.csv")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "is not an Excel workbook (.xlsx)" in page and "Traceback" not in page


def test_a_workbook_made_for_another_inspector_is_refused(web):
    login_as(web, "police1")
    workbook = filled_capture(web, [GOOD])
    login_as(web, "ofsted1")
    response = upload(web, workbook)
    assert response.status_code == 403 and "POL-02" in response.get_data(as_text=True)


def test_a_lead_downloads_the_evidence_workbook(web, review_store, ids):
    record(review_store, "ofsted1", ids, evidence_text="=cmd|' /C calc'!A0")
    login_as(web, "lead")
    book = download(web, "/excel/evidence.xlsx?strand=ofsted")
    findings_sheet = book["Findings"]
    assert findings_sheet.max_row == 2
    assert findings_sheet["K2"].value == "=cmd|' /C calc'!A0" and findings_sheet["K2"].data_type == "s"
    about = dict(book["About this export"].iter_rows(values_only=True))
    assert about["Exported by"] == "lead (Lead inspector)" and about["Source"].startswith("intake app: /excel/")
    with review_store.evidence() as db:
        exported = db.execute("SELECT actor FROM audit_log WHERE action = 'export.evidence_workbook'").fetchone()
    assert exported[0] == "lead"


def test_an_inspectors_evidence_workbook_holds_only_their_strand(web, review_store, ids):
    record(review_store, "ofsted1", ids, submit=True)
    record(review_store, "police1", ids, submit=True)
    login_as(web, "police1")
    book = download(web, "/excel/evidence.xlsx")
    strands = {row[1] for row in book["Findings"].iter_rows(min_row=2, values_only=True)}
    assert strands == {"police"}, strands
    assert "Judgements" not in book.sheetnames
    for path, who in (("/excel/evidence.xlsx?strand=ofsted", "police1"), ("/excel/evidence.xlsx", "admin")):
        login_as(web, who)
        response = web.get(path)
        response.close()
        assert response.status_code == 403, (path, who)


def test_an_unknown_case_is_a_404_page_not_a_traceback(web):
    login_as(web, "lead")
    response = web.get("/excel/evidence.xlsx?case=C-999")
    assert response.status_code == 404 and "C-999" in response.get_data(as_text=True)
