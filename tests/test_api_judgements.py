"""The judgement workspace through the JSON API (``/api/judgements``)."""

from __future__ import annotations

import contextlib
import json

import pytest

from inspect_kit import accounts, findings, qa
from inspect_kit.store import Store
from inspect_kit.web import create_app

from .conftest import TEST_SECRET
from .library_fixtures import new_uuid, small_review

USERS = {"lead": ("lead", "ofsted", "OFS-01"), "moderator": ("moderator", "ofsted", "MOD-01"),
         "health1": ("inspector", "health", "HLT-01"), "admin": ("admin", None, None)}


@pytest.fixture
def api(tmp_path):
    store = Store(tmp_path / "evidence")
    store.init()
    with contextlib.closing(store.evidence()) as db:
        review = small_review(db)
        public_ids = []
        for finding_type, text in (("serious_weakness", "The GP saw bruising and did not refer."),
                                   ("area_for_improvement", "Health was not invited to the strategy discussion."),
                                   ("strength", "ED referred the same day.")):
            record = findings.record_finding(db, review.health, review.finding(evidence_text=text,
                                                                                finding_type=finding_type),
                                             client_uuid=new_uuid(), submit=True).record
            qa.accept(db, review.lead, record["id"])
            public_ids.append(record["public_id"])
    tokens = {}
    with contextlib.closing(store.private()) as db:
        for username, (role, strand, code) in USERS.items():
            accounts.add_account(db, username=username, password="correct horse battery", role=role, strand=strand,
                                 inspector_code=code)
            tokens[username] = accounts.issue_token(db, username)
    app = create_app({"TESTING": True, "INSPECT_KIT_HOME": str(store.home), "SECRET_KEY": TEST_SECRET})
    client = app.test_client()

    def call(method, path, body=None, user="lead"):
        return client.open(path, method=method, data=None if body is None else json.dumps(body),
                           content_type="application/json", headers={"Authorization": f"Bearer {tokens[user]}"})

    call.public_ids = public_ids
    call.store = store
    return call


def test_the_lead_proposes_with_quotes_and_gets_the_warnings(api):
    ids = api.public_ids
    response = api("POST", "/api/judgements/2.1", {
        "proposed_grade": 3, "narrative": "Concerns are referred.",
        "citations": [{"finding": ids[0], "quote": "did not refer"}, {"finding": ids[1], "quote": "not invited"},
                      {"finding": ids[2]}]})
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"] == "/api/judgements/2.1"
    body = response.get_json()
    assert [c["public_id"] for c in body["judgement"]["citations"]] == ids
    assert body["judgement"]["citations"][0]["quote"] == "did not refer"
    assert any(w["kind"] == "grade" and "mostly negative" in w["message"] for w in body["warnings"])
    assert body["counts"]["total"] == 3 and len(body["evidence"]) == 3
    again = api("POST", "/api/judgements/2.1", {"proposed_grade": 1, "narrative": "Revised.",
                                                "expected_version": 1})
    assert again.status_code == 200 and again.get_json()["judgement"]["version"] == 2
    assert len(again.get_json()["judgement"]["citations"]) == 3, "citations absent from the body are kept"


@pytest.mark.parametrize("body, status, field", [
    ({"proposed_grade": 3, "narrative": "n", "citations": [{"finding": "EF-HLT-01-0001", "quote": "invented"}]},
     422, "quote-EF-HLT-01-0001"),
    ({"proposed_grade": 9, "narrative": "n"}, 422, "proposed_grade"),
    ({"proposed_grade": 3}, 422, "narrative"),
    ({"proposed_grade": 3, "narrative": "n", "citations": "EF-HLT-01-0001"}, 422, "citations"),
    ({"proposed_grade": 3, "narrative": "n", "expected_version": "1"}, 422, "expected_version"),
])
def test_bad_proposals_are_422_naming_the_field(api, body, status, field):
    response = api("POST", "/api/judgements/2.1", body)
    assert response.status_code == status
    assert field in response.get_json()["errors"], response.get_json()
    with contextlib.closing(api.store.evidence()) as db:
        assert db.execute("SELECT count(*) FROM judgements").fetchone()[0] == 0


def test_moderation_history_and_lock(api):
    api("POST", "/api/judgements/2.1", {"proposed_grade": 3, "narrative": "Good."})
    assert api("POST", "/api/judgements/2.1/moderation", {"moderated_grade": 2}, user="moderator").status_code == 422
    moderated = api("POST", "/api/judgements/2.1/moderation", {"moderated_grade": 2, "reason": "Delays."},
                    user="moderator")
    assert moderated.status_code == 200
    judgement = moderated.get_json()["judgement"]
    assert (judgement["proposed_grade"], judgement["moderated_grade"], judgement["moderation_reason"]) == (3, 2, "Delays.")
    history = api("GET", "/api/judgements/2.1/history", user="moderator").get_json()
    assert [(v["version"], v["action"]) for v in history["versions"]] == [(1, "propose"), (2, "moderate")]
    listing = api("GET", "/api/judgements").get_json()
    assert listing["disagreements"] == [judgement["id"]] and listing["grades"]["3"] == "Good"
    with contextlib.closing(api.store.evidence()) as db:
        db.execute("UPDATE reviews SET status = 'factual_accuracy'")
    locked = api("POST", "/api/judgements/2.1", {"proposed_grade": 4, "narrative": "Late."})
    assert locked.status_code == 409 and "locked" in locked.get_json()["message"]
    assert api("GET", "/api/judgements").get_json()["locked"] is True


def test_unknown_criterion_or_agency_is_404_in_json(api):
    for path in ("/api/judgements/9.9", "/api/judgements/2.1?agency=999", "/api/judgements/2.1/history"):
        response = api("GET", path)
        assert response.status_code == 404 and response.get_json()["status"] == 404, path
    assert api("GET", "/api/judgements/2.1?agency=abc").status_code == 400
