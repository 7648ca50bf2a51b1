"""The finding form, page, list and history: validation, kept text, hostile
input, CSRF, idempotent resubmission, editing with versions, and QA."""

from __future__ import annotations

import html
import re

import pytest

from .pages import elements, form_fields, hidden
from .web_fixtures import csrf_token, finding_form, login_as, new_uuid, post, record


def count(store, sql="SELECT count(*) FROM findings"):
    db = store.evidence()
    return db.execute(sql).fetchone()[0]


def submit_finding(client, ids, **overrides):
    return post(client, "/findings/new", finding_form(ids, **overrides), token_from="/findings/new")


@pytest.fixture
def inspector(web):
    return login_as(web, "ofsted1")


def test_the_form_shows_the_reviews_lists_and_todays_date(inspector):
    import datetime as dt

    page = inspector.get("/findings/new").get_data(as_text=True)
    today = dt.date.today()
    assert "C-017" in page and "C-018" in page and "C-900" not in page  # not another review's case
    assert "Testbridge MASH" in page and "Elsewhere GP" not in page
    assert f'id="collected_on-day" name="collected_on" type="text" value="{today:%d}"' in page
    assert f'value="{today:%Y}"' in page
    # Criteria as checkboxes grouped by judgement area, each with primary/secondary.
    assert page.count('class="govuk-fieldset"') >= 3
    assert elements(page, 'input[name="criteria"][type="checkbox"][value="2.3"]')
    assert elements(page, 'input[name="relevance-2.3"][type="radio"][value="secondary"]')
    assert re.fullmatch(r"[0-9a-f-]{36}", hidden(page, "client_uuid"))
    assert 'value="submit"' in page and 'value="draft"' in page


def test_a_valid_submission_is_stored_and_submitted(inspector, review_store, ids):
    response = submit_finding(inspector, ids)
    assert response.status_code == 302
    assert response.headers["Location"] == "/findings/EF-OFS-01-0001"
    page = inspector.get("/findings/EF-OFS-01-0001").get_data(as_text=True)
    assert "has been submitted for QA" in page
    assert "Submitted" in page and "C-017" in page and "2.3" in page
    assert count(review_store, "SELECT count(*) FROM findings WHERE qa_status = 'submitted'") == 1


def test_save_as_draft_needs_no_criteria(inspector, review_store, ids):
    response = submit_finding(inspector, ids, action="draft", criteria=None)
    assert response.status_code == 302
    assert count(review_store, "SELECT count(*) FROM findings WHERE qa_status = 'draft'") == 1


BAD_INPUT = [
    ({"evidence_text": ""}, "evidence_text", "Enter the evidence"),
    ({"evidence_text": "   \n  "}, "evidence_text", "Enter the evidence"),
    ({"activity": ""}, "activity", "Select the activity"),
    ({"activity": "juggling"}, "activity", "Select a valid activity"),
    ({"finding_type": None}, "finding_type", "Select the type of finding"),
    ({"finding_type": "excellent"}, "finding_type", "Select a valid type of finding"),
    ({"impact_on_child": "catastrophic"}, "impact_on_child", "Select a valid impact on the child"),
    ({"collected_on": ["31", "2", "2026"]}, "collected_on-day", "Enter a real date"),
    ({"collected_on": ["", "", ""]}, "collected_on-day", "Enter the date the evidence was collected"),
    ({"collected_on": ["1", "1", "2999"]}, "collected_on-day", "must be today or in the past"),
    ({"collected_on": "2026"}, "collected_on-day", "Enter a real date"),
    ({"criteria": None}, "criteria", "Select at least one framework criterion"),
    ({"criteria": ["9.9"]}, "criteria", "is not one of them"),
    ({"relevance-2.3": "tertiary"}, "criteria", "must be primary or secondary"),
    ({"case_id": "not-a-number"}, "case_id", "Select a case from the list"),
    ({"case_id": "9" * 30}, "case_id", "Select a case from the list"),
    ({"agency_id": "99999"}, "agency_id", "Select a agency from this review"),
    ({"evidence_text": "Bell\x07 rang"}, "evidence_text", "a control character (U+0007"),
    ({"evaluation_text": "x" * 20_001}, "evaluation_text", "20,000 characters or fewer"),
    ({"evidence_text": "y" * 1_000_000}, "evidence_text", "20,000 characters or fewer"),
]


@pytest.mark.parametrize(("overrides", "anchor", "message"), BAD_INPUT,
                         ids=[f"{anchor}-{i}" for i, (_, anchor, _) in enumerate(BAD_INPUT)])
def test_bad_input_is_named_next_to_its_field_and_in_the_summary(inspector, review_store, ids, overrides, anchor,
                                                                 message):
    response = submit_finding(inspector, ids, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<title>Error: " in page
    summary = page.split('govuk-error-summary__list"')[1].split("</ul>")[0]
    assert f'href="#{anchor}"' in summary
    assert message in html.unescape(summary)
    assert f'id="{anchor}"' in page  # the link has somewhere to go
    assert 'class="govuk-error-message"' in page
    assert count(review_store) == 0


def test_the_criteria_error_and_hint_are_announced_with_every_area(inspector, ids):
    page = submit_finding(inspector, ids, criteria=None).get_data(as_text=True)
    fieldsets = [fieldset for fieldset in elements(page, "fieldset.govuk-fieldset")
                 if fieldset.find("legend") is not None
                 and re.match(r"\d\. ", fieldset.find("legend").text_content().strip())]
    assert len(fieldsets) >= 3  # one per judgement area
    described = [fieldset.get("aria-describedby") for fieldset in fieldsets]
    assert all(ids == "criteria-hint criteria-error" for ids in described), described
    assert 'id="criteria-error"' in page and 'id="criteria-hint"' in page


def test_a_foreign_case_or_agency_is_refused(inspector, review_store, ids):
    response = submit_finding(inspector, ids, case_id=str(ids.foreign_case_id), agency_id=str(ids.foreign_agency_id))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Select a case from this review's list" in page
    assert "Select a agency from this review's list" in page
    assert count(review_store) == 0


def test_everything_typed_is_kept_when_there_is_an_error(inspector, ids):
    uuid = new_uuid()
    response = submit_finding(
        inspector, ids, client_uuid=uuid, activity="", case_id=str(ids.other_case_id),
        agency_id=str(ids.other_agency_id),
        collected_on=["4", "11", "2026"], evidence_text="Line one\nLine <two> & 'three'",
        evaluation_text="My careful evaluation", finding_type="strength", impact_on_child="positive",
        criteria=["2.1", "3.3"], **{"relevance-3.3": "secondary"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    # Escaped as text, not markup.
    assert "Line one\nLine &lt;two&gt; &amp; &#39;three&#39;</textarea>" in page
    fields = form_fields(page, "#finding-form")
    assert fields["client_uuid"] == uuid
    assert fields["evidence_text"] == "Line one\nLine <two> & 'three'"
    assert fields["evaluation_text"] == "My careful evaluation"
    assert fields["case_id"] == str(ids.other_case_id)
    assert fields["agency_id"] == str(ids.other_agency_id)
    assert fields["collected_on"] == ["4", "11", "2026"]
    assert fields["finding_type"] == "strength"
    assert fields["impact_on_child"] == "positive"
    assert fields["criteria"] == ["2.1", "3.3"]
    assert fields["relevance-3.3"] == "secondary"


@pytest.mark.parametrize("token", [None, "", "forged-token", "IjEyMyI.aaa.bbb"])
def test_missing_or_wrong_csrf_token_is_refused_and_nothing_stored(inspector, review_store, ids, token):
    data = finding_form(ids)
    if token is not None:
        data["csrf_token"] = token
    response = inspector.post("/findings/new", data=data)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert count(review_store) == 0


def test_script_tags_are_stored_as_text_and_shown_escaped(inspector, review_store, ids):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = submit_finding(inspector, ids, evidence_text=hostile, evaluation_text=hostile)
    assert response.status_code == 302
    assert count(review_store, "SELECT count(*) FROM findings WHERE evidence_text LIKE '<script>%'") == 1
    for path in ("/findings/EF-OFS-01-0001", "/findings", "/", "/findings/EF-OFS-01-0001/history"):
        page = inspector.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page, path
    page = inspector.get("/findings/EF-OFS-01-0001").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_the_same_submission_twice_makes_one_record(inspector, review_store, ids):
    form = finding_form(ids)
    first = post(inspector, "/findings/new", form, token_from="/findings/new")
    second = post(inspector, "/findings/new", form, token_from="/findings/new")
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(review_store) == 1
    assert "already saved" in inspector.get(second.headers["Location"]).get_data(as_text=True)


def test_a_draft_then_a_resubmit_of_the_same_form_submits_it(inspector, review_store, ids):
    form = finding_form(ids, action="draft")
    post(inspector, "/findings/new", form, token_from="/findings/new")
    post(inspector, "/findings/new", {**form, "action": "submit"}, token_from="/findings/new")
    assert count(review_store, "SELECT count(*) FROM findings WHERE qa_status = 'submitted'") == 1
    assert count(review_store) == 1


def test_the_same_uuid_with_other_content_is_a_conflict(inspector, review_store, ids):
    form = finding_form(ids)
    post(inspector, "/findings/new", form, token_from="/findings/new")
    response = post(inspector, "/findings/new", {**form, "evidence_text": "Something else"}, token_from="/findings/new")
    assert response.status_code == 409
    assert "already used for a different record" in response.get_data(as_text=True)
    assert count(review_store) == 1


def test_a_request_over_the_size_limit_is_a_413_page(inspector, review_store, ids):
    response = submit_finding(inspector, ids, evidence_text="z" * (11 * 1024 * 1024))
    assert response.status_code == 413
    assert "keep each text box" in response.get_data(as_text=True)
    assert count(review_store) == 0


def test_a_damaged_uuid_is_a_field_error_not_a_crash(inspector, review_store, ids):
    response = submit_finding(inspector, ids, client_uuid="not-a-uuid")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "submission id was damaged" in page
    assert "not-a-uuid" not in page  # a fresh id, so the next submit works
    assert count(review_store) == 0


def test_admins_have_no_finding_form(web):
    login_as(web, "admin")
    assert web.get("/findings/new").status_code == 403


# ----------------------------------------------------------------- editing and history


def edit(client, public_id, **overrides):
    page = client.get(f"/findings/{public_id}/edit").get_data(as_text=True)
    version = hidden(page, "expected_version")
    assert version.isdigit(), version
    data = {"expected_version": version, **overrides}
    return post(client, f"/findings/{public_id}/edit", data, token_from=f"/findings/{public_id}/edit")


def test_editing_a_draft_needs_no_reason_and_keeps_the_old_version(inspector, review_store, ids):
    submit_finding(inspector, ids, action="draft")
    form = finding_form(ids, evidence_text="Corrected evidence", action="save")
    response = edit(inspector, "EF-OFS-01-0001", **{k: v for k, v in form.items() if k != "client_uuid"})
    assert response.status_code == 302
    history = inspector.get("/findings/EF-OFS-01-0001/history").get_data(as_text=True)
    assert "Version 2" in history and "Version 1" in history
    assert "Corrected evidence" in history and "The strategy discussion on 3 March" in history


def test_editing_a_submitted_finding_asks_for_a_reason(inspector, review_store, ids):
    submit_finding(inspector, ids)
    page = inspector.get("/findings/EF-OFS-01-0001/edit").get_data(as_text=True)
    assert 'name="reason"' in page
    form = {k: v for k, v in finding_form(ids, evidence_text="Changed", action="save").items() if k != "client_uuid"}
    response = edit(inspector, "EF-OFS-01-0001", **form)
    assert response.status_code == 422
    assert 'href="#reason"' in response.get_data(as_text=True)
    assert "Changed</textarea>" in response.get_data(as_text=True)
    response = edit(inspector, "EF-OFS-01-0001", reason="Added the date of the meeting", **form)
    assert response.status_code == 302
    history = inspector.get("/findings/EF-OFS-01-0001/history").get_data(as_text=True)
    assert "Added the date of the meeting" in history


def test_a_stale_version_is_a_conflict_that_keeps_the_typed_text(inspector, review_store, ids):
    submit_finding(inspector, ids, action="draft")
    stale = {k: v for k, v in finding_form(ids, action="save").items() if k != "client_uuid"}
    edit(inspector, "EF-OFS-01-0001", **{**stale, "evidence_text": "Saved in another tab"})
    response = post(inspector, "/findings/EF-OFS-01-0001/edit",
                    {**stale, "expected_version": "1", "evidence_text": "My longer notes"},
                    token_from="/findings/EF-OFS-01-0001/edit")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "My longer notes</textarea>" in page
    assert "Saved in another tab" in page  # the current version, to compare
    assert 'name="expected_version" type="hidden" value="2"' in page
    assert count(review_store, "SELECT max(version) FROM findings") == 2


def test_the_same_edit_arriving_twice_is_saved_once(inspector, review_store, ids):
    submit_finding(inspector, ids, action="draft")
    form = {k: v for k, v in finding_form(ids, evidence_text="Edited once", action="save").items()
            if k != "client_uuid"}
    page = inspector.get("/findings/EF-OFS-01-0001/edit").get_data(as_text=True)
    version = hidden(page, "expected_version")
    assert version.isdigit(), version
    for _ in range(2):
        response = post(inspector, "/findings/EF-OFS-01-0001/edit", {**form, "expected_version": version},
                        token_from="/findings/EF-OFS-01-0001/edit")
        assert response.status_code == 302
    assert count(review_store, "SELECT count(*) FROM finding_versions") == 2


def test_only_the_author_edits(web, review_store, ids):
    record(review_store, "ofsted1", ids)
    login_as(web, "ofsted2")
    assert web.get("/findings/EF-OFS-01-0001").status_code == 200  # same strand: may read
    assert web.get("/findings/EF-OFS-01-0001/edit").status_code == 403
    form = {k: v for k, v in finding_form(ids, action="save").items() if k != "client_uuid"}
    response = post(web, "/findings/EF-OFS-01-0001/edit", {**form, "expected_version": "1"})
    assert response.status_code == 403


def test_other_strands_cannot_read_a_finding(web, review_store, ids):
    record(review_store, "ofsted1", ids)
    login_as(web, "police1")
    response = web.get("/findings/EF-OFS-01-0001")
    assert response.status_code == 403
    assert "another strand" in response.get_data(as_text=True)
    assert "EF-OFS-01-0001" not in web.get("/findings").get_data(as_text=True)


def test_unknown_finding_is_a_404_page(inspector):
    response = inspector.get("/findings/EF-NOPE-99-9999")
    assert response.status_code == 404
    assert "No finding EF-NOPE-99-9999" in response.get_data(as_text=True)


def test_the_list_filters_by_status(inspector, review_store, ids):
    record(review_store, "ofsted1", ids, evidence_text="A draft one")
    record(review_store, "ofsted1", ids, evidence_text="A submitted one", submit=True)
    record(review_store, "police1", ids, evidence_text="Police evidence")
    everything = inspector.get("/findings").get_data(as_text=True)
    assert "A draft one" in everything and "A submitted one" in everything
    assert "Police evidence" not in everything
    drafts = inspector.get("/findings?status=draft").get_data(as_text=True)
    assert "A draft one" in drafts and "A submitted one" not in drafts
    # An unknown status is left out of the list's address: the whole list.
    bogus = inspector.get("/findings?status=bogus")
    assert bogus.status_code == 302 and bogus.headers["Location"] == "/findings"


# ----------------------------------------------------------------- QA


def qa_page(client, public_id):
    """What a browser holds after opening a finding's page: its CSRF token, the
    QA forms' client uuid and the version shown."""
    return qa_fields(client.get(f"/findings/{public_id}").get_data(as_text=True))


def qa_fields(page):
    """The hidden fields of the first QA form on a finding's page (the upload form has its own uuid)."""
    fields = {}
    for name in ("csrf_token", "client_uuid", "expected_version"):
        found = elements(page, f'input[name="{name}"]')
        if found:
            fields[name] = found[0].get("value", "")
    return fields


def qa_action(client, public_id, action, comment=None, *, opened=None):
    """Press a QA button: on a freshly opened page, or on the page ``opened`` (see :func:`qa_page`) earlier."""
    data = {"action": action, **(opened or qa_page(client, public_id))}
    if comment is not None:
        data["comment"] = comment
    return client.post(f"/findings/{public_id}/qa", data=data)


def test_return_with_comment_then_the_author_sees_it_and_resubmits(web, review_store, ids):
    record(review_store, "ofsted1", ids, submit=True)
    login_as(web, "lead")
    queue = web.get("/qa").get_data(as_text=True)
    assert "EF-OFS-01-0001" in queue
    response = qa_action(web, "EF-OFS-01-0001", "return", "Say which agency <b>held</b> the record")
    assert response.status_code == 302
    assert 'href="/findings/EF-OFS-01-0001#qa"' not in web.get("/qa").get_data(as_text=True)

    login_as(web, "ofsted1")
    dashboard = web.get("/").get_data(as_text=True)
    assert "Say which agency &lt;b&gt;held&lt;/b&gt; the record" in dashboard
    page = web.get("/findings/EF-OFS-01-0001").get_data(as_text=True)
    assert 'id="returned-banner"' in page and "Say which agency &lt;b&gt;held" in page
    assert "Say which agency &lt;b&gt;held" in web.get("/findings/EF-OFS-01-0001/edit").get_data(as_text=True)
    form = {k: v for k, v in finding_form(ids, evidence_text="Now with the agency", action="submit").items()
            if k != "client_uuid"}
    response = edit(web, "EF-OFS-01-0001", reason="Named the agency", **form)
    assert response.status_code == 302
    assert count(review_store, "SELECT count(*) FROM findings WHERE qa_status = 'submitted'") == 1

    login_as(web, "moderator")
    assert qa_action(web, "EF-OFS-01-0001", "accept").status_code == 302
    assert count(review_store, "SELECT count(*) FROM findings WHERE qa_status = 'accepted'") == 1


def test_returning_without_a_comment_is_refused(web, review_store, ids):
    record(review_store, "ofsted1", ids, submit=True)
    login_as(web, "lead")
    response = qa_action(web, "EF-OFS-01-0001", "return", "")
    assert response.status_code == 422
    assert 'href="#comment"' in response.get_data(as_text=True)
    assert "<title>Error: EF-OFS-01-0001" in response.get_data(as_text=True)
    assert count(review_store, "SELECT count(*) FROM findings WHERE qa_status = 'submitted'") == 1


def test_pressing_accept_twice_is_harmless(web, review_store, ids):
    record(review_store, "ofsted1", ids, submit=True)
    login_as(web, "lead")
    opened = qa_page(web, "EF-OFS-01-0001")
    assert qa_action(web, "EF-OFS-01-0001", "accept", opened=opened).status_code == 302
    response = qa_action(web, "EF-OFS-01-0001", "accept", opened=opened)  # a double click, or the browser's retry
    assert response.status_code == 302
    assert count(review_store, "SELECT count(*) FROM qa_actions WHERE action = 'accept'") == 1
    assert count(review_store, "SELECT count(*) FROM audit_log WHERE action = 'finding.accept'") == 1


def test_returning_twice_with_another_comment_hands_the_second_back(web, review_store, ids):
    record(review_store, "ofsted1", ids, submit=True)
    login_as(web, "lead")
    first_tab, second_tab = qa_page(web, "EF-OFS-01-0001"), qa_page(web, "EF-OFS-01-0001")
    assert qa_action(web, "EF-OFS-01-0001", "return", "Name the agency", opened=first_tab).status_code == 302
    double_click = qa_action(web, "EF-OFS-01-0001", "return", "Name the agency\r\n", opened=first_tab)
    assert double_click.status_code == 302
    response = qa_action(web, "EF-OFS-01-0001", "return", "Also give the date", opened=second_tab)
    assert response.status_code == 409
    assert "Also give the date</textarea>" in response.get_data(as_text=True)
    assert count(review_store, "SELECT count(*) FROM qa_actions WHERE action = 'return'") == 1


def test_inspectors_cannot_accept_and_unknown_actions_are_refused(inspector, review_store, ids):
    record(review_store, "ofsted2", ids, submit=True)
    assert qa_action(inspector, "EF-OFS-02-0001", "accept").status_code == 403
    assert qa_action(inspector, "EF-OFS-02-0001", "approve-everything").status_code == 422


def test_the_author_withdraws_with_a_reason(inspector, review_store, ids):
    record(review_store, "ofsted1", ids)
    assert qa_action(inspector, "EF-OFS-01-0001", "withdraw", "").status_code == 422
    assert qa_action(inspector, "EF-OFS-01-0001", "withdraw", "Recorded twice by mistake").status_code == 302
    page = inspector.get("/findings/EF-OFS-01-0001").get_data(as_text=True)
    assert "Withdrawn" in page and "Recorded twice by mistake" in page
    assert inspector.get("/findings/EF-OFS-01-0001/edit").status_code == 409


def test_qa_post_without_csrf_is_refused(web, review_store, ids):
    record(review_store, "ofsted1", ids, submit=True)
    login_as(web, "lead")
    response = web.post("/findings/EF-OFS-01-0001/qa", data={"action": "accept"})
    assert response.status_code == 400
    assert count(review_store, "SELECT count(*) FROM findings WHERE qa_status = 'accepted'") == 0
    assert csrf_token(web, "/")  # the session still works


def test_a_comment_refused_because_another_lead_acted_first_is_handed_back(web, review_store, ids):
    record(review_store, "ofsted1", ids, submit=True)
    login_as(web, "lead")
    opened = qa_page(web, "EF-OFS-01-0001")  # the lead opens the page, then types for a while
    moderator = web.application.test_client()
    login_as(moderator, "moderator")
    assert qa_action(moderator, "EF-OFS-01-0001", "accept").status_code == 302
    response = qa_action(web, "EF-OFS-01-0001", "return", "Five careful <paragraphs> of feedback", opened=opened)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Five careful &lt;paragraphs&gt; of feedback</textarea>" in page
    assert count(review_store, "SELECT count(*) FROM qa_actions WHERE action = 'return'") == 0


def test_an_edit_refused_because_the_record_was_withdrawn_is_handed_back(web, review_store, ids):
    record(review_store, "ofsted1", ids)
    login_as(web, "ofsted1")
    page = web.get("/findings/EF-OFS-01-0001/edit").get_data(as_text=True)
    token = hidden(page, "csrf_token")
    assert qa_action(web, "EF-OFS-01-0001", "withdraw", "Recorded twice").status_code == 302  # in another tab
    form = {k: v for k, v in finding_form(ids, evidence_text="Ten minutes of new notes", action="save").items()
            if k != "client_uuid"}
    response = web.post("/findings/EF-OFS-01-0001/edit", data={**form, "expected_version": "1", "csrf_token": token})
    assert response.status_code == 409
    assert "Ten minutes of new notes</textarea>" in response.get_data(as_text=True)


def test_accept_on_a_page_opened_before_the_authors_edit_shows_the_new_version(web, review_store, ids):
    from inspect_kit import accounts, findings

    record(review_store, "ofsted1", ids, submit=True, evidence_text="The first words")
    login_as(web, "lead")
    opened = qa_page(web, "EF-OFS-01-0001")
    assert opened["expected_version"] == "1"
    db, private = review_store.evidence(), review_store.private()
    try:  # the author edits while the lead reads
        author = accounts.actor_for(accounts.get_account(private, "ofsted1"), db, ids.review_id)
        findings.edit_finding(db, author, 1, {"case_id": ids.case_id, "agency_id": ids.agency_id,
                                              "activity": "interview", "collected_on": "2026-11-03",
                                              "evidence_text": "Rewritten <after> the lead opened it",
                                              "finding_type": "strength", "criteria": ["2.1"]},
                              reason="Changed my mind", expected_version=1)
    finally:
        db.close()
        private.close()
    response = qa_action(web, "EF-OFS-01-0001", "return", "Say which <agency>", opened=opened)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "changed since you opened it" in page and "version 2" in page
    assert "Rewritten &lt;after&gt; the lead opened it" in page  # the page now shows the new words
    assert "Say which &lt;agency&gt;</textarea>" in page  # and keeps the typed comment
    assert count(review_store, "SELECT count(*) FROM qa_actions WHERE action = 'return'") == 0
    # The 409 page carries the new version: acting from it goes through.
    again = qa_fields(page)
    assert again["expected_version"] == "2" and again["client_uuid"] != opened["client_uuid"]
    assert qa_action(web, "EF-OFS-01-0001", "accept", opened=again).status_code == 302
    assert count(review_store, "SELECT count(*) FROM findings WHERE qa_status = 'accepted'") == 1


def test_a_qa_form_without_its_version_is_treated_as_stale(web, review_store, ids):
    record(review_store, "ofsted1", ids, submit=True)
    login_as(web, "lead")
    opened = qa_page(web, "EF-OFS-01-0001")
    for damaged in ({k: v for k, v in opened.items() if k != "expected_version"}, {**opened, "expected_version": "x"},
                    {**opened, "expected_version": "9" * 40}):
        assert qa_action(web, "EF-OFS-01-0001", "accept", opened=damaged).status_code == 409
    assert count(review_store, "SELECT count(*) FROM qa_actions WHERE action = 'accept'") == 0


@pytest.mark.parametrize("body", [b"evidence_text=bad%FF%FE", b"evidence_text=raw\xff\xfe", b"evidence_text=%ED%A0%80"])
def test_a_form_post_that_is_not_utf8_is_refused_not_stored_mangled(inspector, review_store, ids, body):
    token = csrf_token(inspector, "/findings/new")
    form = finding_form(ids, evidence_text=None)
    encoded = "&".join(f"{k}={v}" for k, values in form.items()
                       for v in (values if isinstance(values, list) else [values])).encode()
    response = inspector.post("/findings/new", data=encoded + b"&csrf_token=" + token.encode() + b"&" + body,
                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "evidence_text" in response.get_data(as_text=True) and "UTF-8" in response.get_data(as_text=True)
    assert count(review_store) == 0


def test_a_multipart_post_with_undecodable_text_is_refused(inspector, review_store, ids):
    token = csrf_token(inspector, "/findings/new")
    boundary = "XyZ"
    parts = [("csrf_token", token.encode()), ("client_uuid", new_uuid().encode()), ("activity", b"interview"),
             ("finding_type", b"strength"), ("evidence_text", b"bad \xff\xfe bytes")]
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
                    for name, value in parts) + f"--{boundary}--\r\n".encode()
    response = inspector.post("/findings/new", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400 and "evidence_text" in response.get_data(as_text=True)
    assert count(review_store) == 0
