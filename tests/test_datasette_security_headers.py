"""Datasette's pages under /data/ get the intake app's security headers:
a Content-Security-Policy whose nonce is on every inline script Datasette's
templates write (and on nothing else), no framing, no MIME sniffing, a
same-origin Referer. In Chromium, a table page and a query page run their
scripts with no CSP violation reported.
"""

from __future__ import annotations

import re

import httpx
import pytest

from inspect_kit.web.server import build_app

from .datasette_support import SECRET, build_small_review, cookies_for
from .pages import elements

NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")
PAGES = {
    "database": "/data/evidence",
    "table": "/data/evidence/findings",
    "row": "/data/evidence/strands/1",
    "query": "/data/evidence?sql=select+public_id,+evidence_text+from+findings",
    "canned query": "/data/evidence/case_chronology?case_ref=C-001",
}


@pytest.fixture
def small_review(datasette_review):
    return datasette_review


@pytest.fixture
async def lead(store, small_review):
    server = build_app(store, secret_key=SECRET)
    transport = httpx.ASGITransport(app=server)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 cookies=cookies_for("lead")) as client:
        yield client


def inline_scripts(html: str) -> list[dict[str, str]]:
    """The attributes of every <script> element without a src (an inline script)."""
    return [dict(script.attrib) for script in elements(html, "script") if "src" not in script.attrib]


@pytest.mark.parametrize("name", PAGES)
async def test_datasette_pages_carry_the_security_headers(lead, name):
    response = await lead.get(PAGES[name])
    assert response.status_code == 200, response.text[:300]
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy and "base-uri 'self'" in policy
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    (nonce,) = NONCE.findall(script_src)
    scripts = inline_scripts(response.text)
    assert scripts, "Datasette's pages have inline scripts (closing menus at least)"
    assert all(attributes.get("nonce") == nonce for attributes in scripts), scripts


async def test_each_response_has_its_own_nonce(lead):
    first, second = [(await lead.get(PAGES["table"])).headers["content-security-policy"] for _ in range(2)]
    assert NONCE.findall(first) != NONCE.findall(second)


async def test_json_and_static_files_get_the_headers_but_no_policy(lead):
    for path in ("/data/evidence/findings.json", "/data/-/static/app.css"):
        response = await lead.get(path)
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "content-security-policy" not in response.headers


async def test_a_script_in_the_data_gets_no_nonce(lead, store):
    # Datasette escapes cell values; even so, the nonce goes only on the
    # templates' own bare <script> tags, never on anything from the data.
    import contextlib

    with contextlib.closing(store.evidence()) as db:
        db.execute("UPDATE strands SET name = '<script>alert(1)</script>' WHERE id = 1")
    response = await lead.get("/data/evidence/strands")
    assert "<script>alert(1)</script>" not in response.text
    (nonce,) = NONCE.findall(response.headers["content-security-policy"])
    assert response.text.count(f'nonce="{nonce}"') == len(inline_scripts(response.text))


async def test_refusal_and_error_pages_get_the_headers(store, small_review):
    server = build_app(store, secret_key=SECRET)
    transport = httpx.ASGITransport(app=server)
    for path, cookies in (("/data/evidence/findings", {}), ("/data/evidence/no_such_table", cookies_for("lead"))):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=cookies) as client:
            response = await client.get(path)
            assert response.status_code in (403, 404)
            assert response.headers["x-frame-options"] == "DENY"
            assert "'nonce-" in response.headers["content-security-policy"]


@pytest.mark.browser
def test_datasette_pages_run_with_no_csp_violation(live_server, browser_page):
    build_small_review(live_server.store)
    page = browser_page
    from .datasette_support import COOKIE

    cookie = cookies_for("lead", secret=live_server.secret_key)[COOKIE]
    page.context.add_cookies([{"name": COOKIE, "value": cookie, "url": live_server.url}])
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));")

    page.goto(live_server.url + PAGES["table"])
    assert page.locator("table.rows-and-columns tbody tr").count() == 2
    # The nonce'd inline script ran, and table.js (which reads it) did too.
    assert page.evaluate("typeof DATASETTE_ALLOW_FACET") == "boolean"
    page.locator("th.col-public_id .dropdown-menu-icon").wait_for(state="attached")  # added by table.js

    page.goto(live_server.url + PAGES["query"])
    # The SQL editor is CodeMirror, started by Datasette's inline script.
    page.locator(".CodeMirror").wait_for()
    assert page.locator("table.rows-and-columns tbody tr").count() == 2
    # Every other kind of page, for good measure.
    for path in ("/data/", PAGES["database"], PAGES["row"], PAGES["canned query"], "/data/evidence/no_such_table"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
    assert violations == [], violations
