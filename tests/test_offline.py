"""The offline app's server side: the worker and manifest routes,
who gets them, what the worker may cache, the headers that keep each account's
cache its own, and ``serve --certfile/--keyfile``. The browser side is
tests/test_browser_offline.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from inspect_kit.cli import cli
from inspect_kit.web.offline import ACCOUNT_HEADER, FLASHED_HEADER, PREFETCH_HEADER

from .conftest import TEST_SECRET, LiveServer, free_port, inspect_kit_command
from .pages import attributes, elements, hidden
from .web_fixtures import login_as

ALLOWED_PAGES = re.compile(r"^/$|^/findings/new$|^/cases$|^/offline/outbox$|^/cases/[^/]+/events/new$")


def body(html: str) -> dict[str, str]:
    """The attributes of the page's <body>."""
    return attributes(html, "body")


def test_the_worker_is_served_from_the_root_and_revalidated(web):
    response = web.get("/sw.js?account=ofsted2")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "importScripts" in response.get_data(as_text=True)


def test_the_manifest_names_icons_that_exist(web):
    response = web.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data())
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        image = web.get(icon["src"])
        content = image.get_data()
        image.close()  # a static file is streamed from an open file
        assert image.status_code == 200 and content.startswith(b"\x89PNG")
        size = int.from_bytes(content[16:20], "big")
        assert icon["sizes"] == f"{size}x{size}"


@pytest.mark.parametrize("username", ["ofsted2", "lead"])
def test_recording_accounts_get_the_offline_app(web, username):
    login_as(web, username)
    response = web.get("/")
    html = response.get_data(as_text=True)
    assert body(html).get("data-ik-account") == username
    assert 'rel="manifest"' in html and 'id="ik-outbox-status"' in html
    assert response.headers[ACCOUNT_HEADER] == username
    csp = response.headers["Content-Security-Policy"]
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp and "unsafe-inline" not in csp
    # Every script is our own file: no inline script that would need the nonce.
    assert elements(html, "script"), "the page loads its scripts"
    assert not elements(html, "script:not([src]):not([nonce])")
    assert web.get("/offline/outbox").status_code == 200


@pytest.mark.parametrize("username", ["admin", "moderator"])
def test_other_accounts_get_no_worker_and_clear_one_left_behind(web, username):
    login_as(web, username)
    html = web.get("/cases").get_data(as_text=True)
    assert body(html).get("data-ik-offline") == "off" and "data-ik-account" not in html
    assert 'rel="manifest"' not in html
    assert web.get("/offline/outbox").status_code == 403
    assert web.get("/offline/reference.json").status_code == 403


def test_signed_out_pages_clear_the_worker_and_name_no_account(web):
    response = web.get("/login")
    assert body(response.get_data(as_text=True)).get("data-ik-offline") == "off"
    assert ACCOUNT_HEADER not in response.headers
    assert web.get("/offline/outbox").status_code == 302
    assert web.get("/offline/reference.json").status_code == 302
    state = web.get("/offline/session")
    assert state.status_code == 401 and state.headers["Cache-Control"] == "no-store"


def test_reference_lists_and_the_pages_to_keep(web, ids):
    login_as(web, "ofsted2")
    response = web.get("/offline/reference.json")
    reference = response.get_json()
    assert response.headers[ACCOUNT_HEADER] == "ofsted2"
    assert reference["account"] == "ofsted2"
    assert {case["id"] for case in reference["cases"]} >= {ids.case_id}
    assert {agency["id"] for agency in reference["agencies"]} >= {ids.agency_id}
    assert "2.3" in {criterion["code"] for criterion in reference["criteria"]}
    assert reference["event_types"]
    # Only the allow-listed pages: never QA, admin, a finding's page or Datasette.
    assert reference["pages"] and all(ALLOWED_PAGES.match(page) for page in reference["pages"])
    # One event form, whatever the number of cases (the worker serves it for every case).
    assert len([page for page in reference["pages"] if page.endswith("/events/new")]) == 1
    for page in reference["pages"]:
        assert web.get(page).status_code == 200, page


def test_the_session_state_gives_a_token_the_api_accepts(web, ids):
    login_as(web, "ofsted2")
    state = web.get("/offline/session").get_json()
    assert state["account"] == "ofsted2" and state["offline"] is True
    body = {"client_uuid": "0b6f3c1e-8a4d-4d0e-9d1a-3f2b6c7d8e9f", "case_id": ids.case_id, "agency_id": ids.agency_id,
            "activity": "case_file_review", "collected_on": "2026-11-03", "evidence_text": "Sent from the outbox.",
            "finding_type": "strength", "impact_on_child": "positive", "criteria": {"2.3": "primary"}}
    first = web.post("/api/findings", json=body, headers={"X-CSRFToken": state["csrf_token"]})
    assert first.status_code == 201
    replay = web.post("/api/findings", json=body, headers={"X-CSRFToken": state["csrf_token"]})
    assert replay.status_code == 200 and replay.get_json()["public_id"] == first.get_json()["public_id"]


def test_new_forms_are_marked_for_the_outbox_and_edit_forms_are_not(web, ids, review_store):
    from .web_fixtures import record

    login_as(web, "ofsted2")
    new = web.get("/findings/new").get_data(as_text=True)
    assert elements(new, 'form[data-ik-outbox="finding"]')
    assert attributes(new, 'form[data-ik-outbox="finding"]')["data-ik-max-bytes"].isdigit()
    pages = web.get("/offline/reference.json").get_json()["pages"]
    event_form = next(page for page in pages if page.endswith("/events/new"))
    assert 'data-ik-outbox="event"' in web.get(event_form).get_data(as_text=True)
    finding = record(review_store, "ofsted2", ids)
    edit = web.get(f"/findings/{finding['public_id']}/edit").get_data(as_text=True)
    assert "data-ik-outbox" not in edit


def test_serve_refuses_half_a_certificate(store, tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_text("not used")
    result = CliRunner().invoke(cli, ["serve", "--home", str(store.home), "--certfile", str(cert)])
    assert result.exit_code == 2
    assert "Give both --certfile and --keyfile" in result.output


@pytest.fixture
def self_signed(tmp_path):
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to make a test certificate (Debian's openssl package)"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.mark.slow  # starts the real `inspect-kit serve` in a subprocess
def test_serve_over_https_marks_the_session_cookie_secure(review_store, self_signed, tmp_path):
    cert, key = self_signed
    port = free_port()
    log_path = tmp_path / "https.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([*inspect_kit_command(), "serve", "--home", str(review_store.home), "--port",
                                    str(port), "--certfile", str(cert), "--keyfile", str(key)],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, "INSPECT_KIT_SECRET_KEY": TEST_SECRET})
    server = LiveServer(url=f"https://127.0.0.1:{port}", store=review_store, process=process, log_path=log_path)
    try:
        with httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=str(cert))) as client:
            _wait_for_https(server, client)
            with pytest.raises(httpx.HTTPError):
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)  # HTTPS only
            page = client.get("/login")
            token = hidden(page.text, "csrf_token")
            response = client.post("/login", data={"csrf_token": token, "username": "ofsted2", "password": "wrong"},
                                   headers={"Referer": server.url + "/login"})
            assert response.status_code == 401  # the form works over HTTPS (Flask-WTF checks the referrer)
            cookies = page.headers.get_list("set-cookie") + response.headers.get_list("set-cookie")
            assert cookies and all("; Secure" in cookie for cookie in cookies), cookies
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert f"on https://127.0.0.1:{port}/" in server.log()


def _wait_for_https(server: LiveServer, client: httpx.Client) -> None:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.process.poll() is None, server.log()
        try:
            if client.get("/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    pytest.fail(f"inspect-kit serve --certfile did not answer over HTTPS:\n{server.log()}")


def test_background_fetches_leave_the_next_message_for_the_inspector(web, ids):
    from .web_fixtures import finding_form, post

    login_as(web, "ofsted2")
    saved = post(web, "/findings/new", finding_form(ids), token_from="/findings/new")
    assert saved.status_code == 302
    # The worker refreshes its copy of the dashboard while the redirect is followed.
    prefetched = web.get("/", headers={PREFETCH_HEADER: "1"})
    assert "has been submitted for QA" not in prefetched.get_data(as_text=True)
    assert FLASHED_HEADER not in prefetched.headers
    shown = web.get(saved.headers["Location"])
    assert "has been submitted for QA" in shown.get_data(as_text=True)
    assert shown.headers[FLASHED_HEADER] == "1"  # so the worker does not keep this page with its message


def test_the_worker_keeps_every_script_the_offline_pages_load():
    """A module the cached pages import but the worker does not keep breaks the outbox offline."""
    from inspect_kit import paths

    static = paths.static_dir()
    kept = set(re.findall(r'"(/static/[^"]+)"', (static / "sw.js").read_text()))
    needed, queue = set(), ["outbox.js", "outbox-store.js", "app.js"]
    while queue:
        name = queue.pop()
        if name in needed:
            continue
        needed.add(name)
        queue += [Path(name).parent.joinpath(imported).as_posix().removeprefix("./")
                  for imported in re.findall(r'^import .* from "\./([^"]+)";', (static / name).read_text(), re.M)]
    assert {f"/static/{name}" for name in needed} <= kept
