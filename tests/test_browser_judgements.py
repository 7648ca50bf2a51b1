"""The judgement workspace in a real Chromium on the real server.

The lead proposes a good grade for criterion 2.3 citing three accepted areas
for improvement with quotes and is warned; the moderator records a lower grade
with a reason; both are in the judgement's history and in Datasette.
"""

from __future__ import annotations

import re

import pytest

from inspect_kit.demo import DEMO_PASSWORD, create_demo


@pytest.fixture
def demo_server(live_server):
    create_demo(live_server.store)
    return live_server


def sign_in(page, base, username):
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(re.compile(r"/(\?.*)?$"))


def sign_out(page):
    page.click("button:has-text('Sign out')")
    page.wait_for_url(re.compile(r".*/login$"))


@pytest.mark.browser
def test_lead_proposes_with_quotes_is_warned_and_the_moderator_moderates(demo_server, browser_page, tmp_path):
    page, base = browser_page, demo_server.url
    sign_in(page, base, "lead")
    page.click("nav >> text=Judgements")
    page.wait_for_url(base + "/judgements")
    link = page.locator("a:has-text('2.3 Inter-agency child protection')").first
    assert link.get_attribute("href") == "/judgements/2.3"
    link.click()
    page.wait_for_url(re.compile(r"/judgements/2\.3$"))
    page.wait_for_selector("#judgement-form")

    # Only areas for improvement in the list, through the page's own filter.
    page.select_option("#filter-type", "area_for_improvement")
    page.click("#filter")
    page.wait_for_url(re.compile(r"finding_type=area_for_improvement"))
    page.wait_for_selector("#evidence-list")
    for box in page.locator("#cited-evidence input[name=citations]").all():
        box.uncheck()
    rows = page.locator("#evidence-list li.ik-evidence")
    assert rows.count() >= 3
    quotes = {}
    for index in range(3):
        row = rows.nth(index)
        public_id = row.get_attribute("id").removeprefix("evidence-")
        text = row.locator(f"#text-{public_id}").inner_text()
        quotes[public_id] = text[:40].strip()
        row.locator("input[name=citations]").check()
        row.locator(f"#quote-{public_id}").fill(quotes[public_id])
    page.check("input[name=proposed_grade][value='3']")
    page.fill("#narrative", "Partners work together well; the MASH shares information quickly.")
    page.fill("#reason", "Re-read after the case tracking")
    page.click("#save-judgement")
    page.wait_for_url(re.compile(r"/judgements/2\.3$"))
    assert "has been saved (version 2)" in page.content()
    warnings = page.locator("#warnings").inner_text()
    assert "disagrees with the cited evidence" in warnings and "mostly negative" in warnings
    cited = page.locator("#cited-evidence input[name=citations]:checked")
    assert sorted(box.get_attribute("value") for box in cited.all()) == sorted(quotes)
    for public_id, quote in quotes.items():
        assert page.locator(f"#quote-{public_id}").input_value() == quote
    page.screenshot(path=str(tmp_path / "workspace.png"), full_page=False)
    sign_out(page)

    sign_in(page, base, "moderator")
    page.goto(base + "/judgements/2.3")
    assert page.locator("#judgement-form").count() == 0
    page.check("#moderation-form input[name=moderated_grade][value='2']")
    page.fill("#note", "Three cited areas for improvement and no strengths: adequate at best.")
    page.click("#save-moderation")
    page.wait_for_url(re.compile(r"/judgements/2\.3$"))
    assert "Three cited areas for improvement" in page.locator("#moderation-reason").inner_text()

    page.click("#history-link")
    page.wait_for_url(re.compile(r"/judgements/2\.3/history"))
    history = page.locator("#judgement-history").inner_text()
    assert "Version 2: revised by lead" in history and "Version 3: moderated by moderator" in history
    assert "Re-read after the case tracking" in history and "adequate at best" in history

    # Both in Datasette: the versions table and the canned query with the quotes.
    page.goto(base + "/data/evidence/judgement_versions?_sort_desc=id")
    table = page.locator("table.rows-and-columns").inner_text()
    assert "moderate" in table and "revise" in table and "adequate at best" in table
    page.goto(base + "/data/evidence/judgements_and_evidence")
    query = page.locator("table.rows-and-columns").inner_text()
    for public_id, quote in quotes.items():
        assert public_id in query and quote in query
    assert "adequate at best" in query
    sign_out(page)

    # The lead sees the disagreement listed.
    sign_in(page, base, "lead")
    page.goto(base + "/judgements")
    assert "2.3 Inter-agency child protection" in page.locator("#disagreements").inner_text()
