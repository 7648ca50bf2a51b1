"""A lead cross-reads the demo review in a real Chromium: log in through the
intake app, open the findings table, use a facet and a full-text search, open
C-017's chronology, and sign out from Datasette. And every Datasette page a
lead or an inspector reaches passes axe-core with no text overflowing at 768 px.
"""

from __future__ import annotations

import contextlib
import re
import uuid

import pytest

from inspect_kit import chronology, demo, findings
from inspect_kit.actors import Actor


@pytest.fixture
def demo_server(live_server):
    demo.create_demo(live_server.store)
    return live_server


@pytest.mark.browser
def test_lead_cross_reads_the_demo_review(demo_server, browser_page, tmp_path):
    page = browser_page
    url = demo_server.url

    page.goto(url + "/login")
    page.fill("#username", "lead")
    page.fill("#password", demo.DEMO_PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(re.compile(r"/(\?.*)?$"))

    # The intake app's navigation leads to Datasette.
    page.click("text=Cross-read (Datasette)")
    page.wait_for_url(url + "/data/")
    page.goto(url + "/data/evidence/findings")
    assert "Findings (evidence records)" in page.locator("h1").inner_text()
    assert page.locator("table.rows-and-columns tbody tr").count() > 50
    assert page.locator(".ik-signed-in").inner_text().startswith("lead (Lead inspector")

    # A facet: the police strand's findings only.
    page.locator(".facet-info a", has_text="Police").first.click()
    page.wait_for_url(re.compile(r"strand_id=\d"))
    strand_cells = page.locator("table.rows-and-columns tbody td.col-strand_id").all_inner_texts()
    assert strand_cells and all("Police" in cell for cell in strand_cells)

    # A full-text search within them.
    page.fill("input[name=_search]", "strategy discussion")
    page.press("input[name=_search]", "Enter")
    page.wait_for_url(re.compile(r"_search=strategy"))
    assert page.locator("table.rows-and-columns tbody tr").count() >= 1
    texts = page.locator("table.rows-and-columns tbody td.col-evidence_text").all_inner_texts()
    assert any("strategy" in text.lower() for text in texts)
    # A finding links to its page in the intake app.
    first_id = page.locator("td.col-public_id a.ik-intake-link").first
    assert first_id.get_attribute("href").startswith("/findings/EF-POL-")

    # C-017's merged chronology as a timeline, reached from the lead's questions.
    page.goto(url + "/data/evidence")
    page.click("text=2. Merged chronology of one case")
    page.fill("#ik-case-ref", "C-017")
    page.click("text=Show timeline")
    page.wait_for_url(re.compile(r"case_ref=C-017"))
    events = page.locator("ol.ik-timeline li.ik-event")
    assert 55 <= events.count() <= 70
    assert page.locator("ol.ik-timeline .ik-flag--missed").count() == 12
    assert "across 8 services" in page.locator(".ik-timeline-summary").inner_text()
    page.screenshot(path=str(tmp_path / "chronology.png"), full_page=False)

    # Sign out from the Datasette page: the intake app's logout, then Datasette refuses.
    page.click(".ik-signout__button")
    page.wait_for_url(re.compile(r"/login"))
    response = page.goto(url + "/data/evidence/findings")
    assert response.status == 403


# A word with no break (a pasted link, a reference) longer than any container at 768 px.
UNBROKEN = "https://example.invalid/" + "long-unbroken-reference_" * 20

# Every element whose content runs past its box without a scroll bar to reach it. 4 px of slack:
# GOV.UK buttons draw a click area 2 px beyond their edges on purpose.
OVERFLOWING = """() => Array.from(document.querySelectorAll("body *")).filter(element => {
    const style = getComputedStyle(element);
    // A chart's SVG text is laid out in the SVG's own coordinates: its container is checked instead.
    return !element.closest("svg") && style.overflowX === "visible" && element.clientWidth > 0
        && element.scrollWidth > element.clientWidth + 4;
}).map(element => element.tagName.toLowerCase() + "." + element.className)"""
# axe-core takes 20 s on a page of 100 findings on these machines: ten rows have every cell kind.
ROWS = "_size=10"
ROW_PAGES = ("/findings/", "/chronology_events/", "/cases/", "/safeguarding_alerts/", "/judgements/", "/agencies/")


def axe_serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{violation['id']}: {violation['help']} {violation['nodes'][0]['target']}"
            for violation in results.response["violations"] if violation["impact"] in ("serious", "critical")]


def add_unbroken_text(store) -> None:
    """An event of C-017 and a police finding, each with a word longer than the page is wide."""
    with contextlib.closing(store.evidence()) as db:
        (review_id, inspector_id, case_id) = db.execute(
            "SELECT inspectors.review_id, inspectors.id, cases.id FROM inspectors JOIN cases"
            " ON cases.review_id = inspectors.review_id WHERE code = 'POL-01' AND case_ref = 'C-017'").fetchone()
        (agency_id,) = db.execute("SELECT id FROM agencies WHERE review_id = ? ORDER BY id LIMIT 1",
                                  [review_id]).fetchone()
        police = Actor("police1", "inspector", "police", inspector_id)
        chronology.record_event(db, police, {
            "case_id": case_id, "agency_id": agency_id, "event_date": "2025-06-01", "event_type": "referral",
            "description": f"Referral noted at {UNBROKEN}", "practitioner_role": "Duty" + "-" * 150 + "officer",
        }, client_uuid=str(uuid.uuid4()), review_id=review_id)
        findings.record_finding(db, police, {
            "agency_id": agency_id, "case_id": case_id, "activity": "case_file_review", "collected_on": "2025-06-02",
            "evidence_text": f"The record cites {UNBROKEN}", "finding_type": "context", "criteria": ["2.1"],
        }, client_uuid=str(uuid.uuid4()), submit=True, review_id=review_id)


def pages_of(page, base: str, role: str) -> list[str]:
    """Every Datasette page the signed-in reader reaches from the database page."""
    listing = page.request.get(base + "/data/evidence.json").json()
    tables = [table["name"] for table in listing["tables"] if not table.get("hidden")]
    views = [view["name"] if isinstance(view, dict) else view for view in listing.get("views", [])]
    queries = [query["name"] for query in listing["queries"]]
    paths = ["/data/", "/data/evidence", *(f"/data/evidence/{name}?{ROWS}" for name in [*tables, *views])]
    paths += [f"/data/evidence/{name}" for name in queries]
    paths += ["/data/evidence/case_chronology?case_ref=C-017", f"/data/evidence/case_chronologies?case_ref=C-017&{ROWS}",
              "/data/evidence/chronology_events?_search=long-unbroken-reference"]
    if role == "lead":
        paths += ["/data/evidence?sql=select+public_id%2C+evidence_text+from+findings+limit+10",
                  f"/data/evidence/findings_readable?_search=bruising&_criterion=2.1&{ROWS}",
                  "/data/evidence/findings?_search=long-unbroken-reference",
                  "/data/evidence/findings_readable?_search=long-unbroken-reference"]
    else:
        paths += ["/data/evidence/my_strand_findings?search=child%27s+A%26E&case_ref=C-017",
                  "/data/evidence/my_strand_findings?search=long-unbroken-reference"]
    return paths


def check(page, url: str, problems: list[str]) -> None:
    response = page.goto(url)
    if response.status != 200:
        problems.append(f"{url}: HTTP {response.status}")
        return
    for details in page.locator("details.ik-show-sql, details.ik-as-table").all():
        details.evaluate("element => element.open = true")  # what a reader sees after asking
    problems.extend(f"{url}: {violation}" for violation in axe_serious(page))
    problems.extend(f"{url}: overflows {element}" for element in page.evaluate(OVERFLOWING))


@pytest.mark.browser
def test_every_datasette_page_a_lead_or_inspector_reaches_is_accessible_at_768px(demo_server, browser_page):
    add_unbroken_text(demo_server.store)
    page, url = browser_page, demo_server.url
    page.set_viewport_size({"width": 768, "height": 1024})
    problems: list[str] = []
    for username in ("lead", "police1"):
        page.context.clear_cookies()
        page.goto(url + "/login")
        page.fill("#username", username)
        page.fill("#password", demo.DEMO_PASSWORD)
        page.click("#sign-in")
        page.wait_for_url(re.compile(r"/(\?.*)?$"))
        paths = pages_of(page, url, username)
        assert len(paths) > 15
        rows = []
        for path in paths:
            check(page, url + path, problems)
            first_row = page.locator("td.type-pk a").first
            if ROWS in path and first_row.count():
                rows.append(first_row.get_attribute("href"))
            if "long-unbroken" in path and first_row.count():
                rows.append(first_row.get_attribute("href"))  # the record with the long word
        # Row pages share one template: the long words' records, and a few tables' first rows.
        for row in [row for row in rows if any(name in row for name in ROW_PAGES)]:
            check(page, url + row, problems)
        assert rows, "no row pages were reached"
    assert problems == []
