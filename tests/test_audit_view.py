"""The audit log on the web: leads read it whole, administrators
who/when/what; filtered by who, what, record and date; exported as .xlsx
(itself audited); another review's rows are not shown."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
from openpyxl import load_workbook

from inspect_kit import audit_search
from inspect_kit.actors import Actor
from inspect_kit.errors import Forbidden, ValidationError

from .web_fixtures import login_as, record

MARKER = "marmosetauditmark"


@pytest.fixture
def recorded(review_store, ids):
    return record(review_store, "ofsted1", ids, submit=True, evidence_text=f"Seen {MARKER} on the file.")


def rows_of(page: str) -> list[list[str]]:
    body = page.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in body.split("</tr>")[:-1]]


def test_the_lead_reads_everything_and_filters(web, recorded):
    login_as(web, "lead")
    page = web.get("/audit?what=finding.create").get_data(as_text=True)
    assert MARKER in page
    assert all("finding.create" in row[3] for row in rows_of(page)) and rows_of(page)
    none = web.get("/audit?who=nobody").get_data(as_text=True)
    assert 'id="audit-count">0 rows' in none
    by_record = web.get(f"/audit?table=findings&row={recorded['id']}").get_data(as_text=True)
    assert all(row[4] == "findings" and row[5] == str(recorded["id"]) for row in rows_of(by_record))
    assert web.get("/audit?from=2000-01-01&to=2000-01-02").get_data(as_text=True).count("<tr class=") == 1  # heading
    bad = web.get("/audit?from=yesterday&row=x")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    assert 'value="yesterday"' in bad.get_data(as_text=True)


def test_administrators_see_who_when_what_only(web, recorded):
    login_as(web, "admin")
    page = web.get("/audit").get_data(as_text=True)
    assert "finding.create" in page and "ofsted1" in page
    assert MARKER not in page and "before" not in re.findall(r"<th[^>]*>(\w+)</th>", page)
    response = web.get("/audit.xlsx")
    content = response.data
    response.close()
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    sheet = workbook["Audit log"]
    headings = next(sheet.iter_rows(values_only=True))
    text = " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)
    workbook.close()
    assert headings == ("id", "at", "actor", "action", "table_name", "row_id")
    assert MARKER not in text and "finding.create" in text
    login_as(web, "lead")
    assert "audit.export" in web.get("/audit?what=audit.export").get_data(as_text=True)


def test_inspectors_may_not_read_it(web, recorded):
    login_as(web, "ofsted1")
    assert web.get("/audit").status_code == 403
    assert web.get("/audit.xlsx").status_code == 403


def test_the_library_refuses_and_scopes(review_store, ids, recorded):
    with contextlib.closing(review_store.evidence()) as db:
        with pytest.raises(Forbidden):
            audit_search.search(db, Actor("x", "inspector", "ofsted"), audit_search.AuditFilter())
        with pytest.raises(ValidationError):
            audit_search.AuditFilter.from_args({"row": "1; DROP TABLE audit_log"})
        lead = Actor("lead", "lead", "ofsted")
        other = db.execute("SELECT id FROM reviews WHERE slug = 'elsewhere'").fetchone()[0]
        mine, _ = audit_search.search(db, lead, audit_search.AuditFilter(review_id=ids.review_id), limit=10_000)
        theirs, _ = audit_search.search(db, lead, audit_search.AuditFilter(review_id=other), limit=10_000)
        assert any(MARKER in (row["after"] or "") for row in mine)
        assert not any(MARKER in (row["after"] or "") for row in theirs)
        assert any(row["table_name"] == "reviews" and row["row_id"] == other for row in theirs)
        assert not any(row["table_name"] == "reviews" and row["row_id"] == other for row in mine)
        prefix, _ = audit_search.search(db, lead, audit_search.AuditFilter(action="finding."), limit=10_000)
        assert prefix and all(row["action"].startswith("finding.") for row in prefix)
