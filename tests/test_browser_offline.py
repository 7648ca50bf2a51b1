"""On site without a connection: a real Chromium with a
persistent profile, the real ``inspect-kit serve``, Playwright's offline
emulation and a server killed mid-send.

- Offline, an inspector records three findings (one with a PDF; a file over
  the cap is refused in the browser) and one chronology event, closes the tab,
  reopens the app still offline and sees all four waiting with their text;
  online again (the PDF's first upload failing), each is stored exactly once,
  the file attached once, and the outbox empties.
- The server is killed between two sends, after storing a record whose answer
  never arrives; after a restart the outbox finishes, the lost answer's record
  is not stored twice, and the one record the server refuses (422) comes back
  into its form with the message and the text.
- Waiting records can be changed (same uuid) or discarded; signing out with
  records waiting warns and keeps them; another inspector signing in on the
  same browser profile sees none of them.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import uuid

import pytest
import sqlite_utils

from inspect_kit.demo import DEMO_PASSWORD, create_demo
from inspect_kit.store import Store

from .conftest import CHROMIUM_ARGS, TEST_SECRET, LiveServer, _wait_until_healthy, free_port, inspect_kit_command
from .test_browser_intake import choose_case

pytestmark = pytest.mark.browser

INSPECTOR = "ofsted2"
OTHER_INSPECTOR = "health1"
# A tiny but real PDF: the server sniffs the first bytes.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def start_server(store: Store, port: int, log_path) -> LiveServer:
    env = {**os.environ, "INSPECT_KIT_SECRET_KEY": TEST_SECRET}
    with open(log_path, "ab") as log:
        process = subprocess.Popen([*inspect_kit_command(), "serve", "--home", str(store.home), "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    server = LiveServer(url=f"http://127.0.0.1:{port}", store=store, process=process, log_path=log_path)
    _wait_until_healthy(server)
    return server


def stop_server(server: LiveServer) -> None:
    server.process.kill()  # no graceful shutdown: as a crash or a power cut would
    server.process.wait(timeout=10)


@contextlib.contextmanager
def demo_serving(tmp_path):
    store = Store(tmp_path / "demo-store")
    store.init()
    create_demo(store)
    server = start_server(store, free_port(), tmp_path / "server.log")
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.terminate()
            server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """One demo server for the tests that do not kill it (starting it is a third of their time)."""
    with demo_serving(tmp_path_factory.mktemp("offline")) as server:
        yield server


@contextlib.contextmanager
def chromium(chromium_path, profile):
    """A persistent profile: the outbox (IndexedDB) and the worker survive closing the tab."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()


def watch_errors(page, errors: list[str]) -> None:
    page.on("pageerror", lambda error: errors.append(str(error)))
    # CSP violations are console errors; failed fetches while offline and the 422 are expected.
    page.on("console", lambda message: message.type == "error"
            and "Content-Security-Policy" in message.text and errors.append(message.text))


def sign_in(page, base, username):
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(base + "/")


def wait_for_offline_app(page):
    """Until the worker controls the page and has kept the forms for offline use."""
    page.wait_for_function(
        """async (paths) => {
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                const found = await Promise.all(paths.map((path) => cache.match(path)));
                if (found.every(Boolean)) return true;
            }
            return false;
        }""", arg=["/", "/findings/new", "/cases", "/offline/outbox", "/cases/-/events/new"])
    # Activated and in control (clients.claim): from here on navigations go through it.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def record_finding(page, base, text, *, submit=False, finding_type="strength", attachment=None):
    page.goto(base + "/findings/new")
    choose_case(page)
    page.select_option("#agency_id", index=1)
    page.select_option("#activity", "case_file_review")
    page.fill("#evidence_text", text)
    if finding_type:
        page.check(f"input[name='finding_type'][value='{finding_type}']")
    page.check("#criteria")
    if attachment:
        page.set_input_files("#ik-attachment", files=[attachment])
    page.click("#submit-for-qa" if submit else "#save-draft")
    page.wait_for_url(re.compile(r".*/offline/outbox\?saved="))
    return page.get_attribute("body", "data-ik-served")


def record_event(page, base, case_ref, text, *, via_case_list=False):
    if via_case_list:
        page.goto(base + "/cases")
        page.click(f"a.ik-add-event:has-text('to {case_ref}')")
        page.wait_for_url(f"{base}/cases/{case_ref}/events/new")
    else:
        page.goto(f"{base}/cases/{case_ref}/events/new")
    # One cached event form serves every case: it must name this one.
    assert case_ref in page.inner_text(".govuk-caption-l") and case_ref in page.title()
    page.select_option("#agency_id", index=1)
    page.fill("#practitioner_role", "duty social worker")
    page.select_option("#event_type", index=1)
    page.fill("#description", text)
    page.click("#save-event")
    page.wait_for_url(re.compile(r".*/offline/outbox\?saved="))


def outbox_texts(page) -> list[str]:
    page.locator(".ik-outbox-record").first.wait_for()
    return page.locator(".ik-outbox-text").all_inner_texts()


def stored(store: Store, table: str, column: str, text: str) -> list[dict]:
    db = sqlite_utils.Database(store.evidence_path)
    try:
        return list(db.query(f"SELECT * FROM {table} WHERE {column} = ?", [text]))
    finally:
        db.close()


def axe_serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{violation['id']}: {violation['help']}" for violation in results.response["violations"]
            if violation["impact"] in ("serious", "critical")]


def test_offline_records_wait_survive_closing_the_tab_and_are_stored_once(demo_server, chromium_path, tmp_path):
    tag = uuid.uuid4().hex[:8]
    texts = [f"Offline finding {n} ({tag}): the strategy discussion had no health representative." for n in (1, 2, 3)]
    event_text = f"Offline event ({tag}): home visit by the duty social worker; the child was seen alone."
    errors: list[str] = []
    server = demo_server
    with chromium(chromium_path, tmp_path / "profile") as context:
        base = server.url
        page = context.pages[0] if context.pages else context.new_page()
        watch_errors(page, errors)
        sign_in(page, base, INSPECTOR)
        wait_for_offline_app(page)
        # Cross-reading and record pages go to the network and are never kept.
        for path in ("/findings", "/data/", "/api/findings"):
            page.goto(base + path)
        assert page.evaluate("""async (paths) => {
            const hits = [];
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                for (const path of paths) if (await cache.match(path, {ignoreSearch: true})) hits.push(path);
            }
            return hits;
        }""", ["/findings", "/data/", "/api/findings"]) == []

        context.set_offline(True)
        # A file over the online cap is refused in the browser, next to the field, with the text kept.
        page.goto(base + "/findings/new")
        page.fill("#evidence_text", texts[1])
        page.set_input_files("#ik-attachment", files=[{"name": "scan.pdf", "mimeType": "application/pdf",
                                                        "buffer": PDF + b"0" * (10 * 1024 * 1024)}])
        page.click("#save-draft")
        assert "must be smaller than 10 MB" in page.inner_text("#ik-attachment-group")
        assert page.input_value("#evidence_text") == texts[1] and page.url.endswith("/findings/new")

        served = [record_finding(page, base, texts[0]),
                  record_finding(page, base, texts[1], submit=True,
                                 attachment={"name": "whiteboard.pdf", "mimeType": "application/pdf", "buffer": PDF}),
                  record_finding(page, base, texts[2])]
        assert served == ["cache"] * 3  # the form came from the worker's cache, not the network
        record_event(page, base, "C-017", event_text, via_case_list=True)
        assert "4 records waiting to send" in page.inner_text("#ik-outbox-count")
        page.close()

        # Reopen the app, still offline: the dashboard and the outbox come from the cache.
        page = context.new_page()
        watch_errors(page, errors)
        page.goto(base + "/")
        assert page.get_attribute("body", "data-ik-served") == "cache"
        page.locator("#ik-outbox-count").wait_for()
        assert "4 records waiting to send" in page.inner_text("#ik-outbox-count")
        page.goto(base + "/offline/outbox")
        assert sorted(outbox_texts(page)) == sorted([*texts, event_text])
        assert "whiteboard.pdf" in page.inner_text("#ik-outbox")
        assert axe_serious(page) == []
        assert not stored(server.store, "findings", "evidence_text", texts[0])

        # The network returns, but the attachment's upload fails once: its record is
        # stored and waits for the file alone, which is sent on the next try.
        uploads: list[str] = []

        def fail_first_upload(route):
            uploads.append(route.request.url)
            route.abort("connectionreset") if len(uploads) == 1 else route.continue_()

        page.route(re.compile(r".*/findings/[^/]+/attachments$"), fail_first_upload)
        context.set_offline(False)
        page.locator(".ik-outbox-record", has_text="Saved; attachment waiting").wait_for(timeout=20_000)
        assert len(stored(server.store, "findings", "evidence_text", texts[1])) == 1
        page.click("#ik-send-now")
        page.locator("#ik-outbox-empty").wait_for(timeout=20_000)
        assert len(uploads) == 2
        for text in texts:
            assert len(stored(server.store, "findings", "evidence_text", text)) == 1, text
        events = stored(server.store, "chronology_events", "description", event_text)
        assert len(events) == 1
        assert stored(server.store, "cases", "id", events[0]["case_id"])[0]["case_ref"] == "C-017"
        with_file = stored(server.store, "findings", "evidence_text", texts[1])[0]
        assert with_file["qa_status"] == "submitted"
        db = sqlite_utils.Database(server.store.evidence_path)
        attached = list(db.query("SELECT filename, size_bytes FROM attachments WHERE finding_id = ?", [with_file["id"]]))
        db.close()
        assert attached == [{"filename": "whiteboard.pdf", "size_bytes": len(PDF)}]

        page.goto(base + "/")
        dashboard = page.inner_text("main")
        for text in texts:
            public_id = stored(server.store, "findings", "evidence_text", text)[0]["public_id"]
            assert public_id in dashboard
        assert page.locator("#ik-outbox-status").is_hidden()
    assert errors == []


def test_server_killed_between_sends_and_a_refused_record_comes_back(chromium_path, tmp_path):
    tag = uuid.uuid4().hex[:8]
    first = f"Kill test first ({tag}): the referral was not acknowledged for 9 days."
    lost_answer = f"Kill test event ({tag}): the school nurse phoned the MASH."
    refused = f"Kill test refused ({tag}): submitted without saying what type of finding it is."
    last = f"Kill test last ({tag}): the plan was reviewed on time."
    posted_while_down = f"Kill test posted while the server was down ({tag}): the health visitor called."
    with demo_serving(tmp_path) as server, chromium(chromium_path, tmp_path / "profile") as context:
        base = server.url
        port = int(base.rsplit(":", 1)[1])
        page = context.pages[0] if context.pages else context.new_page()
        sign_in(page, base, INSPECTOR)
        wait_for_offline_app(page)

        context.set_offline(True)
        record_finding(page, base, first)
        record_event(page, base, "C-017", lost_answer)
        record_finding(page, base, refused, submit=True, finding_type=None)  # the server will refuse it: 422
        record_finding(page, base, last)

        # The second send reaches the server and is stored, then the server dies
        # before the answer arrives: the browser sees a failed request.
        posts: list[str] = []

        def kill_during_second_send(route):
            posts.append(route.request.url)
            if len(posts) == 2:
                route.fetch()
                stop_server(server)
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route(re.compile(r".*/api/(findings|chronology)$"), kill_during_second_send)
        context.set_offline(False)
        page.wait_for_function("() => /could not be reached|not answering/.test("
                               "document.getElementById('ik-send-status').textContent)",
                               timeout=20_000)
        assert len(stored(server.store, "findings", "evidence_text", first)) == 1
        assert len(stored(server.store, "chronology_events", "description", lost_answer)) == 1
        assert len(page.locator(".ik-outbox-record").all()) == 3  # the lost answer's record still waits
        page.unroute(re.compile(r".*/api/(findings|chronology)$"))

        # With the server down but the browser online, the plain form post fails
        # and the worker keeps the event in the outbox instead of an error page.
        page.goto(f"{base}/cases/C-017/events/new")
        assert page.get_attribute("body", "data-ik-served") == "cache"
        page.select_option("#agency_id", index=1)
        page.fill("#practitioner_role", "health visitor")
        page.select_option("#event_type", index=1)
        page.fill("#description", posted_while_down)
        assert page.evaluate("() => navigator.onLine") is True  # so the page posts the form itself
        page.click("#save-event")
        page.wait_for_url(re.compile(r".*/offline/outbox\?saved="))
        assert posted_while_down in outbox_texts(page)
        assert len(page.locator(".ik-outbox-record").all()) == 4

        server = start_server(server.store, port, server.log_path)
        try:
            page.click("#ik-send-now")
            page.wait_for_function("() => document.querySelectorAll('.ik-outbox-record').length === 1", timeout=20_000)
            assert len(stored(server.store, "chronology_events", "description", lost_answer)) == 1  # replayed, not doubled
            assert len(stored(server.store, "findings", "evidence_text", last)) == 1
            assert len(stored(server.store, "chronology_events", "description", posted_while_down)) == 1
            assert "Sent from this page" in page.inner_text("#ik-outbox")
            assert not stored(server.store, "findings", "evidence_text", refused)
            card = page.inner_text(".ik-outbox-record")
            assert "Needs your attention" in card and "Select the type of finding" in card
            assert axe_serious(page) == []

            # The refused record comes back into its form, with the message and the text.
            page.click(".ik-outbox-open")
            page.locator("#ik-outbox-refused").wait_for()
            assert "Select the type of finding" in page.inner_text("#ik-outbox-refused")
            assert page.input_value("#evidence_text") == refused
            assert page.is_checked("#criteria")
            criterion = page.get_attribute("#criteria", "value")
            assert page.locator(f"input[name='relevance-{criterion}'][value='primary']").is_visible()
            assert axe_serious(page) == []
            page.check("input[name='finding_type'][value='strength']")
            page.click("#submit-for-qa")
            page.wait_for_url(re.compile(r".*/offline/outbox\?saved="))
            page.locator("#ik-outbox-empty").wait_for(timeout=20_000)
            rows = stored(server.store, "findings", "evidence_text", refused)
            assert len(rows) == 1 and rows[0]["qa_status"] == "submitted"
        finally:
            server.process.terminate()
            server.process.wait(timeout=10)


def test_another_inspector_on_the_same_profile_sees_none_of_it(demo_server, chromium_path, tmp_path):
    text = f"Waiting for its author only ({uuid.uuid4().hex[:8]})."
    server = demo_server
    with chromium(chromium_path, tmp_path / "profile") as context:
        base = server.url
        page = context.pages[0] if context.pages else context.new_page()
        sign_in(page, base, INSPECTOR)
        wait_for_offline_app(page)
        context.set_offline(True)
        # Signing out needs the server: offline it is refused, and nothing is removed.
        page.goto(base + "/")
        page.click("button:has-text('Sign out')")
        assert "You are offline" in page.inner_text("#ik-signout-offline")
        assert page.evaluate("async () => (await navigator.serviceWorker.getRegistrations()).length") == 1
        record_finding(page, base, "A first try, to be changed below.")
        record_finding(page, base, "Typed by mistake: discarded below.")
        assert "2 records waiting to send" in page.inner_text("#ik-outbox-count")

        # Discard one (after confirming) …
        mistake = page.locator(".ik-outbox-record", has_text="Typed by mistake")
        mistake.locator(".ik-outbox-discard").click()
        assert "cannot be recovered" in mistake.inner_text()
        assert axe_serious(page) == []
        mistake.locator("button:has-text('Discard it')").click()
        page.wait_for_function("() => document.querySelectorAll('.ik-outbox-record').length === 1")
        # … and change the other: it keeps its place and its client uuid.
        waiting = page.locator(".ik-outbox-record")
        uuid_before = waiting.get_attribute("data-uuid")
        waiting.locator(".ik-outbox-open").click()
        page.locator("#ik-outbox-note").wait_for()
        assert page.input_value("#evidence_text") == "A first try, to be changed below."
        assert page.input_value("input[name=client_uuid]") == uuid_before
        page.fill("#evidence_text", text)
        page.click("#save-draft")
        page.wait_for_url(re.compile(r".*/offline/outbox\?saved="))
        assert outbox_texts(page) == [text]
        assert page.get_attribute(".ik-outbox-record", "data-uuid") == uuid_before

        # Online again, but the server cannot take it (the API is unreachable): it keeps waiting.
        page.route(re.compile(r".*/api/.*"), lambda route: route.abort("connectionrefused"))
        context.set_offline(False)
        page.goto(base + "/")
        page.locator("#ik-outbox-count").wait_for()

        # Signing out warns, and keeps the record.
        page.click("button:has-text('Sign out')")
        warning = page.locator("#ik-signout-warning")
        warning.wait_for()
        assert "1 record is waiting to send" in warning.inner_text()
        assert axe_serious(page) == []
        page.click("#ik-signout-anyway")
        page.wait_for_url(re.compile(r".*/login$"))
        page.wait_for_function("async () => (await navigator.serviceWorker.getRegistrations()).length === 0")
        # The signed-out account's cached pages are gone (a refresh in flight may finish just after).
        page.wait_for_function("async () => (await caches.keys()).every(name => !name.startsWith('inspect-kit:'))")

        sign_in(page, base, OTHER_INSPECTOR)
        wait_for_offline_app(page)
        assert page.locator("#ik-outbox-status").is_hidden()
        page.goto(base + "/offline/outbox")
        page.locator("#ik-outbox-empty").wait_for()
        assert text not in page.content()
        # Nothing of the first inspector's outbox is reachable from this account's pages.
        assert page.evaluate("InspectKitOutbox.all('health1').then(rows => rows.length)") == 0
        page.click("button:has-text('Sign out')")
        page.wait_for_url(re.compile(r".*/login$"))

        # The first inspector's record was not dropped.
        page.unroute(re.compile(r".*/api/.*"))
        sign_in(page, base, INSPECTOR)
        page.goto(base + "/offline/outbox")
        page.locator("#ik-outbox-empty").wait_for(timeout=20_000)  # sent now that the server can take it
        rows = stored(server.store, "findings", "evidence_text", text)
        assert len(rows) == 1 and rows[0]["client_uuid"] == uuid_before
        assert not stored(server.store, "findings", "evidence_text", "Typed by mistake: discarded below.")
        assert not stored(server.store, "findings", "evidence_text", "A first try, to be changed below.")
