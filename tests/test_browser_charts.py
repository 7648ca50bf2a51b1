"""The charts in a real Chromium through the real server, on the demo review.

The lead opens case C-017: its timeline has one lane per agency and one mark
per event (both counted in the database), missed opportunities have a shape
of their own, and long gaps are shaded. On the coverage page the lead clicks
the empty police × 3.3 cell of the heatmap and lands on a page saying there
is no evidence and how to record some. No page with a chart logs a script or
Content-Security-Policy error, and axe-core finds nothing serious or critical
on them (Datasette's case chronology: on the chart it adds).
"""

from __future__ import annotations

import contextlib
import re

import pytest

from inspect_kit import chronology

from .conftest import serving_demo
from .pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GAP = 5  # days: the demo's index case has no gap over the default 28, and 21 over 5


@pytest.fixture(scope="module")
def demo_server(demo_template, tmp_path_factory):
    with serving_demo(demo_template, tmp_path_factory, "browser-charts") as server:
        yield server


def axe_serious(page, context=None) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    return [f"{violation['id']}: {violation['help']}" for violation in results.response["violations"]
            if violation["impact"] in ("serious", "critical")]


def drawn(page, chart_id: str) -> None:
    page.wait_for_selector(f"figure#{chart_id}.ik-chart--drawn svg")


def test_the_lead_reads_the_timeline_and_follows_an_empty_heatmap_cell(demo_server, browser_page):
    page, base = browser_page, demo_server.url
    page.set_viewport_size({"width": 1024, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # Datasette's pages ask for /favicon.ico, which nothing serves (a 404 unrelated to the charts).
    page.on("console", lambda message: message.type == "error" and not message.location.get(
        "url", "").endswith("/favicon.ico") and problems.append(message.text))
    with contextlib.closing(demo_server.store.evidence()) as db:
        review_id = db.execute("SELECT id FROM reviews ORDER BY id DESC LIMIT 1").fetchone()[0]
        events = chronology.case_chronology(db, chronology.case_by_ref(db, review_id, "C-017")["id"])
    agencies = {event["agency"] for event in events}
    missed = sum(1 for event in events if event["missed_opportunity"])
    long_gaps = sum(1 for event in events if (event["gap_days"] or 0) > GAP)
    assert len(events) >= 60 and len(agencies) > 1 and missed and long_gaps

    sign_in(page, base, "lead")
    drawn(page, "evidence-by-day")
    drawn(page, "qa-ageing")
    assert axe_serious(page) == []

    page.goto(f"{base}/cases/C-017?gap={GAP}")
    drawn(page, "timeline")
    marks = page.locator("#timeline svg g.events_marks path")
    assert marks.count() == len(events)
    lanes = page.evaluate("""new Set([...document.querySelectorAll('#timeline svg g.events_marks path')]
                               .map(p => p.getAttribute('transform').split(',')[1])).size""")
    assert lanes == len(agencies)
    assert page.locator("#timeline svg g.gaps_marks path").count() == long_gaps
    # Without colour: every missed opportunity has one shape, which no other kind of event has.
    shapes = page.evaluate("""[...document.querySelectorAll('#timeline svg g.events_marks path')]
                               .map(p => [p.getAttribute('aria-label'), p.getAttribute('d')])""")
    missed_shapes = {shape for label, shape in shapes if label.endswith("(Missed opportunity)")}
    other_shapes = {shape for label, shape in shapes if not label.endswith("(Missed opportunity)")}
    assert len([label for label, _ in shapes if label.endswith("(Missed opportunity)")]) == missed
    assert len(missed_shapes) == 1 and not missed_shapes & other_shapes
    # The table is folded away once the chart is drawn; the event list follows.
    assert page.locator("#timeline details.ik-chart__table").get_attribute("open") is None
    assert page.locator("#chronology > li.ik-event").count() == len(events)
    assert axe_serious(page) == []

    page.goto(base + "/coverage/balance")
    drawn(page, "balance-agency")
    drawn(page, "balance-criterion")
    assert axe_serious(page) == []
    page.goto(base + "/coverage")
    drawn(page, "coverage-heatmap")
    assert axe_serious(page) == []
    # The cell, clicked away from its printed "none" (which links to the same page).
    page.locator("#coverage-heatmap svg g.cells_marks path[aria-label^='police × 3.3 ']").click(
        position={"x": 30, "y": 22})
    page.wait_for_url(re.compile(r"/coverage/police/3\.3$"))
    assert "There is no evidence yet from the Police strand for criterion 3.3" in page.locator(
        "#no-evidence").inner_text().replace("police", "Police")
    assert "Record evidence" in page.locator("#no-evidence").inner_text()
    assert axe_serious(page) == []

    # At tablet width the charts shrink to their column and nothing overflows the page.
    page.set_viewport_size({"width": 768, "height": 1024})
    for path, chart in ((f"/cases/C-017?gap={GAP}", "timeline"), ("/coverage", "coverage-heatmap")):
        page.goto(base + path)
        drawn(page, chart)
        page.wait_for_function(f"document.querySelector('#{chart} svg').getBoundingClientRect().width <= 768")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    # On paper each chart is its column's width, with its summary.
    page.emulate_media(media="print")
    assert page.evaluate("""[...document.querySelectorAll('.ik-chart svg')].every(
        svg => svg.getBoundingClientRect().right <= document.documentElement.clientWidth + 1)""")
    page.emulate_media(media="screen")

    page.goto(f"{base}/data/evidence/case_chronology?case_ref=C-017&gap_days={GAP}")
    drawn(page, "timeline")
    assert page.locator("#timeline svg g.events_marks path").count() == len(events)
    assert axe_serious(page, context="#timeline") == []
    assert problems == []
