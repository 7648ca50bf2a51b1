"""Findings cite the chronology events they rest on: the rule (same review, same case, each
once, at most 50), versions, replays and edits, the capture workbook's events column, the
evidence workbook and Datasette's link table."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from inspect_kit import chronology, fields, findings, qa, verify
from inspect_kit.errors import Conflict, ValidationError
from inspect_kit.excel.capture import write_capture_template
from inspect_kit.excel.evidence import EvidenceFilter, export_evidence_workbook
from inspect_kit.excel.importer import WorkbookInvalid, import_capture_workbook
from inspect_kit.finding_queries import cited_events, citing_findings

from .library_fixtures import new_uuid, small_review


def add_event(review, case_id, day, description="Seen at the ED.", agency=None):
    return chronology.record_event(review.db, review.health, {
        "case_id": case_id, "agency_id": agency or review.ed, "event_date": day, "event_type": "ed_attendance",
        "description": description}, client_uuid=new_uuid(), review_id=review.review_id).record["id"]


@pytest.fixture
def review(fresh_db):
    built = small_review(fresh_db)
    built.events = [add_event(built, built.infant, f"2008-03-0{day}", f"Infant event {day}.") for day in (1, 2, 3)]
    built.sibling_event = add_event(built, built.sibling, "2008-04-01", "Sibling seen.")
    other = small_review(fresh_db, slug="otherton")
    built.foreign_event = add_event(other, other.infant, "2008-03-01", "Another review's event.")
    return built


def record(review, actor=None, uuid=None, **overrides):
    return findings.record_finding(review.db, actor or review.health, review.finding(**overrides),
                                   client_uuid=uuid or new_uuid(), review_id=review.review_id)


def refusal(review, **overrides) -> str:
    with pytest.raises(ValidationError) as error:
        findings.normalise(review.db, review.review_id, review.finding(**overrides))
    return error.value.field_errors["event_ids"]


def test_a_finding_cites_events_of_its_case_and_each_event_knows_it(review):
    first, third = review.events[0], review.events[2]
    stored = record(review, event_ids=[third, first]).record
    assert stored["event_ids"] == [first, third]
    assert [event["description"] for event in cited_events(review.db, stored["id"])] == [
        "Infant event 1.", "Infant event 3."]
    cited = citing_findings(review.db, review.lead, review.infant)
    assert {event_id: [f["public_id"] for f in found] for event_id, found in cited.items()} == {
        first: [stored["public_id"]], third: [stored["public_id"]]}
    # A police inspector reads no health finding, so sees no citation of it; an administrator none at all.
    assert citing_findings(review.db, review.police, review.infant) == {}
    version = json.loads(review.db.execute("SELECT snapshot FROM finding_versions WHERE finding_id = ?",
                                           [stored["id"]]).fetchone()[0])
    assert version["event_ids"] == [first, third]
    assert verify.verify_store(review.db).ok


@pytest.mark.parametrize(("overrides", "message"), [
    ({"event_ids": ["sibling"]}, "Event {sibling} is in the chronology of case C-018"),
    ({"event_ids": ["foreign"]}, "there is no number {foreign} in it"),
    ({"event_ids": [987654]}, "there is no number 987654 in it"),
    ({"event_ids": ["first"], "case_id": None}, "Choose the case first"),
    ({"event_ids": ["first", "first"]}, "number {first} is given twice"),
    ({"event_ids": list(range(1, fields.MAX_CITED_EVENTS + 2))}, "Choose at most 50 cited events"),
    ({"event_ids": ["12a"]}, "'12a' is not one"),
    ({"event_ids": [True]}, "True is not one"),
    ({"event_ids": [1.5]}, "1.5 is not one"),
    ({"event_ids": [-3]}, "-3 is not one"),
    ({"event_ids": [{"id": 1}]}, "is not one"),
    ({"event_ids": {"id": 1}}, "is not one"),
    ({"event_ids": ["9" * 40]}, "is not one"),
    ({"event_ids": ["\ud800"]}, "is not one"),
])
def test_citations_outside_the_findings_case_or_malformed_are_refused(review, overrides, message):
    names = {"first": review.events[0], "sibling": review.sibling_event, "foreign": review.foreign_event}
    overrides = {**overrides, "event_ids": overrides["event_ids"] if not isinstance(overrides["event_ids"], list)
                 else [names.get(item, item) if isinstance(item, str) else item for item in overrides["event_ids"]]}
    assert message.format(**names) in refusal(review, **overrides)


def test_the_links_are_content_for_replays_and_conflicts(review):
    uuid = new_uuid()
    first = record(review, uuid=uuid, event_ids=[review.events[0]])
    again = record(review, uuid=uuid, event_ids=[str(review.events[0])])  # a form's digits: the same content
    assert (first.created, again.created, again.record["id"]) == (True, False, first.record["id"])
    with pytest.raises(Conflict):
        record(review, uuid=uuid, event_ids=[review.events[1]])
    assert review.db.execute("SELECT count(*) FROM finding_events").fetchone()[0] == 1


def test_a_finding_citing_none_hashes_as_before_findings_cited_events(review):
    values = findings.normalise(review.db, review.review_id, review.finding())
    assert values["event_ids"] == []
    without = {key: value for key, value in values.items() if key != "event_ids"}
    from inspect_kit import validation

    assert findings.content_digest(review.review_id, 7, values) == validation.content_hash(
        {"review_id": review.review_id, "inspector_id": 7, **without})


def test_an_edit_replaces_the_set_keeps_versions_and_reopens_an_accepted_finding(review):
    stored = record(review, event_ids=[review.events[0], review.events[1]]).record
    submitted = qa.submit(review.db, review.health, stored["id"])
    accepted = qa.perform(review.db, review.lead, stored["id"], "accept", None, expected_version=submitted["version"],
                          client_uuid=new_uuid())
    assert accepted["qa_status"] == "accepted"
    edited = findings.edit_finding(review.db, review.health, stored["id"], review.finding(event_ids=[review.events[2]]),
                                   reason="The ED visit on 3 March is the one", expected_version=accepted["version"])
    assert edited["event_ids"] == [review.events[2]] and edited["qa_status"] == "submitted"
    assert edited["version"] == accepted["version"] + 1
    last = qa.history(review.db, stored["id"])[-1]
    assert (last["from_status"], last["comment"]) == ("accepted", "Edited after acceptance: The ED visit on 3 March is the one")
    history = findings.finding_history(review.db, stored["id"])
    assert ("event_ids", [review.events[0], review.events[1]], [review.events[2]]) in history[-1]["changes"]
    audit = json.loads(review.db.execute("SELECT before FROM audit_log WHERE action = 'finding.edit'").fetchone()[0])
    assert audit["event_ids"] == [review.events[0], review.events[1]]
    # The same edit again (a retry on the old version) is a replay; a bad set changes nothing.
    again = findings.edit_finding(review.db, review.health, stored["id"], review.finding(event_ids=[review.events[2]]),
                                  reason="The ED visit on 3 March is the one", expected_version=accepted["version"])
    assert again["version"] == edited["version"]
    with pytest.raises(ValidationError):
        findings.edit_finding(review.db, review.health, stored["id"],
                              review.finding(event_ids=[review.events[0], review.sibling_event]),
                              reason="Mixed cases", expected_version=edited["version"])
    assert findings.get_finding(review.db, stored["id"])["event_ids"] == [review.events[2]]
    assert verify.verify_store(review.db).ok


# ----------------------------------------------------------------- the workbooks


def fill_findings(path, rows):
    book = load_workbook(path)
    sheet = book["Findings"]
    headings = [cell.value for cell in sheet[1]]
    for offset, values in enumerate(rows):
        for heading, value in values.items():
            cell = sheet.cell(row=offset + 2, column=headings.index(heading) + 1)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
    book.save(path)


def capture_row(**overrides):
    return {"agency": "Emergency department", "case_ref": "C-017", "activity": "Case file review",
            "collected_on": "2008-11-20", "finding_type": "strength", "criteria": "2.1",
            "evidence_text": "Referral made the same day.", **overrides}


def test_the_capture_workbook_imports_cited_events_all_or_nothing(review, tmp_path):
    path = tmp_path / "capture.xlsx"
    write_capture_template(review.db, review.review_id, path, finding_rows=5, event_rows=1)
    first, second = review.events[0], review.events[1]
    fill_findings(path, [capture_row(events=f"{first}; Event {second}"),
                         capture_row(events=f"{review.sibling_event}"),
                         capture_row(events="=HYPERLINK(\"http://x\")")])
    with pytest.raises(WorkbookInvalid) as invalid:
        import_capture_workbook(review.db, review.health, review.review_id, path)
    problems = {(error.row, error.column): error.message for error in invalid.value.errors}
    assert set(problems) == {(3, "events"), (4, "events")}
    assert "chronology of case C-018" in problems[(3, "events")]
    assert review.db.execute("SELECT count(*) FROM findings").fetchone()[0] == 0
    fill_findings(path, [capture_row(events=f"{first}; Event {second}"), capture_row(events=float(first)),
                         capture_row(events=None)])
    report = import_capture_workbook(review.db, review.health, review.review_id, path)
    assert report.findings_created == 3
    assert [findings.get_finding(review.db, public_id)["event_ids"] for (public_id,) in review.db.execute(
        "SELECT public_id FROM findings ORDER BY id")] == [[first, second], [first], []]
    assert import_capture_workbook(review.db, review.health, review.review_id, path).findings_existing == 3


def test_a_capture_workbook_made_before_the_events_column_still_imports(review, tmp_path):
    path = tmp_path / "old.xlsx"
    write_capture_template(review.db, review.review_id, path, finding_rows=2, event_rows=1)
    book = load_workbook(path)
    sheet = book["Findings"]
    sheet.delete_cols([cell.value for cell in sheet[1]].index("events") + 1)
    book.save(path)
    fill_findings(path, [capture_row()])
    assert import_capture_workbook(review.db, review.health, review.review_id, path).findings_created == 1


def test_the_evidence_workbook_lists_cited_events_and_their_citing_findings(review, tmp_path):
    health = record(review, event_ids=[review.events[0], review.events[2]]).record
    police = record(review, actor=review.police, event_ids=[review.events[0]],
                    evidence_text="=cmd|' /C calc'!A0").record
    exports = {}
    for who in ("lead", "police"):
        path = tmp_path / f"{who}.xlsx"
        export_evidence_workbook(review.db, getattr(review, who), review.review_id, path, wanted=EvidenceFilter())
        book = load_workbook(path)
        sheets = {}
        for name in ("Findings", "Chronology"):
            rows = list(book[name].iter_rows(values_only=True))
            sheets[name] = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
        exports[who] = sheets
    lead = exports["lead"]
    assert {row["public_id"]: row["events"] for row in lead["Findings"]} == {
        health["public_id"]: f"{review.events[0]}; {review.events[2]}", police["public_id"]: str(review.events[0])}
    by_event = {row["event"]: row["cited_by"] for row in lead["Chronology"]}
    assert by_event[review.events[0]] == f"{health['public_id']}; {police['public_id']}"
    assert by_event[review.events[1]] is None and by_event[review.events[2]] == health["public_id"]
    # A police inspector's workbook holds police findings only: the citations it lists are theirs.
    assert {row["event"]: row["cited_by"] for row in exports["police"]["Chronology"]}[review.events[0]] == (
        police["public_id"])
    assert health["public_id"] not in json.dumps(exports["police"], default=str)


# ----------------------------------------------------------------- Datasette


async def test_datasette_shows_the_links_to_leads_and_refuses_inspectors(store, datasette_review):
    from inspect_kit.datasette_plugin.app import make_datasette

    from .datasette_support import SECRET, cookies_for

    db = store.evidence()
    finding = db.execute("SELECT id, case_id FROM findings WHERE case_id IS NOT NULL").fetchone()
    event = db.execute("SELECT id FROM chronology_events WHERE case_id = ?", [finding[1]]).fetchone()
    db.execute("INSERT INTO finding_events (finding_id, event_id) VALUES (?, ?)", [finding[0], event[0]])
    ds = make_datasette(store, SECRET)
    for table in ("finding_events", "finding_event_links"):
        lead = await ds.client.get(f"/evidence/{table}.json?_shape=objects", cookies=cookies_for("lead"))
        assert lead.status_code == 200 and len(lead.json()["rows"]) == 1
        for role in ("police_inspector", "health_inspector", "admin"):
            refused = await ds.client.get(f"/evidence/{table}.json", cookies=cookies_for(role))
            assert refused.status_code == 403, (table, role)
    linked = (await ds.client.get("/evidence/finding_event_links.json?_shape=objects",
                                  cookies=cookies_for("moderator"))).json()["rows"][0]
    assert linked["event_id"] == event[0] and linked["case_ref"] and linked["public_id"]
    row_page = (await ds.client.get(f"/evidence/findings/{finding[0]}", cookies=cookies_for("lead"))).text
    assert f"/evidence/finding_events?finding_id={finding[0]}" in row_page
