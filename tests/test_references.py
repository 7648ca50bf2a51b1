"""References typed by a person resolve with one rule everywhere: the API,
the capture-workbook importer, the command line's look-ups and the library agree."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

import pytest
from openpyxl import load_workbook

from inspect_kit import accounts, chronology, findings, references, reviews
from inspect_kit.actors import SYSTEM
from inspect_kit.errors import NotFound
from inspect_kit.excel.capture import FINDING_CAPTURE_COLUMNS, write_capture_template
from inspect_kit.excel.importer import import_capture_workbook, read_capture_workbook
from inspect_kit.store import Store
from inspect_kit.web import create_app

from .conftest import TEST_SECRET
from .library_fixtures import small_review

MASH = "Ashbridge Police MASH desk"
TYPED = "ashbridge police mash desk"


def add_mash(db, review_id: int) -> int:
    return reviews.add_agency(db, review_id=review_id, name=MASH, agency_type="mash", lead_strand="police",
                              actor=SYSTEM)


def test_the_rule_folds_case_and_whitespace_within_the_review(fresh_db):
    review = small_review(fresh_db)
    mash = add_mash(fresh_db, review.review_id)
    other = reviews.create_review(fresh_db, slug="otherton", title="Otherton review", area="Otherton",
                                  review_type="jar", framework="sjar-2008", actor=SYSTEM)
    add_mash(fresh_db, other["id"])
    for typed in (MASH, TYPED, "  ASHBRIDGE   police\tMASH desk\n"):
        assert references.agency_id(fresh_db, review.review_id, typed) == mash
    assert references.agency_id(fresh_db, review.review_id, "ashbridge police") is None
    assert references.agency_id(fresh_db, review.review_id, "") is None
    assert references.agency_id(fresh_db, review.review_id, ["not", "text"]) is None
    assert references.case_id(fresh_db, review.review_id, " c-017 ") == review.infant
    assert references.case_id(fresh_db, other["id"], "C-017") is None  # another review's case is unknown
    assert references.criterion_code(fresh_db, review.review_id, " 2.1 ") == "2.1"
    assert references.inspector_id(fresh_db, review.review_id, "hlt-01") == \
        reviews.inspector_by_code(fresh_db, review.review_id, "HLT-01")["id"]
    assert chronology.case_by_ref(fresh_db, review.review_id, "c-018")["id"] == review.sibling
    with pytest.raises(NotFound):
        chronology.case_by_ref(fresh_db, other["id"], "C-018")


def test_two_names_that_fold_alike_are_found_only_by_their_exact_spelling(fresh_db):
    review = small_review(fresh_db)
    upper = add_mash(fresh_db, review.review_id)
    lower = reviews.add_agency(fresh_db, review_id=review.review_id, name=TYPED, agency_type="mash",
                               lead_strand="police", actor=SYSTEM)
    assert references.agency_id(fresh_db, review.review_id, MASH) == upper
    assert references.agency_id(fresh_db, review.review_id, TYPED) == lower
    assert references.agency_id(fresh_db, review.review_id, "ASHBRIDGE POLICE MASH DESK") is None  # a guess


def test_criterion_codes_in_a_finding_are_resolved_to_the_stored_code(fresh_db):
    review = small_review(fresh_db)
    values = findings.normalise(fresh_db, review.review_id, {
        "activity": "case_file_review", "collected_on": "2008-11-20", "evidence_text": "Seen.",
        "finding_type": "strength", "criteria": {" 2.1": "primary"}})
    assert values["criteria"] == {"2.1": "primary"}


@pytest.fixture
def api(tmp_path):
    """The JSON API over a store holding the small review and the MASH desk, as inspector health1."""
    store = Store(tmp_path / "evidence")
    store.init()
    with contextlib.closing(store.evidence()) as db:
        mash = add_mash(db, small_review(db).review_id)
    with contextlib.closing(store.private()) as db:
        accounts.add_account(db, username="health1", password="correct horse battery", role="inspector",
                             strand="health", inspector_code="HLT-01")
        headers = {"Authorization": f"Bearer {accounts.issue_token(db, 'health1')}"}
    app = create_app({"TESTING": True, "INSPECT_KIT_HOME": str(store.home), "SECRET_KEY": TEST_SECRET})
    return app.test_client(), headers, mash


def test_the_api_finds_an_agency_typed_in_lower_case(api):
    client, headers, mash = api
    body = {"client_uuid": str(uuid.uuid4()), "agency": TYPED, "case_ref": "c-017", "activity": "case_file_review",
            "collected_on": "2008-11-20", "evidence_text": "The MASH desk shared the referral within the hour.",
            "finding_type": "strength"}
    response = client.post("/api/findings", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["agency_id"] == mash
    event = {"client_uuid": str(uuid.uuid4()), "agency": f"  {MASH.upper()} ", "case_ref": "C-017",
             "event_date": "2008-03-02", "event_type": "strategy_discussion", "description": "Strategy discussion."}
    response = client.post("/api/chronology", json=event, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["agency_id"] == mash
    unknown = client.post("/api/findings", json={**body, "client_uuid": str(uuid.uuid4()),
                                                 "agency": "ashbridge police"}, headers=headers)
    assert unknown.status_code == 422
    assert set(unknown.get_json()["errors"]) == {"agency"}


def test_the_importer_finds_the_same_agency_the_same_way(fresh_db, tmp_path):
    review = small_review(fresh_db)
    mash = add_mash(fresh_db, review.review_id)
    path = tmp_path / "capture.xlsx"
    write_capture_template(fresh_db, review.review_id, path, finding_rows=5, event_rows=5)
    book = load_workbook(path)
    headings = [column.heading for column in FINDING_CAPTURE_COLUMNS]
    row = {"agency": TYPED, "case_ref": "c-017", "activity": "Case file review",
           "collected_on": dt.datetime(2008, 11, 20), "finding_type": "strength", "criteria": "2.1",
           "evidence_text": "The MASH desk shared the referral within the hour."}
    for column, heading in enumerate(headings, 1):
        if heading in row:
            book["Findings"].cell(row=2, column=column).value = row[heading]
    book.save(path)
    checked = read_capture_workbook(fresh_db, review.review_id, path, actor=review.health)
    assert not checked.errors
    report = import_capture_workbook(fresh_db, review.health, review.review_id, path)
    assert report.findings_created == 1
    stored = findings.get_finding(fresh_db, 1)
    assert (stored["agency_id"], stored["case_id"]) == (mash, review.infant)
