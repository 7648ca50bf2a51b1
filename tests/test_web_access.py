"""Every intake route for every role.

Anonymous visitors are sent to sign in; a signed-in actor without the right
gets the 403 page. The table is checked against the app's URL map, so a new
route without a row here fails ``test_every_route_is_in_the_table``.
"""

from __future__ import annotations

import shutil

import pytest

from inspect_kit import accounts, alerts, attachments, judgements
from inspect_kit.store import Store

from .conftest import copy_store
from .web_fixtures import ACCOUNTS, csrf_token, login_as, make_app, new_uuid, record

FINDING = "EF-OFS-01-0001"  # recorded by ofsted1 (Ofsted strand) and submitted
PDF = b"%PDF-1.4\n% a tiny test file\n"
AGENCY = 2  # "Testbridge MASH": the fixture's older review's agency is 1

ALL = set(ACCOUNTS)
FIELDWORK = ALL - {"admin"}  # everyone reading chronologies and alerts (inspect_kit.policy)
INSPECTORS = {"ofsted1", "ofsted2", "police1", "health1"}
RAISE_ALERTS = INSPECTORS | {"lead"}
AUTHORS = INSPECTORS | {"lead"}  # record findings and chronology events (moderators QA, admins set up)
READS_OFSTED = {"ofsted1", "ofsted2", "lead", "moderator"}
LEADS = {"lead", "moderator"}
RECORDS_ON_SITE = {"ofsted1", "ofsted2", "police1", "health1", "lead"}  # the offline outbox: inspectors and leads

# (method, URL rule, concrete path, roles that get 200; everyone else signed in gets 403)
GET_TABLE = [
    ("/", "/", ALL),
    ("/findings", "/findings", FIELDWORK),
    ("/findings/new", "/findings/new", AUTHORS),
    ("/findings/<public_id>", f"/findings/{FINDING}", READS_OFSTED),
    ("/findings/<public_id>/edit", f"/findings/{FINDING}/edit", {"ofsted1"}),
    ("/findings/<public_id>/history", f"/findings/{FINDING}/history", READS_OFSTED),
    ("/attachments/<int:attachment_id>", "/attachments/1", READS_OFSTED),
    ("/qa", "/qa", LEADS),
    ("/coverage", "/coverage", FIELDWORK),  # each reader's own strands
    ("/coverage.json", "/coverage.json", FIELDWORK),
    ("/coverage/balance", "/coverage/balance", FIELDWORK),
    ("/coverage/<strand>/<criterion>", "/coverage/ofsted/2.3", READS_OFSTED),
    ("/cases", "/cases", FIELDWORK),  # administrators see no case content
    ("/cases/<case_ref>", "/cases/C-017", FIELDWORK),
    ("/cases/<case_ref>/events/new", "/cases/C-017/events/new", AUTHORS),
    ("/alerts", "/alerts", FIELDWORK),
    ("/alerts/new", "/alerts/new?case=C-017", RAISE_ALERTS),
    ("/alerts/<int:alert_id>", "/alerts/1", FIELDWORK),
    ("/excel/", "/excel/", ALL),  # GET the page; POST uploads (tested in test_excel_web.py)
    ("/excel/capture.xlsx", "/excel/capture.xlsx", ALL),
    ("/excel/evidence.xlsx", "/excel/evidence.xlsx", FIELDWORK),  # inspectors: their strand's findings
    ("/offline/outbox", "/offline/outbox", RECORDS_ON_SITE),
    ("/offline/reference.json", "/offline/reference.json", RECORDS_ON_SITE),
    ("/judgements", "/judgements", LEADS),
    ("/judgements/<criterion_code>", "/judgements/2.3", LEADS),
    ("/judgements/<criterion_code>/history", "/judgements/2.3/history", LEADS),
    ("/report/draft.docx", "/report/draft.docx", {"lead"}),
    # Set-up and accounts: administrators; the status: whoever may set it; the switcher: everyone.
    ("/admin", "/admin", {"admin"}),
    ("/admin/agencies", "/admin/agencies", {"admin"}),
    ("/admin/agencies/<int:agency_id>", f"/admin/agencies/{AGENCY}", {"admin"}),
    ("/admin/cases", "/admin/cases", {"admin"}),
    ("/admin/accounts", "/admin/accounts", {"admin"}),
    ("/admin/accounts/<username>", "/admin/accounts/police1", {"admin"}),
    ("/admin/status", "/admin/status", {"lead", "admin"}),
    ("/reviews", "/reviews", ALL),
    ("/admin/reviews/new", "/admin/reviews/new", {"admin"}),
    ("/audit", "/audit", {"lead", "moderator", "admin"}),
    ("/audit.xlsx", "/audit.xlsx", {"lead", "moderator", "admin"}),
]

# POSTs that change something: (rule, path, form, roles that succeed with a redirect)
POST_TABLE = [
    ("/findings/<public_id>/qa", f"/findings/{FINDING}/qa", {"action": "accept", "expected_version": "1"}, LEADS),
    ("/findings/<public_id>/attachments", f"/findings/{FINDING}/attachments", "upload", {"ofsted1"}),
    ("/alerts/<int:alert_id>/<step>", "/alerts/1/refer", {"referred_to": "MASH duty manager"}, {"lead"}),
    ("/findings/new", "/findings/new", "finding", AUTHORS),
    ("/findings/<public_id>/edit", f"/findings/{FINDING}/edit", "edit", {"ofsted1"}),
    ("/cases/<case_ref>/events/new", "/cases/C-017/events/new", "event", AUTHORS),
    ("/alerts/new", "/alerts/new", "alert", RAISE_ALERTS),
    ("/judgements/<criterion_code>", "/judgements/2.3", {"proposed_grade": "2", "narrative": "Access test"},
     {"lead"}),
    ("/judgements/<criterion_code>/moderate", "/judgements/2.3/moderate",
     {"moderated_grade": "2", "note": "Access test"}, {"moderator"}),
    ("/admin/strands", "/admin/strands", {"strands": ["ofsted", "health", "police", "probation"]}, {"admin"}),
    ("/admin/status", "/admin/status", {"status": "drafting"}, {"lead", "admin"}),
    ("/admin/agencies", "/admin/agencies", {"name": "Access test school", "agency_type": "school",
                                            "lead_strand": "ofsted"}, {"admin"}),
    ("/admin/agencies/<int:agency_id>", f"/admin/agencies/{AGENCY}", {"action": "retire"}, {"admin"}),
    ("/admin/agencies/import", "/admin/agencies/import", "agency-sheet", {"admin"}),
    ("/admin/cases/import", "/admin/cases/import", "case-sheet", {"admin"}),
    ("/admin/accounts/<username>/<action>", "/admin/accounts/police1/disable", {}, {"admin"}),
    ("/admin/tokens/<int:token_id>/revoke", "/admin/tokens/1/revoke", {}, {"admin"}),
]
# Routes every visitor may use signed in or not.
# (The offline app's worker and manifest hold no evidence; /offline/session answers 401 to
# anyone signed out: tests/test_offline.py.)
PUBLIC = {"/login", "/logout", "/healthz", "/status", "/static/<path:filename>",
          "/sw.js", "/manifest.webmanifest", "/offline/session",
          "/reset-password"}  # its credential is the one-time code an administrator gave


def seed(store: Store, ids) -> None:
    """One submitted Ofsted finding with an attachment, one raised alert and the lead's judgement of 2.3."""
    finding = record(store, "ofsted1", ids, submit=True)
    db, private = store.evidence(), store.private()
    try:
        actor = accounts.actor_for(accounts.get_account(private, "ofsted1"), db, ids.review_id)
        attachments.add_attachment(db, store, actor, finding["id"], filename="note.pdf", content=PDF)
        alerts.raise_alert(db, actor, review_id=ids.review_id, urgency="urgent", concern="Bruising seen",
                           case_id=ids.case_id)
        lead = accounts.actor_for(accounts.get_account(private, "lead"), db, ids.review_id)
        judgements.record_judgement(db, lead, review_id=ids.review_id, criterion_code="2.3", proposed_grade=3,
                                    narrative="Seeded for the access table.")
        accounts.issue_token(private, "police1")  # token 1, for the revoke row
    finally:
        db.close()
        private.close()


@pytest.fixture(scope="module")
def seeded_app(seeded_template, tmp_path_factory):
    """One app for every read-only request of the GET table."""
    return make_app(copy_store(seeded_template, tmp_path_factory.mktemp("access")))


@pytest.fixture(scope="module")
def seeded_template(review_template, tmp_path_factory) -> Store:
    """The review with :func:`seed`'s records, seeded once per module (read-only: ``seeded_client`` copies it)."""
    template, ids = review_template
    store = copy_store(template, tmp_path_factory.mktemp("access-seeded"))
    seed(store, ids)
    return store


@pytest.fixture
def seeded_client(review_store, seeded_template):
    """A client of an app on ``review_store``, which now holds a private copy of the seeded review
    (seeding it again for each of the 136 POST tests took about as long as the request)."""
    shutil.copytree(seeded_template.home, review_store.home, dirs_exist_ok=True)
    return make_app(review_store).test_client()


def test_every_route_is_in_the_table(seeded_app):
    tested = {rule for rule, _, _ in GET_TABLE} | {rule for rule, _, _, _ in POST_TABLE} | PUBLIC
    routes = {rule.rule for rule in seeded_app.url_map.iter_rules() if not rule.rule.startswith("/api/")}
    assert routes - tested == set()


@pytest.mark.parametrize(("rule", "path", "allowed"), GET_TABLE, ids=[row[0] for row in GET_TABLE])
def test_anonymous_visitors_are_sent_to_sign_in(seeded_app, rule, path, allowed):
    response = seeded_app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize(("rule", "path", "allowed"), GET_TABLE, ids=[row[0] for row in GET_TABLE])
def test_get_routes_by_role(seeded_app, rule, path, allowed, role):
    client = seeded_app.test_client()
    login_as(client, role)
    response = client.get(path)
    page = response.get_data().decode(errors="replace")  # downloads (.xlsx) are binary
    response.close()  # a download streams its file: close it
    if role in allowed:
        assert response.status_code == 200, page[:500]
    else:
        assert response.status_code == 403
        assert "govuk-template" in page  # the 403 page is in the service's layout
        assert "Traceback" not in page
        if role == "admin" and "finding" in rule:
            assert "Administrators manage the review" in page  # not "belongs to another strand"


def form_for(kind, ids):
    from .web_fixtures import finding_form

    if kind == "finding":
        return finding_form(ids)
    if kind == "edit":
        return {**{k: v for k, v in finding_form(ids, action="save").items() if k != "client_uuid"},
                "reason": "Access test", "expected_version": "1"}
    if kind == "event":
        return {"client_uuid": new_uuid(), "agency_id": str(ids.agency_id), "event_date": ["1", "11", "2026"],
                "date_precision": "day", "event_type": "home_visit", "description": "Visit, child not seen"}
    if kind == "alert":
        return {"client_uuid": new_uuid(), "case_id": str(ids.case_id), "urgency": "routine",
                "concern": "Unknown adult in the home"}
    return {**kind, "client_uuid": new_uuid()}


STATE_SQL = ("SELECT count(*) FROM findings", "SELECT count(*) FROM finding_versions",
             "SELECT count(*) FROM qa_actions", "SELECT count(*) FROM attachments",
             "SELECT count(*) FROM chronology_events", "SELECT count(*) FROM safeguarding_alerts",
             "SELECT group_concat(status) FROM safeguarding_alerts", "SELECT group_concat(qa_status) FROM findings",
             "SELECT count(*) FROM judgement_versions",
             "SELECT count(*) FROM audit_log")  # set-up and account changes show only here


def stored_state(store: Store) -> list:
    db = store.evidence()
    return [db.execute(sql).fetchone()[0] for sql in STATE_SQL]


def post_data(form, ids, token) -> dict:
    import io

    if form == "upload":
        return {"csrf_token": token, "client_uuid": new_uuid(), "file": (io.BytesIO(PDF + b"more"), "more.pdf")}
    if form == "agency-sheet":
        return {"csrf_token": token, "sheet": (io.BytesIO(b"name,agency_type,lead_strand\nAccess GP,gp,health\n"),
                                               "agencies.csv")}
    if form == "case-sheet":
        return {"csrf_token": token, "sheet": (io.BytesIO(
            b"case_ref,age_band,legal_status,selection_route\nC-077,1_4,none,sampled\n"), "sample.csv")}
    return {**form_for(form, ids), "csrf_token": token}


@pytest.mark.parametrize(("rule", "path", "form", "allowed"), POST_TABLE, ids=[row[0] for row in POST_TABLE])
def test_anonymous_posts_are_sent_to_sign_in_and_change_nothing(seeded_client, review_store, ids, rule, path, form,
                                                                allowed):
    before = stored_state(review_store)
    # A complete, valid form with a valid CSRF token: only the missing login stops it.
    response = seeded_client.post(path, data=post_data(form, ids, csrf_token(seeded_client)))
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert stored_state(review_store) == before


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize(("rule", "path", "form", "allowed"), POST_TABLE, ids=[row[0] for row in POST_TABLE])
def test_post_routes_by_role(seeded_client, review_store, ids, rule, path, form, allowed, role):
    login_as(seeded_client, role)
    before = stored_state(review_store)
    response = seeded_client.post(path, data=post_data(form, ids, csrf_token(seeded_client, "/")))
    if role in allowed:
        assert response.status_code == 302, response.get_data(as_text=True)[:800]
        assert not response.headers["Location"].startswith("/login")
        assert stored_state(review_store) != before  # the post did its work
    else:
        assert response.status_code == 403
        assert stored_state(review_store) == before


@pytest.fixture
def other_review_records(review_store, ids):
    """A finding (with a file) and an alert in the store's older review, by an Ofsted inspector of that review."""
    from inspect_kit import findings, reviews
    from inspect_kit.actors import SYSTEM, Actor

    db = review_store.evidence()
    try:
        other = reviews.current_review(db, "elsewhere")
        reviews.add_inspector(db, review_id=other["id"], code="OFS-09", strand="ofsted", role="team", actor=SYSTEM)
        inspector_id = db.execute("SELECT id FROM inspectors WHERE code = 'OFS-09'").fetchone()[0]
        author = Actor("elsewhere-ofsted", "inspector", "ofsted", inspector_id)
        finding = findings.record_finding(
            db, author, {"activity": "interview", "collected_on": "2026-01-05", "finding_type": "strength",
                         "evidence_text": "Evidence about another area", "criteria": ["2.1"]},
            client_uuid=new_uuid(), submit=True, review_id=other["id"]).record
        attachment = attachments.add_attachment(db, review_store, author, finding["id"], filename="other.pdf",
                                                content=PDF)
        alert = alerts.raise_alert(db, SYSTEM, review_id=other["id"], urgency="urgent",
                                   concern="A child in another area", finding_id=finding["id"])
    finally:
        db.close()
    return finding, attachment, alert


@pytest.mark.parametrize("role", ["ofsted1", "lead", "moderator"])
def test_another_reviews_records_are_not_found(web, review_store, other_review_records, role):
    """Accounts are not tied to one review: an Ofsted inspector or a lead of this
    review must not read, QA, attach to or alert from another review's evidence."""
    finding, attachment, alert = other_review_records
    public_id = finding["public_id"]
    login_as(web, role)
    for path in (f"/findings/{public_id}", f"/findings/{public_id}/history", f"/attachments/{attachment['id']}",
                 f"/alerts/new?finding={public_id}", f"/alerts/{alert['id']}"):
        response = web.get(path)
        page = response.get_data(as_text=True)
        response.close()
        # Moderators may not raise alerts at all: refused before any record is looked up.
        assert response.status_code == (403 if "/alerts/new" in path and role == "moderator" else 404), path
        assert "another area" not in page, path
    token = csrf_token(web, "/")
    posts = [(f"/findings/{public_id}/qa", {"action": "accept"}, 404),
             (f"/findings/{public_id}/qa", {"action": "return", "comment": "No"}, 404),
             (f"/alerts/{alert['id']}/refer", {"referred_to": "MASH duty manager"}, 404 if role == "lead" else 403)]
    for path, form, status in posts:
        assert web.post(path, data={**form, "csrf_token": token, "client_uuid": new_uuid()}).status_code == status, path
    db = review_store.evidence()
    assert db.execute("SELECT qa_status FROM findings WHERE id = ?", [finding["id"]]).fetchone()[0] == "submitted"
    assert db.execute("SELECT status FROM safeguarding_alerts WHERE id = ?", [alert["id"]]).fetchone()[0] == "raised"
    assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'attachment.download'").fetchone()[0] == 0
