"""The judgement workspace pages and the draft report download, through the Flask test client."""

from __future__ import annotations

import html
import io
import json

import docx
import pytest

from inspect_kit import accounts, findings, qa
from inspect_kit.actors import Actor

from .web_fixtures import csrf_token, login_as, new_uuid

TEXTS = {
    "serious_weakness": "The MASH closed the contact without checks; the child was not seen for six weeks.",
    "area_for_improvement": "Health was not invited to the strategy discussion on 3 March.",
    "strength": "Police shared the incident log with the MASH within two hours.",
}


def actor(store, username: str) -> Actor:
    with store.private() as private_db, store.evidence() as db:
        return accounts.actor_for(accounts.get_account(private_db, username), db, 2)


@pytest.fixture
def evidence(review_store, ids) -> list[str]:
    """Three accepted findings on criterion 2.3 (a serious weakness, an area for improvement, a strength)."""
    db = review_store.evidence()
    lead = actor(review_store, "lead")
    public_ids = []
    try:
        for (finding_type, text), author in zip(TEXTS.items(), ("ofsted1", "health1", "police1"), strict=True):
            record = findings.record_finding(db, actor(review_store, author), {
                "agency_id": ids.agency_id, "case_id": ids.case_id, "activity": "case_file_review",
                "collected_on": "2026-11-03", "evidence_text": text, "finding_type": finding_type,
                "criteria": {"2.3": "primary"}}, client_uuid=new_uuid(), submit=True, review_id=ids.review_id).record
            qa.accept(db, lead, record["id"])
            public_ids.append(record["public_id"])
    finally:
        db.close()
    return public_ids


def propose(client, public_ids, grade="3", quotes=None, **extra):
    data = {"csrf_token": csrf_token(client, "/judgements/2.3"), "proposed_grade": grade,
            "narrative": "Partners share information quickly.", "citations": public_ids, **extra}
    for public_id, quote in (quotes or {}).items():
        data[f"quote-{public_id}"] = quote
    return client.post("/judgements/2.3", data=data)


def test_the_lead_sees_the_evidence_beside_the_form(web, evidence):
    login_as(web, "lead")
    page = web.get("/judgements/2.3").get_data(as_text=True)
    for public_id, text in zip(evidence, TEXTS.values(), strict=True):
        assert f'name="citations" type="checkbox" value="{public_id}"' in page
        assert html.escape(text) in page
        assert f'id="quote-{public_id}"' in page
    assert "Accepted evidence (3)" in page
    assert 'name="proposed_grade" type="radio" value="3"' in page and "3 Good" in page
    filtered = web.get("/judgements/2.3?finding_type=strength").get_data(as_text=True)
    assert evidence[2] in filtered and f'id="evidence-{evidence[0]}"' not in filtered


def test_a_good_grade_on_mostly_negative_cited_evidence_is_warned(web, evidence, review_store):
    login_as(web, "lead")
    response = propose(web, evidence, quotes={evidence[0]: "closed the contact without checks",
                                              evidence[1]: "Health was not invited", evidence[2]: "within two hours"})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "has been saved (version 1)" in page
    assert "disagrees with the cited evidence: good or better on mostly negative evidence" in page
    db = review_store.evidence()
    quotes = [q for (q,) in db.execute("SELECT quote FROM judgement_citations ORDER BY position")]
    assert quotes == ["closed the contact without checks", "Health was not invited", "within two hours"]


def test_a_quote_not_in_the_finding_is_refused_next_to_it_and_the_text_kept(web, evidence, review_store):
    login_as(web, "lead")
    response = propose(web, evidence[:1], quotes={evidence[0]: "the child was seen daily"},
                       narrative="My narrative — kept ✓")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="quote-{evidence[0]}-error"' in page and "is not in the text" in page
    assert f'href="#quote-{evidence[0]}"' in page, "the error summary links to the box"
    assert 'value="the child was seen daily"' in page and "My narrative — kept ✓" in page
    assert page.count(f'value="{evidence[0]}" checked') == 1, "the citation stays ticked"
    db = review_store.evidence()
    assert db.execute("SELECT count(*) FROM judgements").fetchone()[0] == 0


def test_the_moderator_moderates_and_both_are_in_the_history(web, evidence):
    login_as(web, "lead")
    assert propose(web, evidence).status_code == 302
    login_as(web, "moderator")
    page = web.get("/judgements/2.3").get_data(as_text=True)
    assert 'id="judgement-form"' not in page and 'id="moderation-form"' in page
    response = web.post("/judgements/2.3/moderate", data={
        "csrf_token": csrf_token(web, "/judgements/2.3"), "moderated_grade": "2",
        "note": "Two of three cited findings are negative."})
    assert response.status_code == 302
    page = web.get("/judgements/2.3").get_data(as_text=True)
    assert "Two of three cited findings are negative." in page
    history = web.get("/judgements/2.3/history").get_data(as_text=True)
    assert "Version 1: proposed by lead" in history and "Version 2: moderated by moderator" in history
    login_as(web, "lead")
    index = web.get("/judgements").get_data(as_text=True)
    assert 'id="disagreements"' in index and "moderated 2 Adequate by moderator" in index


def test_a_moderation_without_a_reason_is_refused(web, evidence):
    login_as(web, "lead")
    propose(web, evidence)
    login_as(web, "moderator")
    response = web.post("/judgements/2.3/moderate", data={
        "csrf_token": csrf_token(web, "/judgements/2.3"), "moderated_grade": "2", "note": ""})
    assert response.status_code == 422
    assert "Enter the reason for the moderated grade" in response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["ofsted1", "admin"])
def test_inspectors_and_administrators_see_nothing_of_judgements(web, evidence, username):
    login_as(web, "lead")
    propose(web, evidence)
    login_as(web, username)
    for path in ("/judgements", "/judgements/2.3", "/judgements/2.3/history", "/report/draft.docx"):
        assert web.get(path).status_code == 403, path
    assert "Judgements" not in web.get("/").get_data(as_text=True).split("</header>")[0]


def test_the_moderator_cannot_propose_and_the_lead_cannot_moderate(web, evidence):
    login_as(web, "moderator")
    assert propose(web, evidence).status_code == 403
    login_as(web, "lead")
    propose(web, evidence)
    response = web.post("/judgements/2.3/moderate", data={
        "csrf_token": csrf_token(web, "/judgements/2.3"), "moderated_grade": "2", "note": "x"})
    assert response.status_code == 403


def test_judgements_lock_at_factual_accuracy(web, evidence, review_store, ids):
    login_as(web, "lead")
    propose(web, evidence)
    db = review_store.evidence()
    db.execute("UPDATE reviews SET status = 'factual_accuracy' WHERE id = ?", [ids.review_id])
    page = web.get("/judgements/2.3").get_data(as_text=True)
    assert 'id="locked"' in page and 'id="judgement-form"' not in page
    assert propose(web, evidence, grade="1").status_code == 409


def test_the_lead_downloads_the_draft_report(web, evidence, review_store):
    login_as(web, "lead")
    propose(web, evidence, quotes={evidence[1]: "Health was not invited"})
    response = web.get("/report/draft.docx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=testbridge-draft-report-")
    # Case content: no cache may keep it, as with the evidence workbook.
    assert response.headers["Cache-Control"] == "private, no-store"
    document = docx.Document(io.BytesIO(response.data))
    response.close()
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert evidence[1] in cells and "Health was not invited" in cells
    db = review_store.evidence()
    after = json.loads(db.execute("SELECT after FROM audit_log WHERE action = 'report.draft'").fetchone()[0])
    assert after["sha256"] == response.headers["X-Inspect-Kit-Sha256"] and after["created_by"] == "lead"
    assert after["file"].startswith("testbridge-draft-report-")
    login_as(web, "moderator")
    assert web.get("/report/draft.docx").status_code == 403


def test_an_ungraded_framework_takes_statements_on_the_page(web, review_store):
    from inspect_kit import reviews
    from inspect_kit.actors import SYSTEM

    db = review_store.evidence()
    frontdoor = reviews.create_review(db, slug="frontdoor", title="JTAI front door", area="Testbridge",
                                      review_type="jtai_front_door", framework="jtai-front-door-2024", actor=SYSTEM)
    # The lead works on it: an account opens only the reviews it is an inspector of.
    reviews.add_inspector(db, review_id=frontdoor["id"], code="LI-01", strand="ofsted", role="lead", actor=SYSTEM)
    login_as(web, "lead")
    page = web.get("/judgements/A1").get_data(as_text=True)
    assert 'name="proposed_grade"' not in page and 'id="strengths"' in page
    token = csrf_token(web, "/judgements/A1")
    refused = web.post("/judgements/A1", data={"csrf_token": token, "narrative": "Front doors work."})
    assert refused.status_code == 422 and "write the strengths, the areas for improvement, or both" in \
        refused.get_data(as_text=True)
    saved = web.post("/judgements/A1", data={"csrf_token": token, "narrative": "Front doors work.",
                                             "areas_for_improvement": "Health does not attend strategy discussions."})
    assert saved.status_code == 302
    page = web.get("/judgements").get_data(as_text=True)
    assert "Statement" in page


def test_a_long_evidence_list_is_cut_to_a_page_and_says_so(web, evidence, monkeypatch):
    from inspect_kit.web import judgements as judgement_views

    monkeypatch.setattr(judgement_views, "EVIDENCE_SHOWN", 2)
    login_as(web, "lead")
    page = web.get("/judgements/2.3").get_data(as_text=True)
    assert "the first 2 of 3: filter to narrow" in page
    assert page.count('name="citations" type="checkbox"') == 2
    assert "Accepted evidence (3)" in page, "the counts cover every finding"
