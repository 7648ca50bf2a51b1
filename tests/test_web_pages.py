"""Dashboards per role, error pages in the layout, local assets only, and a
clear message when the govuk-frontend assets are missing."""

from __future__ import annotations

import re

import pytest
from werkzeug.exceptions import InternalServerError

from inspect_kit import paths
from inspect_kit.errors import Conflict

from .pages import attributes, elements, links, text_of
from .web_fixtures import login_as, make_app, record


def test_inspector_dashboard_has_helpful_empty_states(web):
    login_as(web, "ofsted1")
    page = web.get("/").get_data(as_text=True)
    assert "You have no drafts" in page
    assert "Nothing has been returned to you" in page
    assert "Nothing of yours is waiting for QA" in page
    assert 'id="days-left"' in page and "days left" in page
    assert 'id="qa-queue-size"' not in page  # not a lead's panel
    assert 'href="/findings/new"' in page


def test_inspector_dashboard_lists_their_own_records(web, review_store, ids):
    record(review_store, "ofsted1", ids, evidence_text="My draft note")
    record(review_store, "ofsted1", ids, evidence_text="My submitted note", submit=True)
    record(review_store, "ofsted2", ids, evidence_text="A colleague's draft")
    login_as(web, "ofsted1")
    page = web.get("/").get_data(as_text=True)
    drafts = page.split('id="drafts"')[1].split('id="submitted"')[0]
    assert "My draft note" in drafts and "My submitted note" not in drafts
    assert "My submitted note" in page.split('id="submitted"')[1]
    assert "A colleague's draft" not in page


def test_lead_dashboard_shows_the_queue_and_alerts(web, review_store, ids):
    record(review_store, "ofsted1", ids, submit=True)
    record(review_store, "police1", ids, submit=True)
    login_as(web, "lead")
    page = web.get("/").get_data(as_text=True)
    assert text_of(page, "#qa-queue-size") == "2 records"
    assert attributes(page, "#qa-queue-size > a")["href"] == "/qa"
    assert '<dd id="open-alerts-count"><a class="govuk-link" href="/alerts">0</a>' in page
    assert 'id="alerts-banner"' not in page


def test_admin_dashboard_summarises_the_review_and_accounts(web):
    login_as(web, "admin")
    page = web.get("/").get_data(as_text=True)
    summary = page.split('id="review-summary"')[1]
    assert "Special review of Testbridge" in summary
    rows = {" ".join(term.text_content().split()): " ".join(term.getnext().text_content().split())
            for term in elements(page, "#review-summary dt")}
    assert rows["Accounts"] == "7", rows
    assert 'href="/findings/new"' not in page  # admins are not authors
    assert "Evidence records</a>" not in page  # nor in the navigation


def test_a_store_without_a_review_says_what_to_do(store):
    from inspect_kit import accounts

    private = store.private()
    accounts.add_account(private, username="ofsted1", password="correct-horse-battery", role="inspector",
                         strand="ofsted")
    private.close()
    client = make_app(store).test_client()
    login_as(client, "ofsted1")
    page = client.get("/").get_data(as_text=True)
    assert "has no review yet" in page and "inspect-kit demo" in page
    response = client.get("/findings")
    assert response.status_code == 404
    assert "has no review yet" in response.get_data(as_text=True)


def test_days_left_counts_down_to_the_draft_deadline(web, review_store, ids):
    import datetime as dt

    db = review_store.evidence()
    due = (dt.date.today() + dt.timedelta(days=6)).isoformat()
    db.execute("UPDATE reviews SET draft_due = ? WHERE id = ?", [due, ids.review_id])
    db.close()
    login_as(web, "ofsted1")
    assert "6 days left" in web.get("/").get_data(as_text=True)


@pytest.mark.parametrize(("path", "status", "text"), [
    ("/no-such-page", 404, "Page not found"),
    ("/findings/EF-XX-00-0000", 404, "No finding"),
    ("/qa", 403, "You cannot see this page"),
    ("/logout", 405, "That action is not available here"),
])
def test_error_pages_use_the_layout(web, path, status, text):
    login_as(web, "ofsted1")
    response = web.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert text in page
    assert "govuk-template" in page and "govuk-service-navigation" in page
    assert 'href="/cases"' in page  # still signed in: the navigation is there
    assert "Traceback" not in page


def test_domain_conflicts_and_crashes_become_pages(review_store):
    app = make_app(review_store, PROPAGATE_EXCEPTIONS=False)  # as in production

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    @app.get("/clash")
    def clash():
        raise Conflict("That record moved on.")

    client = app.test_client()
    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in page
    assert "secret internals" not in page and "Traceback" not in page
    response = client.get("/clash")
    assert response.status_code == 409 and "That record moved on." in response.get_data(as_text=True)


def test_a_500_from_abort_is_a_page(review_store):
    app = make_app(review_store)

    @app.get("/abort")
    def aborted():
        raise InternalServerError()

    assert "Sorry, there is a problem" in app.test_client().get("/abort").get_data(as_text=True)


def test_pages_load_nothing_from_other_sites(web, review_store, ids):
    record(review_store, "ofsted1", ids, submit=True)
    login_as(web, "ofsted1")
    for path in ("/", "/findings/new", "/findings/EF-OFS-01-0001", "/cases/C-017", "/alerts/new"):
        page = web.get(path).get_data(as_text=True)
        external = [link for link in links(page, ("src", "href")) if re.match(r"(https?:)?//", link)]
        assert external == [], path
        assert "/static/govuk-frontend/govuk-frontend.min.css" in page
        assert '<script type="module" src="/static/app.js">' in page


def test_the_vendored_css_uses_the_system_font_stack():
    css = (paths.static_dir() / "govuk-frontend" / "govuk-frontend.min.css").read_text()
    assert "GDS Transport" not in css
    assert "@font-face" not in css
    assert "system-ui" in css
    assert "url(/assets/" not in css  # asset URLs resolve under /static
    app_css = (paths.static_dir() / "app.css").read_text()
    assert "system-ui" in app_css


def test_static_assets_are_served(web):
    for path in ("/static/govuk-frontend/govuk-frontend.min.css", "/static/govuk-frontend/govuk-frontend.min.js",
                 "/static/app.css", "/static/app.js"):
        response = web.get(path)
        assert response.status_code == 200, path
        response.close()


def test_missing_assets_degrade_with_a_clear_message(review_store):
    client = make_app(review_store, GOVUK_ASSETS_READY=False).test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "The page styles are not installed" in page and "make assets" in page
    assert "govuk-frontend.min.css" not in page
    assert 'name="username"' in page  # the form still works


def test_forms_post_without_javascript(web):
    login_as(web, "ofsted1")
    page = web.get("/findings/new").get_data(as_text=True)
    # A plain post to the page itself (the data-ik-outbox attributes are only read by outbox.js).
    form = attributes(page, "#finding-form")
    assert form["method"] == "post" and "novalidate" in form
    assert all(name.startswith("data-ik-") for name in set(form) - {"method", "novalidate", "id"}), form
    assert 'type="submit"' in page


def test_security_headers_and_a_nonce_for_the_one_inline_script(web):
    response = web.get("/login")
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    page = response.get_data(as_text=True)
    assert f'<script nonce="{nonce}">' in page
    assert "script-src 'self' 'nonce-" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert nonce not in web.get("/login").headers["Content-Security-Policy"]  # a new one each time


def test_a_refused_form_hands_back_what_was_typed(web, ids):
    from .web_fixtures import finding_form

    login_as(web, "ofsted1")
    data = finding_form(ids, evidence_text="Ten minutes of <careful> notes")
    response = web.post("/findings/new", data={**data, "csrf_token": "expired"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Ten minutes of &lt;careful&gt; notes</textarea>" in page


def test_the_pinned_govuk_frontend_is_the_one_the_jinja_macros_support():
    """`make assets` pins govuk-frontend; govuk-frontend-jinja 4.x ports the 6.x macros."""
    from importlib import metadata

    makefile = (paths.PACKAGE_DIR.parent / "Makefile").read_text()
    pinned = re.search(r"^GOVUK_FRONTEND_VERSION := (\d+)\.(\d+)\.(\d+)$", makefile, re.M)
    assert pinned, "Makefile must pin GOVUK_FRONTEND_VERSION"
    jinja_major = int(metadata.version("govuk-frontend-jinja").split(".")[0])
    assert {4: 6, 3: 5, 2: 4}[jinja_major] == int(pinned.group(1))
    script = (paths.static_dir() / "govuk-frontend" / "govuk-frontend.min.js").read_text()
    assert f'const version="{".".join(pinned.groups())}"' in script  # what make assets installed


@pytest.mark.parametrize("path", ["/alerts/99999999999999999999999", "/attachments/99999999999999999999999",
                                  "/api/chronology/99999999999999999999999"])
def test_an_id_too_large_for_sqlite_in_the_url_is_a_404(review_store, path):
    client = make_app(review_store, PROPAGATE_EXCEPTIONS=False).test_client()  # a 500 would show as a page
    login_as(client, "lead")
    response = client.get(path)
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_long_panel_says_it_is_cut_and_links_to_the_rest(web, review_store, ids):
    from inspect_kit.dashboard import RECENT_LIMIT

    for n in range(RECENT_LIMIT + 1):
        record(review_store, "ofsted1", ids, evidence_text=f"Draft number {n}")
    login_as(web, "ofsted1")
    drafts = web.get("/").get_data(as_text=True).split('id="drafts"')[1].split('id="submitted"')[0]
    assert drafts.count('href="/findings/EF-OFS-01-') == RECENT_LIMIT
    assert 'href="/findings?mine=1&amp;status=draft"' in drafts
    assert "see all of them" in drafts
