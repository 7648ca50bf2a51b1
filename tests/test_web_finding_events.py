"""The finding form's choice of cited events (without JavaScript), the finding page's list of
them and the case page's citing findings, each as the policy lets the reader see them."""

from __future__ import annotations

import pytest

from inspect_kit import accounts, chronology

from .pages import elements
from .web_fixtures import finding_form, login_as, new_uuid, post, record


@pytest.fixture
def events(review_store, ids):
    """Two events of C-017 and one of C-018, recorded by ofsted1."""
    db = review_store.evidence()
    actor = accounts.actor_for(accounts.get_account(review_store.private(), "ofsted1"), db, ids.review_id)

    def add(case_id, day, text):
        return chronology.record_event(db, actor, {
            "case_id": case_id, "agency_id": ids.agency_id, "event_date": day, "event_type": "home_visit",
            "description": text}, client_uuid=new_uuid(), review_id=ids.review_id).record["id"]

    return {"first": add(ids.case_id, "2026-09-02", "Home visit; child not seen alone."),
            "second": add(ids.case_id, "2026-10-05", "Home visit; <b>unknown adult</b> present."),
            "sibling": add(ids.other_case_id, "2026-10-06", "Sibling seen at school.")}


def boxes(page: str) -> dict[str, bool]:
    return {box.get("value"): box.get("checked") is not None for box in elements(page, "input[name='event_ids']")}


def test_choosing_a_case_shows_its_events_without_saving_and_keeps_what_was_typed(web, review_store, ids, events):
    login_as(web, "ofsted1")
    blank = web.get("/findings/new").get_data(as_text=True)
    assert boxes(blank) == {} and elements(blank, "button[value='events']")
    shown = post(web, "/findings/new", finding_form(ids, action="events", evidence_text="Typed <first>."),
                 token_from="/findings/new")
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert boxes(page) == {str(events["first"]): False, str(events["second"]): False}  # C-017's, not C-018's
    assert [legend.text_content().strip() for legend in elements(page, "#event_ids-group legend")] == [
        "September 2026", "October 2026"]
    assert "&lt;b&gt;unknown adult&lt;/b&gt;" in page and "<b>unknown adult</b>" not in page
    assert elements(page, "#evidence_text")[0].text_content().strip() == "Typed <first>."
    assert review_store.evidence().execute("SELECT count(*) FROM findings").fetchone()[0] == 0


@pytest.mark.parametrize("case", ["foreign", "other", "garbage"])
def test_the_list_offers_only_the_chosen_case_of_this_review(web, ids, events, case):
    login_as(web, "ofsted1")
    case_id = {"foreign": ids.foreign_case_id, "other": ids.other_case_id, "garbage": "1 OR 1=1"}[case]
    page = post(web, "/findings/new", finding_form(ids, action="events", case_id=str(case_id)),
                token_from="/findings/new").get_data(as_text=True)
    assert boxes(page) == ({str(events["sibling"]): False} if case == "other" else {})


def test_a_refused_citation_keeps_the_choice_and_the_text(web, review_store, ids, events):
    login_as(web, "ofsted1")
    response = post(web, "/findings/new", finding_form(
        ids, event_ids=[str(events["first"]), str(events["sibling"])], evidence_text="Kept evidence."),
        token_from="/findings/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "in the chronology of case C-018" in elements(page, "#event_ids-error")[0].text_content()
    assert elements(page, ".govuk-error-summary a[href='#event_ids']")
    assert boxes(page) == {str(events["first"]): True, str(events["second"]): False}
    assert elements(page, "#evidence_text")[0].text_content().strip() == "Kept evidence."
    assert review_store.evidence().execute("SELECT count(*) FROM findings").fetchone()[0] == 0


def test_the_finding_and_the_case_page_show_the_links_to_those_who_may_read_them(web, review_store, ids, events):
    finding = record(review_store, "ofsted1", ids, event_ids=[events["second"], events["first"]])
    login_as(web, "ofsted1")
    page = web.get(f"/findings/{finding['public_id']}").get_data(as_text=True)
    links = [link.get("href") for link in elements(page, "#cited-events a")]
    assert links == [f"/cases/C-017#event-{events['first']}", f"/cases/C-017#event-{events['second']}"]
    edit = web.get(f"/findings/{finding['public_id']}/edit").get_data(as_text=True)
    assert boxes(edit) == {str(events["first"]): True, str(events["second"]): True}
    for who, sees in (("ofsted1", True), ("ofsted2", True), ("lead", True), ("moderator", True),
                      ("health1", False), ("police1", False)):
        login_as(web, who)
        case_page = web.get("/cases/C-017").get_data(as_text=True)
        citing = [link.text_content() for link in elements(case_page, f"#citing-{events['first']} a")]
        assert citing == ([finding["public_id"]] if sees else []), who
        assert (finding["public_id"] in case_page) == sees, who
    login_as(web, "health1")
    assert web.get(f"/findings/{finding['public_id']}").status_code == 403
    login_as(web, "ofsted1")
    empty = record(review_store, "ofsted1", ids)
    page = web.get(f"/findings/{empty['public_id']}").get_data(as_text=True)
    assert "This record cites no chronology events." in page


def test_an_edit_through_the_form_replaces_the_cited_events(web, review_store, ids, events):
    finding = record(review_store, "ofsted1", ids, event_ids=[events["first"]])
    login_as(web, "ofsted1")
    form = finding_form(ids, client_uuid=None, expected_version=str(finding["version"]), action="save",
                        event_ids=[str(events["second"])], criteria=["2.1"], **{"relevance-2.1": "primary"})
    response = post(web, f"/findings/{finding['public_id']}/edit", form, token_from="/findings/new")
    assert response.status_code == 302, response.get_data(as_text=True)
    stored = review_store.evidence().execute("SELECT event_id FROM finding_events").fetchall()
    assert stored == [(events["second"],)]


def test_the_history_names_the_events_cited_before_and_after(web, review_store, ids, events):
    from inspect_kit import findings

    finding = record(review_store, "ofsted1", ids, event_ids=[events["first"]])
    db = review_store.evidence()
    actor = accounts.actor_for(accounts.get_account(review_store.private(), "ofsted1"), db, ids.review_id)
    values = {key: finding[key] for key in ("case_id", "agency_id", "activity", "collected_on", "evidence_text",
                                             "finding_type")}
    findings.edit_finding(db, actor, finding["id"], {**values, "criteria": ["2.1"], "event_ids": []},
                          expected_version=finding["version"])
    login_as(web, "ofsted1")
    page = web.get(f"/findings/{finding['public_id']}/history").get_data(as_text=True)
    row = [cells for cells in (
        [cell.text_content().strip() for cell in row.xpath("./th|./td")] for row in elements(page, "#version-2 tr"))
        if cells[0] == "Chronology events it rests on"]
    assert row == [["Chronology events it rests on", f"Event {events['first']}", "none"]]
