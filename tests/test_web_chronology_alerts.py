"""Case chronologies and safeguarding alerts through the intake app."""

from __future__ import annotations

import contextlib

import pytest

from .pages import elements, texts
from .web_fixtures import login_as, new_uuid, post


def event_form(ids, **overrides):
    form = {"client_uuid": new_uuid(), "agency_id": str(ids.agency_id), "practitioner_role": "duty social worker",
            "event_date": ["12", "3", "2026"], "date_precision": "day", "event_type": "home_visit",
            "description": "Home visit; the child was not seen alone.", "source_of_information": "LA case notes"}
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def add_event(client, ids, case_ref="C-017", **overrides):
    path = f"/cases/{case_ref}/events/new"
    return post(client, path, event_form(ids, **overrides), token_from=path)


def scalar(store, sql):
    db = store.evidence()
    return db.execute(sql).fetchone()[0]


@pytest.fixture
def inspector(web):
    return login_as(web, "police1")


def test_the_case_list_links_to_each_chronology(inspector):
    page = inspector.get("/cases").get_data(as_text=True)
    assert 'href="/cases/C-017"' in page and 'href="/cases/C-018"' in page
    assert "C-900" not in page  # another review's case


def test_the_merged_chronology_is_in_date_order_with_flags_in_words_and_gaps(inspector, ids):
    add_event(inspector, ids, event_date=["20", "6", "2026"], description="Critical incident",
              event_type="critical_incident", agency_id=str(ids.other_agency_id), key_event="y")
    add_event(inspector, ids, event_date=["1", "1", "2026"], description="ED referral made promptly",
              event_type="referral", agency_id=str(ids.other_agency_id), good_practice="y")
    add_event(inspector, ids, event_date=["10", "1", "2026"], date_precision="approximate",
              description="GP saw bruising, no referral", event_type="gp_appointment", missed_opportunity="y")
    page = inspector.get("/cases/C-017").get_data(as_text=True)
    events = page[page.index('id="chronology"'):]  # the event list, after the timeline chart and its table
    order = [events.index(text) for text in ("ED referral made promptly", "GP saw bruising", "Critical incident")]
    assert order == sorted(order)
    assert "Good practice</strong>" in page and "Missed opportunity</strong>" in page and "Key event</strong>" in page
    assert "Approximate" in page
    assert "Testbridge ED" in page and "Testbridge MASH" in page
    assert "Gap: 161 days with no recorded contact" in page
    assert "Gap: 9 days" not in page


def test_the_gap_threshold_can_be_changed(inspector, ids):
    add_event(inspector, ids, event_date=["1", "1", "2026"])
    add_event(inspector, ids, event_date=["10", "1", "2026"])
    assert "Gap: 9 days" in inspector.get("/cases/C-017?gap=5").get_data(as_text=True)
    assert inspector.get("/cases/C-017?gap=abc").status_code == 200


def test_an_event_form_error_keeps_the_text(inspector, review_store, ids):
    response = add_event(inspector, ids, description="", practitioner_role="x" * 1_000_000)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#description"' in page and 'href="#practitioner_role"' in page
    assert "200 characters or fewer" in page
    assert "LA case notes" in page
    assert scalar(review_store, "SELECT count(*) FROM chronology_events") == 0


@pytest.mark.parametrize(("overrides", "anchor"), [
    ({"agency_id": None}, "agency_id"),
    ({"event_type": "seance"}, "event_type"),
    ({"date_precision": "roughly"}, "date_precision"),
    ({"event_date": ["30", "2", "2026"]}, "event_date-day"),
    ({"description": "Tab\tok but bell \x07 not"}, "description"),
])
def test_event_validation(inspector, review_store, ids, overrides, anchor):
    agency = overrides.pop("agency_id", str(ids.agency_id)) if "agency_id" in overrides else str(ids.agency_id)
    response = add_event(inspector, ids, **{"agency_id": agency, **overrides})
    assert response.status_code == 422
    assert f'href="#{anchor}"' in response.get_data(as_text=True)
    assert scalar(review_store, "SELECT count(*) FROM chronology_events") == 0


def test_an_agency_from_another_review_is_refused(inspector, review_store, ids):
    response = add_event(inspector, ids, agency_id=str(ids.foreign_agency_id))
    assert response.status_code == 422
    assert scalar(review_store, "SELECT count(*) FROM chronology_events") == 0


def test_the_same_event_posted_twice_is_recorded_once(inspector, review_store, ids):
    form = event_form(ids)
    for _ in range(2):
        response = post(inspector, "/cases/C-017/events/new", form, token_from="/cases/C-017/events/new")
        assert response.status_code == 302
    assert scalar(review_store, "SELECT count(*) FROM chronology_events") == 1


def test_an_unknown_case_is_a_404_page(inspector):
    response = inspector.get("/cases/C-404")
    assert response.status_code == 404
    assert "No case C-404" in response.get_data(as_text=True)
    assert inspector.get("/cases/C-900").status_code == 404  # another review's case


# ----------------------------------------------------------------- alerts


def raise_alert(client, query="?case=C-017", **overrides):
    page = client.get("/alerts/new" + query).get_data(as_text=True)
    case_id = elements(page, 'select[name="case_id"] option[selected]')
    form = {"client_uuid": new_uuid(), "case_id": case_id[0].get("value") if case_id else "", "urgency": "urgent",
            "concern": "Bruising on an infant, no referral made."}
    finding = elements(page, 'input[type="hidden"][name="finding"]')
    if finding and finding[0].get("value"):
        form["finding"] = finding[0].get("value")
    form.update(overrides)
    return post(client, "/alerts/new", form, token_from="/alerts/new")


def test_an_alert_raised_from_a_case_reaches_the_leads_dashboard_at_once(web, review_store):
    login_as(web, "health1")
    response = raise_alert(web)
    assert response.status_code == 302
    alert_path = response.headers["Location"]
    login_as(web, "lead")
    dashboard = web.get("/").get_data(as_text=True)
    assert 'id="alerts-banner"' in dashboard
    assert f'href="{alert_path}"' in dashboard and "C-017" in dashboard and "Urgent" in dashboard
    assert '<dd id="open-alerts-count"><a class="govuk-link" href="/alerts">1</a>' in dashboard


def test_an_alert_from_a_finding_takes_its_case(web, review_store, ids):
    from .web_fixtures import record

    finding = record(review_store, "health1", ids, case_id=ids.other_case_id)
    login_as(web, "health1")
    response = raise_alert(web, f"?finding={finding['public_id']}")
    assert response.status_code == 302
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "C-018" in page and finding["public_id"] in page


def test_the_alert_moves_through_referred_responded_closed(web, review_store):
    login_as(web, "police1")
    path = raise_alert(web).headers["Location"]
    login_as(web, "police1")
    assert "records the referral" in web.get(path).get_data(as_text=True)  # inspectors cannot act
    login_as(web, "lead")
    response = post(web, path + "/refer", {"referred_to": ""}, token_from=path)
    assert response.status_code == 422
    assert 'href="#referred_to"' in response.get_data(as_text=True)
    assert post(web, path + "/refer", {"referred_to": "MASH duty manager"}, token_from=path).status_code == 302
    assert post(web, path + "/refer", {"referred_to": "MASH duty manager"}, token_from=path).status_code == 302
    assert post(web, path + "/respond", {"response": "Strategy discussion held"}, token_from=path).status_code == 302
    assert post(web, path + "/close", {"note": "Checked"}, token_from=path).status_code == 302
    page = web.get(path).get_data(as_text=True)
    assert "Closed" in page and "Strategy discussion held" in page and "MASH duty manager" in page
    assert post(web, path + "/refer", {"referred_to": "Again"}, token_from=path).status_code == 409
    assert 'id="alerts-banner"' not in web.get("/").get_data(as_text=True)


def test_a_different_response_recorded_second_is_handed_back_not_dropped(web, review_store):
    login_as(web, "police1")
    path = raise_alert(web).headers["Location"]
    login_as(web, "lead")
    assert post(web, path + "/refer", {"referred_to": "MASH duty manager"}, token_from=path).status_code == 302
    assert post(web, path + "/respond", {"response": "Strategy discussion held"}, token_from=path).status_code == 302
    # The same response again (a double click): harmless.
    assert post(web, path + "/respond", {"response": "Strategy discussion held\r\n"}, token_from=path).status_code == 302
    login_as(web, "lead")  # another tab had the page open, and typed another response
    response = post(web, path + "/respond", {"response": "Child seen <alone> by the duty worker"}, token_from=path)
    assert response.status_code == 409
    assert "Child seen &lt;alone&gt; by the duty worker</textarea>" in response.get_data(as_text=True)
    assert scalar(review_store, "SELECT response FROM safeguarding_alerts") == "Strategy discussion held"


def test_overdue_alerts_are_marked(web, review_store, ids):
    from inspect_kit import alerts
    from inspect_kit.actors import SYSTEM

    db = review_store.evidence()
    alerts.raise_alert(db, SYSTEM, review_id=ids.review_id, urgency="routine", concern="Old concern",
                       case_id=ids.case_id, referral_due="2020-01-01")
    login_as(web, "lead")
    assert "OVERDUE" in web.get("/").get_data(as_text=True)
    assert "OVERDUE" in web.get("/alerts").get_data(as_text=True)


def test_a_double_click_raises_one_alert(web, review_store):
    login_as(web, "ofsted1")
    uuid = new_uuid()
    first = raise_alert(web, client_uuid=uuid)
    second = raise_alert(web, client_uuid=uuid)
    assert first.headers["Location"] == second.headers["Location"]
    assert scalar(review_store, "SELECT count(*) FROM safeguarding_alerts") == 1


@pytest.mark.parametrize(("overrides", "anchor"), [
    ({"concern": ""}, "concern"),
    ({"urgency": "whenever"}, "urgency"),
    ({"case_id": ""}, "case_id"),
])
def test_alert_validation(web, review_store, overrides, anchor):
    login_as(web, "ofsted1")
    response = raise_alert(web, **overrides)
    assert response.status_code == 422
    assert f'href="#{anchor}"' in response.get_data(as_text=True)
    assert scalar(review_store, "SELECT count(*) FROM safeguarding_alerts") == 0


def test_an_alert_about_another_reviews_case_is_refused(web, review_store, ids):
    login_as(web, "ofsted1")
    response = raise_alert(web, case_id=str(ids.foreign_case_id))
    assert response.status_code == 422
    assert scalar(review_store, "SELECT count(*) FROM safeguarding_alerts") == 0


def test_an_account_not_linked_to_an_inspector_records_no_events(web, review_store, ids):
    """As in the API: every event names the inspector who recorded it, so a lead
    account without an inspector of this review cannot add one (it could, with
    recorded_by empty)."""
    from inspect_kit import accounts

    private = review_store.private()
    accounts.add_account(private, username="visiting-lead", password="correct-horse-battery", role="lead")
    private.close()
    with web.session_transaction() as session:
        session["actor"] = {"id": "visiting-lead", "role": "lead", "strand": None, "inspector": None}
    assert 'id="add-event"' not in web.get("/cases/C-017").get_data(as_text=True)
    assert web.get("/cases/C-017/events/new").status_code == 403
    response = post(web, "/cases/C-017/events/new", event_form(ids), token_from="/cases/C-017")
    assert response.status_code == 403
    assert scalar(review_store, "SELECT count(*) FROM chronology_events") == 0


# ----------------------------------------------------------------- what the review's status takes


def _at_status(store, review_id: int, status: str) -> None:
    with contextlib.closing(store.evidence()) as db:
        db.execute("UPDATE reviews SET status = ? WHERE id = ?", [status, review_id])


def test_the_pages_and_the_api_say_what_the_status_refuses_and_keep_the_text(web, review_store, ids):
    """As for findings: the event form in drafting and the alert form in a closed review answer 409 with the
    reason above the form and the typed text kept; in drafting an alert is still raised; the API says 409."""
    from inspect_kit import accounts

    login_as(web, "police1")
    _at_status(review_store, ids.review_id, "drafting")
    refused = add_event(web, ids, description="Typed after drafting began zxqv.")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert any("takes no new chronology events" in text for text in texts(page, ".govuk-error-summary"))
    assert "Typed after drafting began zxqv." in page
    assert raise_alert(web, concern="Still raised in drafting.").status_code == 302
    assert "Drafting" in texts(web.get("/").get_data(as_text=True), "#review-status")[0]
    _at_status(review_store, ids.review_id, "closed")
    before = scalar(review_store, "SELECT count(*) FROM safeguarding_alerts")
    refused = raise_alert(web, concern="Typed in a closed review zxqv.")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "Typed in a closed review zxqv." in page
    assert any("front door" in text for text in texts(page, ".govuk-error-summary"))
    assert not elements(page, ".govuk-notification-banner--success")
    assert scalar(review_store, "SELECT count(*) FROM safeguarding_alerts") == before
    _at_status(review_store, ids.review_id, "drafting")
    with contextlib.closing(review_store.private()) as db:
        headers = {"Authorization": f"Bearer {accounts.issue_token(db, 'police1')}"}
    answer = web.post("/api/chronology", json={
        "client_uuid": new_uuid(), "case_ref": "C-017", "agency_id": ids.agency_id, "event_date": "2026-03-12",
        "event_type": "home_visit", "description": "By the API after drafting."}, headers=headers)
    assert answer.status_code == 409, answer.get_data(as_text=True)
    assert "takes no new chronology events" in answer.get_json()["message"]
