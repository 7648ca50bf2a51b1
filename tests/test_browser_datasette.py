"""A lead cross-reads the demo review in a real Chromium:
log in through the intake app, open the findings table, use a facet and a
full-text search, open C-017's chronology, and sign out from Datasette.
"""

from __future__ import annotations

import re

import pytest

from inspect_kit import demo


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
