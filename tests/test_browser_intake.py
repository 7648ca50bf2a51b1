"""A real Chromium, at tablet width, through the real server.

A demo inspector records a finding with a deliberate mistake, sees the error
with everything typed still there, fixes it, submits it and finds it in the
list; the lead returns it with a comment; the author sees the comment.
"""

from __future__ import annotations

import re

import pytest

from .conftest import serving_demo
from .pages import fits_the_width, script_errors, sign_in

pytestmark = pytest.mark.browser

INSPECTOR = "ofsted2"
LEAD = "lead"
EVIDENCE = "Strategy discussion on the 3rd: no health representative; the GP's concern about bruising was not heard."
EVALUATION = "Decision made without health information."


@pytest.fixture(scope="module")
def demo_server(demo_template, tmp_path_factory):
    """The real ``inspect-kit serve`` on a demo store, shared by this module's tests
    (building the demo and starting the server is most of their time). Each test
    records its own findings, so they do not depend on each other's order."""
    with serving_demo(demo_template, tmp_path_factory, "browser-intake") as server:
        yield server


def sign_out(page, base):
    page.click("button:has-text('Sign out')")
    page.wait_for_url(re.compile(r".*/login$"))


def choose_case(page, typed: str = "C-0") -> str:
    """Pick a case in the finding form's type-ahead: type, then take the first suggestion."""
    page.fill("input#case_id", typed)
    suggestion = page.locator("#case_id__listbox li").first
    chosen = suggestion.inner_text()
    suggestion.click()
    return chosen


def test_record_return_and_see_the_comment_in_a_real_browser(demo_server, browser_page):
    page, base = browser_page, demo_server.url
    page.set_viewport_size({"width": 768, "height": 1024})
    errors = script_errors(page)
    # Console errors include Content-Security-Policy violations and failed asset loads.
    # (A form returned with errors is a 422: Chromium logs that too, and it is expected.)
    page.on("console", lambda message: message.type == "error" and "status of 422" not in message.text
            and errors.append(message.text))

    sign_in(page, base, INSPECTOR)
    assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    font = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert "GDS Transport" not in font and "system-ui" in font

    # A finding with a deliberate mistake: no type of finding chosen.
    page.goto(base + "/findings/new")
    assert fits_the_width(page)
    choose_case(page)
    page.select_option("#agency_id", index=1)
    page.select_option("#activity", "case_file_review")
    page.fill("#evidence_text", EVIDENCE)
    page.fill("#evaluation_text", EVALUATION)
    page.check("#criteria")
    criterion = page.get_attribute("#criteria", "value")
    page.check(f"input[name='relevance-{criterion}'][value='secondary']")
    page.click("#submit-for-qa")

    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert "Select the type of finding" in summary.inner_text()
    assert page.title().startswith("Error:")
    assert page.input_value("#evidence_text") == EVIDENCE
    assert page.input_value("#evaluation_text") == EVALUATION
    assert page.is_checked("#criteria")
    assert page.is_checked(f"input[name='relevance-{criterion}'][value='secondary']")
    assert page.input_value("#activity") == "case_file_review"
    # The summary links to the field; following it puts the radios in view.
    summary.locator("a[href='#finding_type']").click()
    assert page.locator("#finding_type").is_visible()
    assert fits_the_width(page)

    # Fix it and submit.
    page.check("input[name='finding_type'][value='area_for_improvement']")
    page.click("#submit-for-qa")
    page.wait_for_url(re.compile(r".*/findings/EF-[A-Z]+-\d\d-\d{4}$"))
    public_id = page.url.rsplit("/", 1)[1]
    assert "has been submitted for QA" in page.inner_text(".govuk-notification-banner")
    assert page.inner_text("#evidence-text") == EVIDENCE

    page.goto(base + "/findings")
    assert page.locator(f"#findings-table a:has-text('{public_id}')").count() == 1
    assert fits_the_width(page)
    sign_out(page, base)

    # The lead returns it with a comment.
    sign_in(page, base, LEAD)
    assert page.locator("#qa-queue-size").is_visible()
    assert page.locator("#alerts-banner").is_visible()  # the demo has an open urgent alert
    for path in ("/", "/qa", "/cases/C-017", "/alerts", "/findings"):
        page.goto(base + path)
        assert fits_the_width(page), path
    page.goto(base + "/qa?inspector=OFS-02")  # the queue is paged: one inspector's records fit on one page
    page.click(f"#qa-queue a:has-text('{public_id}')")
    page.fill("#comment", "Say which agency held the GP's concern, and when.")
    page.click("#qa-return")
    page.wait_for_url(re.compile(r".*/qa\?inspector=OFS-02$"))
    assert "returned to its author" in page.inner_text(".govuk-notification-banner")
    sign_out(page, base)

    # The author sees the comment on the dashboard and on the finding.
    sign_in(page, base, INSPECTOR)
    returned = page.locator("#returned + ul")
    assert public_id in returned.inner_text()
    assert "Say which agency held the GP's concern, and when." in returned.inner_text()
    page.click(f"#returned + ul a:has-text('{public_id}')")
    assert "Say which agency held the GP's concern, and when." in page.inner_text("#returned-banner")
    assert errors == []


def test_pages_work_without_javascript(demo_server, chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    from .conftest import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(java_script_enabled=False, viewport={"width": 768, "height": 1024})
            page = context.new_page()
            page.set_default_timeout(10_000)
            sign_in(page, demo_server.url, INSPECTOR)
            page.goto(demo_server.url + "/findings/new")
            page.fill("#evidence_text", "Typed without JavaScript")
            page.click("#save-draft")
            page.locator(".govuk-error-summary").wait_for()
            assert page.input_value("#evidence_text") == "Typed without JavaScript"
            page.select_option("#activity", "interview")
            page.check("input[name='finding_type'][value='context']")
            page.click("#save-draft")
            page.wait_for_url(re.compile(r".*/findings/EF-.*"))
            assert "saved as a draft" in page.inner_text(".govuk-notification-banner")
            context.close()
        finally:
            browser.close()
