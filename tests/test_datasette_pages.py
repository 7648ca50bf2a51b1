"""Pages a lead reads comfortably: the intake header, links
back to the intake app and to logout, cell links, the chronology timeline,
and one login shared with the intake app through the real server.
"""

from __future__ import annotations

import contextlib

import httpx
import pytest

from inspect_kit import accounts
from inspect_kit.datasette_plugin.app import make_datasette
from inspect_kit.web.server import build_app

from .datasette_support import SECRET, cookies_for
from .pages import hidden


@pytest.fixture
def ds(store, datasette_review):
    return make_datasette(store, SECRET)


async def page(ds, path: str, role: str = "lead") -> str:
    response = await ds.client.get(path, cookies=cookies_for(role))
    assert response.status_code == 200, response.text
    return response.text


async def test_header_links_back_to_the_intake_app(ds):
    html = await page(ds, "/evidence")
    assert 'href="/"' in html
    assert "inspect_kit – joint inspection evidence" in html
    assert 'action="/logout"' in html and 'name="csrf_token"' in html
    assert "lead (Lead inspector)" in html
    assert "/static/govuk-frontend/govuk-frontend.min.css" in html or "govuk-frontend" not in html
    assert "/data/-/static-plugins/inspect_kit/inspect_kit.css" in html


async def test_without_a_csrf_token_sign_out_goes_through_the_intake_app(ds):
    from inspect_kit.datasette_plugin.session import sign_session

    cookie = {"inspect_kit_session": sign_session({"actor": {"id": "lead", "role": "lead"}}, SECRET)}
    html = (await ds.client.get("/evidence", cookies=cookie)).text
    assert 'action="/logout"' not in html and 'class="ik-signout-link" href="/"' in html


async def test_inspector_header_names_the_strand(ds):
    assert "police-inspector (Inspector, police)" in await page(ds, "/evidence", "police_inspector")


async def test_refusal_page_keeps_the_header_and_offers_sign_in(ds):
    response = await ds.client.get("/evidence/findings")
    assert response.status_code == 403
    assert 'href="/login"' in response.text and "inspect_kit" in response.text


async def test_finding_rows_link_to_the_intake_app(ds, datasette_review):
    html = await page(ds, "/evidence/findings")
    assert f'href="/findings/{datasette_review.police_finding}"' in html
    readable = await page(ds, "/evidence/findings_readable")
    assert f'href="/findings/{datasette_review.health_finding}"' in readable and 'href="/cases/C-001"' in readable


async def test_case_rows_link_to_the_intake_app(ds):
    html = await page(ds, "/evidence/cases")
    assert 'href="/cases/C-001"' in html and 'href="/cases/C-002"' in html


async def test_labels_instead_of_ids(ds):
    html = await page(ds, "/evidence/findings")
    for label in ("Police", "Testshire CAIT", "C-001", "POL-01"):
        assert label in html


async def test_chronology_as_a_timeline(ds):
    html = await page(ds, "/evidence/case_chronology?case_ref=C-001&gap_days=30", "police_inspector")
    timeline = html.split('<ol class="ik-timeline"', 1)[1].split("</ol>", 1)[0]
    assert timeline.count("<li class=\"ik-event") == 4
    assert "Missed opportunity" in timeline
    assert "2025-10-01" in timeline and "Testshire ED" in timeline and "Emergency department attendance" in timeline
    assert "days with no recorded contact" in timeline  # October to December
    assert "4 events</strong> across <strong>3 services" in html
    assert 'href="/cases/C-001"' in html


async def test_a_timeline_cut_at_the_row_limit_says_so(store, datasette_review):
    ds = make_datasette(store, SECRET, settings={"max_returned_rows": 3})
    html = await page(ds, "/evidence/case_chronology?case_ref=C-001", "police_inspector")
    assert "Only the first 3 events are shown: this case has more." in html
    assert "More than 3 events</strong>" in html
    full = await page(make_datasette(store, SECRET), "/evidence/case_chronology?case_ref=C-001")  # 4 of 4
    assert "Only the first" not in full and "More than" not in full


async def test_chronology_form_without_a_case(ds):
    html = await page(ds, "/evidence/case_chronology")
    assert 'name="case_ref"' in html and "ik-timeline\"" not in html


async def test_chronology_view_of_every_case(ds):
    """The view is not hidden by the canned query of the same stem (m006)."""
    rows = (await ds.client.get("/evidence/case_chronologies.json?_shape=array&case_ref=C-001",
                                cookies=cookies_for("police_inspector"))).json()
    assert [row["gap_days"] for row in rows] == [None, 0, 1, 79]
    assert rows[0]["partner"] == "health" and rows[2]["partner"] == "social care"


async def test_other_queries_use_datasettes_page(ds):
    html = await page(ds, "/evidence/coverage_matrix")
    assert "ik-timeline" not in html and "Criterion × strand coverage matrix" in html


async def test_one_login_through_the_real_intake_app(store, datasette_review):
    """Log in through Flask's /login, read Datasette with that cookie, log out from a Datasette page."""
    with contextlib.closing(store.private()) as db:
        accounts.add_account(db, username="realead", password="correct horse battery", role="lead")
    server = build_app(store, secret_key=SECRET)
    transport = httpx.ASGITransport(app=server)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/data/evidence")).status_code == 403
        form = (await client.get("/login")).text
        token = hidden(form, "csrf_token")
        login = await client.post("/login", data={"username": "realead", "password": "correct horse battery",
                                                  "csrf_token": token})
        assert login.status_code == 302
        # The dashboard's own sign-out form puts a CSRF token in the session.
        assert (await client.get(login.headers["location"])).status_code == 200
        data = await client.get("/data/evidence/findings")
        assert data.status_code == 200
        logout_token = hidden(data.text, "csrf_token")
        logout = await client.post("/logout", data={"csrf_token": logout_token})
        assert logout.status_code == 302
        assert (await client.get("/data/evidence")).status_code == 403
