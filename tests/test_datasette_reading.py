"""The lead's questions read without SQL: counts and ids link to the rows behind
them, grades show with their labels, every description says how to read the
answer; and Datasette's templates carry the attributes assistive technology needs.
"""

from __future__ import annotations

import contextlib
from urllib.parse import parse_qsl, urlsplit

import pytest

from inspect_kit.datasette_plugin import accessible, catalogue, questions
from inspect_kit.datasette_plugin.app import make_datasette
from inspect_kit.store import Store

from .conftest import copy_store
from .datasette_support import SECRET, cookies_as
from .pages import elements

LEAD = cookies_as("lead", "lead")
POLICE = cookies_as("police1", "inspector", "police")


@pytest.fixture(scope="module")
def demo_store(demo_template, tmp_path_factory) -> Store:
    return copy_store(demo_template(), tmp_path_factory.mktemp("reading"))


@pytest.fixture
def ds(demo_store):
    return make_datasette(demo_store, SECRET)


def cell_links(html: str, column: str) -> list[tuple[str, str]]:
    return [(link.get("href"), link.text_content()) for link in elements(html, f"td.col-{column} a")]


async def rows_behind(ds, href: str, cookies=LEAD) -> int:
    """How many rows the linked table page lists (Datasette's filtered count)."""
    path = urlsplit(href)
    query = [*parse_qsl(path.query), ("_nofacet", "1")]
    response = await ds.client.get(path.path.removeprefix("/data") + ".json", params=query, cookies=cookies)
    assert response.status_code == 200, response.text
    return response.json()["filtered_table_rows_count"]


async def test_every_coverage_cell_links_to_exactly_its_findings(ds):
    html = (await ds.client.get("/evidence/coverage_matrix", cookies=LEAD)).text
    strands = ("ofsted", "health", "police")
    checked = 0
    for strand in strands:
        for href, count in cell_links(html, strand):
            assert f"strand={strand}" in href and "_criterion=" in href
            assert await rows_behind(ds, href) == int(count), href
            checked += 1
    assert checked == 3 * 7  # every strand × every criterion of the demo framework


async def test_counts_in_questions_open_their_rows(ds):
    html = (await ds.client.get("/evidence/qa_queue_by_inspector", cookies=LEAD)).text
    links = cell_links(html, "findings")
    assert links
    for href, count in links:
        assert await rows_behind(ds, href) == int(count), href
    concerns = cell_links((await ds.client.get("/evidence/cases_with_concerns_across_agencies", cookies=LEAD)).text,
                          "concerns")
    assert concerns and concerns[0][0].endswith("case_ref=C-017&qa_status__not=withdrawn")


async def test_case_refs_and_events_link_for_inspectors_too(ds):
    html = (await ds.client.get("/evidence/contacts_without_information_shared", cookies=POLICE)).text
    assert ("/cases/C-017", "C-017") in cell_links(html, "case_ref")
    contacts = cell_links(html, "contacts")
    assert contacts and all(href.startswith("/data/evidence/case_chronology?case_ref=C-") for href, _ in contacts)
    chronology = (await ds.client.get("/evidence/case_chronology?case_ref=C-017", cookies=POLICE)).text
    event_href, event_id = cell_links(chronology, "event_id")[0]
    assert event_href == f"/data/evidence/chronology_events/{event_id}"
    assert (await ds.client.get(event_href.removeprefix("/data"), cookies=POLICE)).status_code == 200


async def test_grades_show_with_their_labels(ds, demo_store):
    with contextlib.closing(demo_store.evidence()) as db:
        labels = dict(db.execute("SELECT grade, label FROM grades").fetchall())
    html = (await ds.client.get("/evidence/judgements", cookies=LEAD)).text
    shown = [cell.text_content().strip() for cell in elements(html, "td.col-proposed_grade")]
    assert shown and all(text == "" or text == f"{text[0]} — {labels[int(text[0])]}" for text in shown)
    assert any(" — " in text for text in shown)
    answer = (await ds.client.get("/evidence/grades_against_evidence", cookies=LEAD)).text
    assert all(" — " in cell.text_content() for cell in elements(answer, "td.col-proposed_grade"))


@pytest.mark.parametrize("question", questions.questions(), ids=lambda question: question.name)
def test_every_description_says_how_to_read_the_answer(question):
    # How to read it: what a row or a column means, and what to do with it.
    words = question.description.lower()
    assert len(question.description) > 150
    assert any(cue in words for cue in ("read", "means", "says", "names", "marks", "opens", "list", "chase",
                                        "act on", "check")), question.name
    for column, template in question.links.items():
        assert "{" in template or column in questions.vocab.DEFAULT_STRANDS, (column, template)


async def test_every_accessibility_patch_applies(ds):
    await ds.invoke_startup()  # our prepare_jinja2_environment
    environment = ds.jinja_env
    for name in accessible.PATCHES:
        # Datasette's own (our overrides extend them; the pages we do not override are them).
        source, _, _ = environment.loader.get_source(environment, "default:" + name)
        for _, ours, _ in accessible.PATCHES[name]:
            assert ours in source, (name, ours)
    page = (await ds.client.get("/evidence", cookies=LEAD)).text
    assert elements(page, "html")[0].get("lang") == "en"
    assert elements(page, "textarea#sql-editor")[0].get("aria-label") == "SQL query"  # database.html, not overridden


def test_a_changed_datasette_template_is_reported():
    with pytest.raises(ValueError, match="base.html"):
        accessible.patched_source("base.html", "<!DOCTYPE html><html class=x>")


def test_findings_with_names_is_described_for_readers():
    entry = catalogue.TABLES["findings_readable"]
    assert entry["fts_table"] == "findings_fts" and entry["fts_pk"] == "id"
