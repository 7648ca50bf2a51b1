"""The review's evidence workbook, read back with openpyxl."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from openpyxl import load_workbook

from inspect_kit import alerts, audit, chronology, findings, judgements, qa
from inspect_kit.actors import SYSTEM
from inspect_kit.errors import Forbidden, NotFound
from inspect_kit.excel.cells import CUT_MARKER, MAX_CELL_CHARS
from inspect_kit.excel.evidence import EvidenceFilter, export_evidence_workbook, planned_rows

from .conftest import copy_store
from .library_fixtures import new_uuid, small_review

PAYLOADS = ["=1+2", "+1", "-1", "@SUM(A1)", "tab\tinside", "cr\rinside", "=cmd|' /C calc'!A0",
            '=HYPERLINK("http://evil.example","click")', "0123", "Zoë 😀 — ünïcode"]


@pytest.fixture
def review(fresh_db):
    review = small_review(fresh_db)
    for payload in PAYLOADS:
        # A lone CR is refused now (the one text rule), but stores written before it may hold one.
        stored = findings.record_finding(review.db, review.health, review.finding(
            evidence_text=payload.replace("\r", " ")), client_uuid=new_uuid()).record
        review.db.execute("UPDATE findings SET evidence_text = ? WHERE id = ?", [payload, stored["id"]])
    police = findings.record_finding(review.db, review.police, review.finding(
        agency_id=review.gp, case_id=review.sibling, finding_type="area_for_improvement",
        criteria={"2.1": "primary", "2.3": "secondary"}), client_uuid=new_uuid(), submit=True).record
    qa.accept(review.db, review.lead, police["id"])
    chronology.record_event(review.db, review.health, {
        "case_id": review.infant, "agency_id": review.ed, "event_date": "2008-05-01", "event_type": "ed_attendance",
        "description": "=2+2 seen in ED", "key_event": 1}, client_uuid=new_uuid(), review_id=review.review_id)
    chronology.record_event(review.db, review.police, {
        "case_id": review.sibling, "agency_id": review.gp, "event_date": "2008-06-01", "event_type": "gp_appointment",
        "description": "GP visit"}, client_uuid=new_uuid(), review_id=review.review_id)
    # Inspectors raise alerts; leads progress them (inspect_kit.policy).
    alerts.raise_alert(review.db, review.police, review_id=review.review_id, urgency="urgent",
                       concern="=HYPERLINK(\"x\") child at risk", case_id=review.infant)
    judgements.record_judgement(review.db, review.lead, review_id=review.review_id, criterion_code="2.1",
                                scope="partnership", narrative="@narrative", proposed_grade=2)
    return review


def export(review, tmp_path, actor=None, **wanted):
    path = tmp_path / "evidence.xlsx"
    result = export_evidence_workbook(review.db, actor or review.lead, review.review_id, path,
                                      wanted=EvidenceFilter(**wanted))
    return result, load_workbook(path)


def rows_of(book, sheet):
    values = list(book[sheet].iter_rows(values_only=True))
    header = values[0]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


def test_sheets_counts_and_about(review, tmp_path):
    result, book = export(review, tmp_path)
    assert book.sheetnames == ["About this export", "Summary – criteria", "Summary – agencies", "Findings",
                               "Chronology", "Safeguarding alerts", "Judgements", "Data dictionary"]
    counts = {sheet.title: sheet.rows for sheet in result.sheets}
    assert counts["Findings"] == len(PAYLOADS) + 1
    assert counts["Chronology"] == 2 and counts["Safeguarding alerts"] == 1 and counts["Judgements"] == 1
    assert result.counts_ok
    for sheet in result.sheets:
        assert book[sheet.title].max_row == sheet.rows + 1
    about = dict(book["About this export"].iter_rows(values_only=True))
    assert about["Exported by"] == "lead (Lead inspector)"
    count = len(PAYLOADS) + 1
    assert about["Sheet: Findings"] == f"{count} rows; the database holds {count}: count checked"
    assert about["Cells cut"].startswith("none")
    assert "every QA status" in about["Filters"]


def test_no_formula_anywhere_and_payloads_come_back_as_text(review, tmp_path):
    _, book = export(review, tmp_path)
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    texts = [row["evidence_text"] for row in rows_of(book, "Findings")]
    stored = [text for (text,) in review.db.execute("SELECT evidence_text FROM findings ORDER BY id")]
    from inspect_kit.excel.cells import unescape_text

    assert [unescape_text(text) for text in texts] == stored
    assert "0123" in texts
    assert rows_of(book, "Safeguarding alerts")[0]["concern"].startswith("=HYPERLINK")
    assert rows_of(book, "Judgements")[0]["narrative"] == "@narrative"


def test_findings_columns_have_types(review, tmp_path):
    _, book = export(review, tmp_path)
    sheet = book["Findings"]
    header = [cell.value for cell in sheet[1]]
    row = {name: sheet.cell(row=len(PAYLOADS) + 2, column=index + 1) for index, name in enumerate(header)}
    assert row["collected_on"].is_date and row["collected_on"].value == dt.datetime(2008, 11, 20)
    assert row["created_at"].is_date
    assert row["version"].data_type == "n" and row["version"].value == 1
    assert row["criteria"].value == "2.1; 2.3 (secondary)"
    assert row["qa_status"].value == "accepted"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")


def test_summaries(review, tmp_path):
    _, book = export(review, tmp_path)
    coverage = {row["criterion"]: row for row in rows_of(book, "Summary – criteria")}
    assert coverage["2.1"]["health"] == len(PAYLOADS) and coverage["2.1"]["police"] == 1
    assert coverage["2.3"]["police"] == 1 and coverage["2.1"]["strands_with_evidence"] == 2
    balance = {row["agency"]: row for row in rows_of(book, "Summary – agencies")}
    assert balance["Emergency department"]["strength"] == len(PAYLOADS)
    assert balance["Elm GP practice"]["area_for_improvement"] == 1


def test_the_summaries_carry_native_charts_over_their_own_cells(review, tmp_path):
    _, book = export(review, tmp_path)
    criteria_sheet, agencies_sheet = book["Summary – criteria"], book["Summary – agencies"]
    (coverage,), (balance,) = criteria_sheet._charts, agencies_sheet._charts
    header = [cell.value for cell in criteria_sheet[1]]
    strands = header[2:-1]
    rows = criteria_sheet.max_row
    # One series per strand, titled by its header cell, over the strand's column, one bar per criterion.
    assert [series.tx.strRef.f for series in coverage.series] == [
        f"'Summary – criteria'!{chr(ord('C') + i)}1" for i in range(len(strands))]
    assert [series.val.numRef.f for series in coverage.series] == [
        f"'Summary – criteria'!${chr(ord('C') + i)}$2:${chr(ord('C') + i)}${rows}" for i in range(len(strands))]
    assert coverage.series[0].cat.numRef.f == f"'Summary – criteria'!$A$2:$A${rows}"
    # Told apart without colour: the first series solid, each other one its own pattern.
    patterns = [series.graphicalProperties.pattFill.prst if series.graphicalProperties.pattFill else "solid"
                for series in coverage.series]
    assert len(set(patterns)) == len(patterns)
    assert [agencies_sheet.cell(1, column).value for column in (3, 4, 5)] == [
        "strength", "area_for_improvement", "serious_weakness"]
    assert len(balance.series) == 3 and balance.type == "bar"
    assert balance.series[0].val.numRef.f == f"'Summary – agencies'!$C$2:$C${agencies_sheet.max_row}"


def test_summaries_leave_withdrawn_findings_out(review, tmp_path):
    """As the coverage and balance questions do: counted, a withdrawn finding hid an empty cell."""
    police = review.db.execute("SELECT id FROM findings WHERE public_id = 'EF-POL-02-0001'").fetchone()[0]
    qa.withdraw(review.db, review.police, police, "recorded against the wrong case")  # its author
    _, book = export(review, tmp_path)
    coverage = {row["criterion"]: row for row in rows_of(book, "Summary – criteria")}
    assert coverage["2.3"]["police"] == 0 and coverage["2.1"]["police"] == 0
    assert coverage["2.1"]["strands_with_evidence"] == 1
    assert "Elm GP practice" not in {row["agency"] for row in rows_of(book, "Summary – agencies")}
    assert "EF-POL-02-0001" in {row["public_id"] for row in rows_of(book, "Findings")}  # still listed


def test_filters_accepted_only_strand_and_case(review, tmp_path):
    result, book = export(review, tmp_path, accepted_only=True)
    assert [row["public_id"] for row in rows_of(book, "Findings")] == ["EF-POL-02-0001"]
    result, book = export(review, tmp_path, strand="health", case_ref="C-017")
    assert len(rows_of(book, "Findings")) == len(PAYLOADS)
    assert [row["case_ref"] for row in rows_of(book, "Chronology")] == ["C-017"]
    # C-017's findings and event, its alert and the (partnership-wide) judgement.
    assert planned_rows(review.db, review.lead, review.review_id, EvidenceFilter(case_ref="C-017")) == \
        len(PAYLOADS) + 1 + 1 + 1


def test_an_inspector_exports_only_their_strand(review, tmp_path):
    result, book = export(review, tmp_path, actor=review.police)
    assert {row["strand"] for row in rows_of(book, "Findings")} == {"police"}
    # Alerts are shared with every strand; judgements are for leads and moderators (inspect_kit.policy).
    assert "Safeguarding alerts" in book.sheetnames and "Judgements" not in book.sheetnames
    about = dict(book["About this export"].iter_rows(values_only=True))
    assert "limited to strand police" in about["Filters"]
    with pytest.raises(Forbidden):
        export(review, tmp_path, actor=review.police, strand="health")


def test_unknown_case_is_a_clear_error(review, tmp_path):
    with pytest.raises(NotFound, match="C-999"):
        export(review, tmp_path, case_ref="C-999")


def test_every_export_is_audited(review, tmp_path):
    result, _ = export(review, tmp_path)
    rows = list(review.db.query("SELECT * FROM audit_log WHERE id = ?", [result.audit_id]))
    assert rows[0]["action"] == "export.evidence_workbook" and rows[0]["actor"] == "lead"
    assert "evidence.xlsx" in rows[0]["detail"] and "Findings 11" in rows[0]["detail"]
    assert audit.trail(review.db, "reviews", review.review_id)[-1]["id"] == result.audit_id


def test_over_long_text_is_cut_and_stated(review, tmp_path):
    # The forms refuse text over 20,000 characters; an old or imported row may be longer.
    review.db.execute("UPDATE findings SET evaluation_text = ? WHERE id = 1", ["z" * 40_000])
    result, book = export(review, tmp_path)
    assert result.stats.cut_cells == 1
    cell = rows_of(book, "Findings")[0]["evaluation_text"]
    assert len(cell) == MAX_CELL_CHARS and cell.endswith(CUT_MARKER)
    about = dict(book["About this export"].iter_rows(values_only=True))
    assert about["Cells cut"].startswith("1 cell(s)")


@pytest.fixture(scope="module")
def demo_store(demo_template, tmp_path_factory):
    return copy_store(demo_template(), tmp_path_factory.mktemp("demo"))


def test_the_demo_review_exports_with_every_count_checked(demo_store, tmp_path):
    with contextlib.closing(demo_store.evidence()) as db:
        review_id = db.execute("SELECT id FROM reviews").fetchone()[0]
        expected = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                    for table in ("findings", "chronology_events", "safeguarding_alerts", "judgements")}
        result = export_evidence_workbook(db, SYSTEM, review_id, tmp_path / "demo.xlsx")
    assert result.counts_ok
    rows = {sheet.title: sheet.rows for sheet in result.sheets}
    assert rows["Findings"] == expected["findings"] and rows["Chronology"] == expected["chronology_events"]
    assert rows["Safeguarding alerts"] == expected["safeguarding_alerts"]
    assert rows["Judgements"] == expected["judgements"]
    book = load_workbook(tmp_path / "demo.xlsx", read_only=True)
    for sheet in book:
        count = 0
        for row in sheet.iter_rows():
            count += 1
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
        if sheet.title in rows:
            assert count == rows[sheet.title] + 1
    coverage = {row[0]: row for row in book["Summary – criteria"].iter_rows(min_row=2, values_only=True)}
    header = next(book["Summary – criteria"].iter_rows(max_row=1, values_only=True))
    # The demo's planted coverage gaps (docs/architecture.md §7): police × 3.3 and health × 3.1 are empty.
    assert coverage["3.3"][header.index("police")] == 0 and coverage["3.1"][header.index("health")] == 0
    book.close()
