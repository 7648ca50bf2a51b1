"""Finding anything fast in the intake app, in a real Chromium at tablet width
(768 px) through the real server on a copy of the demo review.

One test per user story: the lead works through one strand's QA queue with
"accept and next"; an inspector picks case C-017 by typing "017"; an
inspector searches and filters the records list. Each page on the way is
checked with axe-core (no serious or critical violation) and for text wider
than its box.
"""

from __future__ import annotations

import re
import uuid

import pytest

from inspect_kit import accounts, chronology, finding_queries, findings, qa

from .conftest import serving_demo
from .pages import sign_in
from .test_browser_offline import axe_serious

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
# Long unbroken text, as pasted from a case system: it must wrap, not widen the page.
UNBROKEN = "See-the-MASH-record-" + "x" * 300


@pytest.fixture(scope="module")
def demo_server(demo_template, tmp_path_factory):
    with serving_demo(demo_template, tmp_path_factory, "browser-find") as server:
        yield server


# Each block that holds text itself (a paragraph, a cell, a button, a list item) whose content
# is wider than its box (scrollWidth over clientWidth) is text overflowing its container;
# so is a page wider than the window. Blocks that scroll on purpose are left out.
OVERFLOW = """
    () => {
        const found = [];
        const root = document.documentElement;
        if (root.scrollWidth > root.clientWidth + 1) found.push(`the page: ${root.scrollWidth}`);
        const blocks = new Set();
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (!node.textContent.trim()) continue;
            let element = node.parentElement;
            while (element && ["inline", "contents"].includes(getComputedStyle(element).display)) {
                element = element.parentElement;
            }
            // A chart's SVG text is laid out in the SVG's own coordinates, not the page's: the
            // chart's container is what must fit (and is checked).
            if (element && element.clientWidth > 1 && !element.closest("svg")) blocks.add(element);  // 1 px: visually hidden
        }
        for (const element of blocks) {
            if (["auto", "scroll"].includes(getComputedStyle(element).overflowX)) continue;
            if (element.scrollWidth > element.clientWidth + 2)
                found.push(`${element.tagName}#${element.id}.${element.className}: ${element.scrollWidth}`);
        }
        return found;
    }
"""


def overflowing(page) -> list[str]:
    return page.evaluate(OVERFLOW)


def check_page(page) -> None:
    assert axe_serious(page) == [], page.url
    assert overflowing(page) == [], page.url
    # The header (service name, account, menu) is two rows at 768 px: 98 px measured;
    # before, the lead's menu wrapped to four rows (287 px).
    assert page.evaluate("document.querySelector('.govuk-template__header').getBoundingClientRect().height") < 120
    # Nothing is fixed to the viewport: with an on-screen keyboard taking half of it, such an
    # element would cover the field being typed in.
    assert page.evaluate("""() => [...document.querySelectorAll("body *")].filter(element =>
        ["fixed", "sticky"].includes(getComputedStyle(element).position) && element.getClientRects().length)
        .map(element => element.tagName + "." + element.className)""") == []


def watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The conflict page is a 409, which Chromium logs as a failed load: expected.
    page.on("console", lambda message: message.type == "error" and "status of 409" not in message.text
            and errors.append(message.text))
    return errors


def start(browser_page, server, username: str, path: str):
    """``username`` signed in at tablet width on ``path``: the page, the server's address and the
    script errors seen from then on."""
    page = browser_page
    page.set_viewport_size(TABLET)
    errors = watch_errors(page)
    sign_in(page, server.url, username)
    page.goto(server.url + path)
    return page, server.url, errors


def queued(store, strand: str) -> int:
    return store.evidence().execute("SELECT count(*) FROM findings JOIN strands ON strands.id = findings.strand_id"
                                    " WHERE qa_status = 'submitted' AND strands.code = ?", [strand]).fetchone()[0]


def test_the_lead_filters_the_queue_to_one_strand_and_accepts_three_with_accept_and_next(demo_server, browser_page):
    before = queued(demo_server.store, "police")
    page, base, errors = start(browser_page, demo_server, "lead", "/qa")
    page.select_option("#filter-strand", "police")
    page.select_option("#sort", "case")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r".*/qa\?strand=police&sort=case$"))
    assert f"of {before} records awaiting QA" in page.inner_text("#qa-count")
    assert f"Police ({before})" in page.inner_text("#filter-strand")
    check_page(page)

    first = page.inner_text("#qa-queue tbody tr:first-child a")
    page.click("#qa-queue tbody tr:first-child a")
    accepted = []
    for _ in range(3):
        public_id = page.inner_text("h1").split()[0]
        assert public_id.startswith("EF-POL-")
        assert page.inner_text("#qa-accept") == "Accept and next"
        following = page.inner_text("#next-in-queue").split()[1]
        page.click("#qa-accept")
        page.wait_for_url(re.compile(rf".*/findings/{following}\?strand=police&sort=case#qa$"))
        assert f"{public_id} has been accepted" in page.inner_text(".govuk-notification-banner")
        accepted.append(public_id)
    assert accepted[0] == first and len(set(accepted)) == 3
    assert queued(demo_server.store, "police") == before - 3
    assert {row[0] for row in demo_server.store.evidence().execute(
        "SELECT qa_status FROM findings WHERE public_id IN (?, ?, ?)", accepted)} == {"accepted"}

    # Returning one with a long unbroken comment: back to the same filtered queue, and
    # the comment wraps on the record's page.
    returned = page.inner_text("h1").split()[0]
    page.fill("#comment", UNBROKEN)
    page.click("#qa-return")
    page.wait_for_url(re.compile(r".*/qa\?strand=police&sort=case$"))
    assert f"of {before - 4} records awaiting QA" in page.inner_text("#qa-count")
    page.goto(f"{base}/findings/{returned}")
    assert UNBROKEN in page.inner_text("#qa-history")
    assert overflowing(page) == []
    assert errors == []


def test_an_inspector_picks_case_c017_by_typing_017(demo_server, browser_page):
    page, base, errors = start(browser_page, demo_server, "ofsted2", "/findings/new")
    # The select became a type-ahead (the select stays in the form, hidden, and carries the value).
    page.locator("input#case_id").wait_for()
    assert page.locator("select#case_id-select").is_hidden()
    options = page.eval_on_selector_all("#case_id-select option", "options => options.map(o => o.textContent)")
    own = [text for text in options if text.endswith("your case")]
    assert own and options[1:len(own) + 1] == own  # the inspector's own cases first
    check_page(page)

    page.fill("input#case_id", "017")
    suggestions = page.locator("#case_id__listbox li")
    suggestions.first.wait_for()
    assert suggestions.count() == 1 and suggestions.first.inner_text().startswith("C-017 ")
    suggestions.first.click()
    assert page.input_value("input#case_id").startswith("C-017 ")
    c017 = demo_server.store.evidence().execute("SELECT id FROM cases WHERE case_ref = 'C-017'").fetchone()[0]
    assert page.eval_on_selector("#case_id-select", "select => select.value") == str(c017)
    check_page(page)

    page.select_option("#activity", "case_file_review")
    page.fill("#evidence_text", "Typed on a tablet: the GP's letter about bruising was not on the social care file.")
    page.check("input[name='finding_type'][value='area_for_improvement']")
    page.check("#criteria")
    page.click("#save-draft")
    page.wait_for_url(re.compile(r".*/findings/EF-OFS-02-\d{4}$"))
    assert "C-017" in page.inner_text("#finding-details")
    public_id = page.url.rsplit("/", 1)[1]

    # Long unbroken text wraps at 768 px: the 409 conflict's message and the saved evidence
    # it quotes (the record was changed elsewhere while the edit page was open), an edit
    # reason on the history page, and a practitioner's role on the case page.
    page.goto(f"{base}/findings/{public_id}/edit")
    assert page.input_value("input#case_id").startswith("C-017 ")  # the type-ahead shows the stored case
    db = demo_server.store.evidence()
    author = accounts.actor_for(accounts.get_account(demo_server.store.private(), "ofsted2"), db)
    finding = findings.get_finding(db, public_id)
    qa.submit(db, author, finding["id"])
    findings.edit_finding(db, author, finding["id"], {**edited(finding), "evidence_text": UNBROKEN},
                          reason=UNBROKEN, expected_version=1)
    page.fill("#evidence_text", "My own edit.")
    page.click("#save-changes")
    page.locator("#conflict").wait_for()
    assert UNBROKEN in page.inner_text("#conflict")
    check_page(page)
    page.goto(f"{base}/findings/{public_id}/history")
    assert UNBROKEN in page.inner_text("main")
    assert overflowing(page) == []
    chronology.record_event(db, author, {
        "case_id": c017, "agency_id": finding["agency_id"] or db.execute("SELECT min(id) FROM agencies").fetchone()[0],
        "practitioner_role": UNBROKEN[:200], "event_date": "2008-03-01", "event_type": "home_visit",
        "description": "Seen at home."}, client_uuid=str(uuid.uuid4()), review_id=finding["review_id"])
    page.goto(f"{base}/cases/C-017")
    assert UNBROKEN[:200] in page.inner_text("main")
    assert overflowing(page) == []
    assert errors == []


def edited(finding: dict) -> dict:
    """A stored finding's fields as an edit sends them back."""
    return {name: finding[name] for name in finding_queries.FIELDS if name in finding}


def test_an_inspector_searches_and_filters_the_records_list(demo_server, browser_page):
    page, base, errors = start(browser_page, demo_server, "health1", "/findings")
    check_page(page)
    assert page.locator("#filter-strand").count() == 0  # an inspector reads one strand: no strand filter
    page.fill("#q", "child's")
    page.select_option("#filter-type", "area_for_improvement")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r".*/findings\?q=child%27s&type=area_for_improvement$"))
    count = page.inner_text("#findings-count")
    assert re.search(r"of \d+ records?$", count), count
    for row in page.locator("#findings-table tbody tr").all():
        assert "Area for improvement" in row.inner_text()
    check_page(page)

    page.fill("#q", "A&E " + UNBROKEN)
    page.click("#apply-filters")
    assert page.locator("#no-results").is_visible()
    check_page(page)
    page.click("#no-results a:has-text('clear them all')")
    page.wait_for_url(base + "/findings")
    assert page.locator(".govuk-pagination").is_visible()
    page.click(".govuk-pagination__next a")
    page.wait_for_url(re.compile(r".*/findings\?page=2$"))
    assert page.inner_text("#findings-count").startswith("Showing 51 to 100 of ")
    assert errors == []
