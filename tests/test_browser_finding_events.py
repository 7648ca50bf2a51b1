"""A real Chromium at tablet width: an inspector records a finding about C-017 citing two of its
chronology events through the form; the finding shows them and each event shows the finding."""

from __future__ import annotations

import re

import pytest

from .conftest import serving_demo
from .pages import fits_the_width, script_errors, sign_in
from .test_browser_offline import axe_serious

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_server(demo_template, tmp_path_factory):
    with serving_demo(demo_template, tmp_path_factory, "browser-finding-events") as server:
        yield server


def test_a_finding_linked_to_two_events_shows_them_and_each_event_shows_it(demo_server, browser_page):
    page, base = browser_page, demo_server.url
    page.set_viewport_size({"width": 768, "height": 1024})
    errors = script_errors(page)
    sign_in(page, base, "ofsted2")

    page.goto(base + "/findings/new")
    assert page.locator("input[name='event_ids']").count() == 0  # no case chosen: nothing to cite yet
    page.fill("#evidence_text", "The GP saw bruising and did not refer; the ED attendance followed.")
    # The case picker may be enhanced by a script; the form posts the select's value either way.
    # With JavaScript the list follows the case without a page load...
    page.evaluate("window.ikSamePage = true")
    page.locator("select[name='case_id']").evaluate(
        "select => { select.value = [...select.options].find(o => o.text.startsWith('C-017')).value;"
        " select.dispatchEvent(new Event('change')); }")
    events = page.locator("input[name='event_ids']")
    events.first.wait_for()
    assert page.evaluate("window.ikSamePage === true")
    assert "events of the chosen case listed" in page.inner_text("#event_ids-status")
    # ...and the button does the same with a page load (as without JavaScript).
    page.click("button[value='events']")
    page.wait_for_load_state()
    assert page.evaluate("window.ikSamePage === undefined")
    assert events.count() > 50  # the index case's chronology, month by month
    assert page.input_value("#evidence_text").startswith("The GP saw bruising")  # nothing typed is lost
    assert page.locator("#event_ids-group legend").first.inner_text().strip()
    assert axe_serious(page) == []
    assert fits_the_width(page)

    chosen = [events.nth(3).get_attribute("value"), events.nth(10).get_attribute("value")]
    for value in chosen:
        page.check(f"input[name='event_ids'][value='{value}']")
    page.select_option("#agency_id", index=1)
    page.select_option("#activity", "case_file_review")
    page.check("input[name='finding_type'][value='area_for_improvement']")
    page.check("#criteria")
    page.click("#save-draft")
    page.wait_for_url(re.compile(r".*/findings/EF-OFS-02-\d{4}$"))
    public_id = page.url.rsplit("/", 1)[1]

    cited = page.locator("#cited-events li")
    assert cited.count() == 2
    assert {item.get_attribute("id") for item in cited.all()} == {f"cited-event-{value}" for value in chosen}
    assert all(re.match(r"Event \d+: \d{1,2} \w+ \d{4} · ", item.inner_text()) for item in cited.all())
    assert axe_serious(page) == [] and fits_the_width(page)

    # Each cited event's link opens the case's chronology at that event, which names the finding.
    page.click(f"#cited-event-{chosen[1]} a")
    page.wait_for_url(re.compile(rf".*/cases/C-017#event-{chosen[1]}$"))
    for value in chosen:
        citing = page.locator(f"#event-{value} .ik-citing")
        assert public_id in citing.inner_text()
        citing.locator(f"a:has-text('{public_id}')").first.wait_for()
    assert page.locator(".ik-citing").count() >= 2
    assert axe_serious(page) == [] and fits_the_width(page)

    # Editing keeps the choice, and unticking one event leaves it uncited.
    page.goto(base + f"/findings/{public_id}/edit")
    assert page.is_checked(f"input[name='event_ids'][value='{chosen[0]}']")
    page.uncheck(f"input[name='event_ids'][value='{chosen[0]}']")
    page.click("#save-changes")
    page.wait_for_url(re.compile(rf".*/findings/{public_id}$"))
    assert page.locator("#cited-events li").count() == 1
    page.goto(base + "/cases/C-017")
    assert page.locator(f"#event-{chosen[0]} .ik-citing a:has-text('{public_id}')").count() == 0
    assert page.locator(f"#event-{chosen[1]} .ik-citing a:has-text('{public_id}')").count() == 1
    assert errors == []
