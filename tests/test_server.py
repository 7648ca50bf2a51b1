"""The one-process mount: /data/* to Datasette, everything else to Flask."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import pytest

from inspect_kit.web.server import build_app

from .pages import links as page_links

SECRET = "server-test-secret"


@pytest.fixture
def server(store):
    return build_app(store, secret_key=SECRET)


def lead_cookies(server) -> dict[str, str]:
    """A Datasette actor cookie for a lead who may write SQL (``sql_role``: the store holds one review at
    most), so these tests outlive the login rules."""
    return {"ds_actor": server.datasette.sign({"a": {"id": "test-lead", "role": "lead", "sql_role": "lead"}},
                                              "actor")}


@pytest.fixture
async def http(server):
    transport = httpx.ASGITransport(app=server)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=lead_cookies(server)
    ) as client:
        yield client


async def test_healthz_reaches_flask(http):
    response = await http.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["databases"] == {"evidence": True, "private": True}
    assert body["migrations"] == {"applied": True, "pending": []}
    assert body["counts"] == {"reviews": 0, "findings": 0}


async def test_status_page_is_rendered_from_templates(http):
    response = await http.get("/status")
    assert response.status_code == 200
    assert "<h1>Store status</h1>" in response.text
    assert "The evidence store is ready." in response.text


async def test_data_reaches_datasette_with_single_prefix_links(http):
    response = await http.get("/data/evidence")
    assert response.status_code == 200
    assert "datasette" in response.text.lower()
    links = [link for link in page_links(response.text) if link.startswith("/")]
    assert "/data/evidence/findings" in links
    # Besides Datasette's own links, the header links back to the intake app
    # (its home, stylesheet and logout).
    intake_links = {"/", "/static/govuk-frontend/govuk-frontend.min.css", "/logout"}
    assert links and all(link.startswith("/data/") or link in intake_links for link in links), links
    assert not [link for link in links if "/data/data/" in link]


async def test_data_without_slash_redirects(http):
    response = await http.get("/data")
    assert response.status_code == 302
    assert response.headers["location"] == "/data/"


async def test_datasette_serves_evidence_db_only(http, store):
    databases = (await http.get("/data/-/databases.json")).json()
    assert [database["name"] for database in databases] == ["evidence"]
    assert databases[0]["path"].endswith("evidence.db")
    assert databases[0]["is_mutable"] is True
    assert (await http.get("/data/private")).status_code == 404
    attached = (
        await http.get(
            "/data/evidence.json", params={"sql": "select file from pragma_database_list", "_shape": "array"}
        )
    ).json()
    assert not [row for row in attached if "private" in (row["file"] or "")]
    assert (await http.get("/data/_memory")).status_code == 404


async def test_datasette_sees_live_writes(http, store):
    before = (await http.get("/data/evidence/strands.json", params={"_shape": "array"})).json()
    with contextlib.closing(store.evidence()) as db:
        db.execute("INSERT INTO strands (code, name, inspectorate) VALUES ('youth', 'Youth justice', 'HMIP')")
    after = (await http.get("/data/evidence/strands.json", params={"_shape": "array"})).json()
    assert len(after) == len(before) + 1


async def test_flask_requests_run_concurrently(store):
    # a2wsgi runs WSGI requests on a thread pool; asgiref's WsgiToAsgi ran them
    # one at a time (4 × 0.5 s took 2.0 s, docs/architecture.md §2).
    server = build_app(store, secret_key=SECRET)
    server.flask.add_url_rule("/slow", "slow", lambda: time.sleep(0.5) or "done")
    transport = httpx.ASGITransport(app=server)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        started = time.monotonic()
        responses = await asyncio.gather(*(client.get("/slow") for _ in range(4)))
        elapsed = time.monotonic() - started
    assert [response.text for response in responses] == ["done"] * 4
    assert elapsed < 1.5, elapsed


async def test_flask_unknown_path_is_flask_404(http):
    response = await http.get("/no-such-page")
    assert response.status_code == 404
    assert "datasette" not in response.text.lower()


def test_live_server_routes_both_apps(live_server):
    with contextlib.closing(live_server.store.evidence()) as db:
        db.execute(
            "INSERT INTO strands (code, name, inspectorate) VALUES ('ofsted', 'Children''s social care', 'Ofsted')"
        )
    health = httpx.get(live_server.url + "/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    # An encoded query checks that raw_path is stripped as well as path.
    page = httpx.get(
        live_server.url + "/data/evidence/strands?name__contains=Children%27s",
        cookies={"ds_actor": _sign_actor(live_server)},
    )
    assert page.status_code == 200
    assert "1 row where name contains" in page.text
    assert "/data/data/" not in page.text


def _sign_actor(live_server) -> str:
    # Sign with a Datasette configured with the server's secret: the same
    # signing key and salt as the real server.
    from datasette.app import Datasette

    return Datasette(secret=live_server.secret_key).sign({"a": {"id": "test-lead", "role": "lead"}}, "actor")


@pytest.mark.browser
def test_browser_reaches_both_apps(live_server, browser_page):
    browser_page.goto(live_server.url + "/status")
    assert browser_page.locator("h1").inner_text() == "Store status"
    browser_page.context.add_cookies(
        [{"name": "ds_actor", "value": _sign_actor(live_server), "url": live_server.url}]
    )
    browser_page.goto(live_server.url + "/data/evidence")
    assert browser_page.locator("h1").first.inner_text().strip().startswith("Evidence")
    hrefs = browser_page.eval_on_selector_all("a[href]", "links => links.map(link => link.getAttribute('href'))")
    assert "/data/evidence/findings" in hrefs


def test_healthz_is_503_with_a_reason_when_the_store_is_missing(tmp_path):
    from inspect_kit.web import create_app

    missing = tmp_path / "not-yet"
    app = create_app({"TESTING": True, "INSPECT_KIT_HOME": str(missing), "SECRET_KEY": SECRET})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["databases"] == {"evidence": False, "private": False}
    assert "inspect-kit init" in body["error"]
    assert not missing.exists()  # a health check never creates the store


def test_healthz_reports_pending_migrations(store):
    with contextlib.closing(store.evidence()) as db:
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm001_initial'")
    response = build_app(store, secret_key=SECRET).flask.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["migrations"]["pending"] == ["m001_initial"]
