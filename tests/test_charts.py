"""Charts: what they count (against the demo store, counted again in SQL here),
their text alternatives, the tables under them, the coverage cell pages and who
sees what (docs/architecture.md §8, §10). Drawing them is tested in Chromium
(test_browser_charts.py)."""

from __future__ import annotations

import contextlib
import json
import urllib.parse

import pytest

from inspect_kit import accounts, chart_specs, charts, chronology, policy
from inspect_kit.actors import Actor
from inspect_kit.charts import EVENT_KINDS

from .conftest import copy_store
from .pages import elements, first, text_of
from .web_fixtures import make_app


@pytest.fixture(scope="module")
def demo_store(demo_template, tmp_path_factory):
    return copy_store(demo_template(), tmp_path_factory.mktemp("charts-demo"))


@pytest.fixture(scope="module")
def demo_app(demo_store):
    return make_app(demo_store)


@pytest.fixture
def db(demo_store):
    return demo_store.evidence()


@pytest.fixture(scope="module")
def review_id(demo_store):
    with contextlib.closing(demo_store.evidence()) as db:
        return db.execute("SELECT id FROM reviews ORDER BY id DESC LIMIT 1").fetchone()[0]


def client_as(app, store, username: str | None):
    """A test client signed in as the demo account ``username`` (None: anonymous)."""
    client = app.test_client()
    if username is not None:
        with contextlib.closing(store.private()) as private:
            account = accounts.get_account(private, username)
        with client.session_transaction() as session:
            session.permanent = True
            session["actor"] = {"id": username, "role": account["role"], "strand": account["strand"] or None,
                                "inspector": account["inspector_code"] or None}
    return client


def spec_of(page: str, chart_id: str) -> dict:
    return json.loads(first(page, f"figure#{chart_id}").get("data-ik-spec"))


def c017_events(db, review_id: int) -> list[dict]:
    return chronology.case_chronology(db, chronology.case_by_ref(db, review_id, "C-017")["id"])


def test_the_timeline_has_a_mark_per_event_a_lane_per_agency_and_its_gaps(db, review_id):
    counted = db.execute(
        """SELECT count(*), count(DISTINCT agency_id), sum(missed_opportunity) FROM chronology_events
           WHERE case_id = (SELECT id FROM cases WHERE case_ref = 'C-017' AND review_id = ?)""",
        [review_id]).fetchone()
    events = c017_events(db, review_id)
    timeline = charts.timeline(events, gap_days=5)
    assert len(timeline["marks"]) == counted[0] and len(timeline["lanes"]) == counted[1]
    assert timeline["counts"]["Missed opportunity"] == counted[2]
    longest = max(event["gap_days"] or 0 for event in events)
    assert timeline["gaps"] and max(gap["days"] for gap in timeline["gaps"]) == longest
    assert all(gap["days"] > 5 for gap in timeline["gaps"])
    summary = timeline["summary"]
    assert f"{counted[0]} events from {counted[1]} agencies" in summary
    assert f"{counted[2]} missed opportunities" in summary and f"the longest, {longest} days" in summary
    # No gap is long enough at the default threshold: the summary says so rather than nothing.
    assert "No gap of more than 28 days" in charts.timeline(events)["summary"]
    assert charts.timeline([])["summary"] == "No events have been recorded for this case yet."


def test_every_kind_of_event_has_its_own_shape_and_colour(db, review_id):
    spec = chart_specs.timeline_spec(charts.timeline(c017_events(db, review_id), gap_days=5))
    events = next(layer for layer in spec["layer"] if layer["name"] == "events")
    shape, colour = events["encoding"]["shape"]["scale"], events["encoding"]["color"]["scale"]
    assert shape["domain"] == colour["domain"] == [label for _f, label, _s, _c in EVENT_KINDS]
    assert len(set(shape["range"])) == len(shape["range"]) == len(set(colour["range"]))
    assert any(layer["name"] == "gaps" for layer in spec["layer"])
    # A missed opportunity that was also a key event is drawn as a missed opportunity.
    assert charts.event_kind({"key_event": 1, "missed_opportunity": 1}) == "Missed opportunity"
    assert charts.event_kind({}) == "Other contact"


def test_the_case_page_draws_the_timeline_above_the_list_with_a_table(demo_app, demo_store, db, review_id):
    events = c017_events(db, review_id)
    page = client_as(demo_app, demo_store, "police1").get("/cases/C-017?gap=5").get_data(as_text=True)
    figure = first(page, "figure#timeline")
    assert figure.getnext().get("id") == "events"  # the chart sits above the event list
    spec = spec_of(page, "timeline")
    marks = next(layer for layer in spec["layer"] if layer["name"] == "events")["data"]["values"]
    assert [mark["id"] for mark in marks] == [event["id"] for event in events]
    assert all(mark["href"] == f"#event-{mark['id']}" for mark in marks)
    assert text_of(page, "#timeline-summary") == spec["description"]
    rows = elements(page, "#timeline-table tbody tr")
    assert len(rows) == len({event["agency"] for event in events})
    assert sum(int(row.cssselect("td")[0].text_content()) for row in rows) == len(events)
    assert len(elements(page, "#timeline-gaps tbody tr")) == len(charts.timeline(events, 5)["gaps"])
    assert first(page, "details.ik-chart__table").get("open") is not None  # open until drawn
    assert [script.get("src") for script in elements(page, "script[src*='vega']")] == [
        "/static/vega/vega.min.js", "/static/vega/vega-lite.min.js", "/static/vega/vega-embed.min.js"]


def test_the_coverage_heatmap_counts_what_the_reader_may_read(demo_app, demo_store, db, review_id):
    lead = client_as(demo_app, demo_store, "lead").get("/coverage").get_data(as_text=True)
    spec = spec_of(lead, "coverage-heatmap")
    cells = {(value["strand"], value["criterion"]): value for value in spec["data"]["values"]}
    from_sql = dict(((strand, code), count) for strand, code, count in db.execute(
        """SELECT strands.code, criteria.code, count(DISTINCT findings.id) FROM finding_criteria
           JOIN findings ON findings.id = finding_criteria.finding_id
           JOIN criteria ON criteria.id = finding_criteria.criterion_id
           JOIN strands ON strands.id = findings.strand_id
           WHERE findings.review_id = ? AND findings.qa_status != 'withdrawn' GROUP BY 1, 2""", [review_id]))
    assert {key: value["findings"] for key, value in cells.items() if value["findings"]} == from_sql
    assert cells[("police", "3.3")]["label"] == "none" and cells[("police", "3.3")]["href"] == "/coverage/police/3.3"
    assert cells[("health", "3.1")]["findings"] == 0
    assert "police × 3.3" in spec["description"] and "health × 3.1" in spec["description"]
    table_links = [link.get("href") for link in elements(lead, "#coverage-table a")]
    assert sorted(table_links) == sorted(value["href"] for value in cells.values())
    # The exact spelling is found through the index, a folded one by the rule.
    assert client_as(demo_app, demo_store, "lead").get("/cases/c-017").status_code == 200
    # An inspector sees their own strand's column only, in the page and in its JSON.
    police = client_as(demo_app, demo_store, "police1")
    police_spec = spec_of(police.get("/coverage").get_data(as_text=True), "coverage-heatmap")
    assert {value["strand"] for value in police_spec["data"]["values"]} == {"police"}
    data = police.get("/coverage.json").get_json()
    assert {cell["strand"] for cell in data["cells"]} == {"police"} and data["summary"]
    assert police.get("/coverage/ofsted/2.1").status_code == 403
    # Administrators see no evidence; anonymous visitors sign in first.
    admin = client_as(demo_app, demo_store, "admin")
    assert admin.get("/coverage").status_code == admin.get("/coverage.json").status_code == 403
    assert client_as(demo_app, demo_store, None).get("/coverage").status_code == 302


def test_an_empty_cell_says_there_is_no_evidence_and_how_to_record_some(demo_app, demo_store):
    page = client_as(demo_app, demo_store, "police1").get("/coverage/police/3.3").get_data(as_text=True)
    notice = text_of(page, "#no-evidence")
    assert "There is no evidence yet from the" in notice and "criterion 3.3" in notice
    record = first(page, "#record-evidence").get("href")
    assert urllib.parse.urlsplit(record).path == "/findings/new"
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(record).query) == {"criterion": ["3.3"]}
    form = client_as(demo_app, demo_store, "police1").get(record).get_data(as_text=True)
    assert [box.get("value") for box in elements(form, "input[name=criteria][checked]")] == ["3.3"]
    # The lead records for the ofsted strand: told to ask a police inspector, offered their own record.
    lead = client_as(demo_app, demo_store, "lead").get("/coverage/police/3.3").get_data(as_text=True)
    assert "ask a Police inspector" in text_of(lead, "#no-evidence").replace("police", "Police")
    # A moderator records nothing: no link.
    moderator = client_as(demo_app, demo_store, "moderator").get("/coverage/police/3.3").get_data(as_text=True)
    assert "There is no evidence" in text_of(moderator, "#no-evidence")
    assert not elements(moderator, "#record-evidence")


def test_a_cell_with_evidence_lists_its_findings(demo_app, demo_store, db, review_id):
    total, rows = charts.cell_findings(db, review_id, "2.1", "ofsted", limit=5)
    assert total > 5 and len(rows) == 5
    page = client_as(demo_app, demo_store, "lead").get("/coverage/ofsted/2.1").get_data(as_text=True)
    assert f"{total:,} findings" in text_of(page, "#cell-count")
    listed = [link.text for link in elements(page, "#cell-findings a")]
    assert listed[:5] == [row["public_id"] for row in rows]


@pytest.mark.parametrize("path", [
    "/coverage/police/9.9", "/coverage/nosuch/3.3", "/coverage/%3Cscript%3E/3.3",
    "/coverage/police/" + urllib.parse.quote("'; DROP TABLE findings; --", safe=""),
    "/coverage/police/" + "3" * 5000,
])
def test_a_cell_that_does_not_exist_is_a_404(demo_app, demo_store, path):
    response = client_as(demo_app, demo_store, "lead").get(path)
    assert response.status_code == 404 and b"<script>" not in response.data


def test_the_lead_dashboard_charts_evidence_per_day_and_qa_ageing(demo_app, demo_store, db, review_id):
    page = client_as(demo_app, demo_store, "lead").get("/").get_data(as_text=True)
    progress = spec_of(page, "evidence-by-day")
    totals = dict(db.execute("""SELECT strands.code, count(*) FROM findings JOIN strands ON strands.id = strand_id
                                WHERE review_id = ? AND qa_status != 'withdrawn' GROUP BY 1""", [review_id]))
    values = progress["layer"][0]["data"]["values"]
    assert {strand: max(v["total"] for v in values if v["strand"] == strand) for strand in totals} == totals
    milestones = progress["layer"][1]["data"]["values"]
    draft_due = db.execute("SELECT draft_due FROM reviews WHERE id = ?", [review_id]).fetchone()[0]
    assert {"day": draft_due, "label": "Draft due"} in milestones
    ageing = spec_of(page, "qa-ageing")
    submitted = db.execute("SELECT count(*) FROM findings WHERE review_id = ? AND qa_status = 'submitted'",
                           [review_id]).fetchone()[0]
    assert sum(age["findings"] for age in ageing["data"]["values"]) == submitted
    assert f"{submitted:,} submitted records awaiting QA" in ageing["description"]
    assert len(elements(page, "#qa-ageing-table tbody tr")) == charts.QA_AGE_CAP + 1
    # An inspector's dashboard has no lead's charts.
    inspector = client_as(demo_app, demo_store, "police1").get("/").get_data(as_text=True)
    assert not elements(inspector, "figure.ik-chart")


def test_the_balance_puts_strengths_and_improvements_on_either_side(demo_app, demo_store, db, review_id):
    page = client_as(demo_app, demo_store, "moderator").get("/coverage/balance").get_data(as_text=True)
    assert len(elements(page, "#balance-agency-table tbody tr")) == len(spec_of(page, "balance-agency")[
        "data"]["values"]) // 2
    assert first(client_as(demo_app, demo_store, "lead").get("/coverage").get_data(as_text=True),
                 "#balance-link").get("href") == "/coverage/balance"
    balance = charts.balance(db, review_id)
    spec = chart_specs.balance_spec(balance["agencies"], balance["agency_summary"])
    values = spec["data"]["values"]
    assert all(v["findings"] >= 0 for v in values if v["side"] == "Strengths")
    assert all(v["findings"] <= 0 for v in values if v["side"] == "Areas for improvement")
    strengths = db.execute("SELECT count(*) FROM findings WHERE review_id = ? AND qa_status != 'withdrawn'"
                           " AND finding_type = 'strength'", [review_id]).fetchone()[0]
    assert sum(row["strengths"] for row in balance["agencies"]) == strengths
    # An inspector's balance counts their strand only.
    police = charts.balance(db, review_id, policy.finding_strands(Actor("police1", "inspector", "police", 1)))
    police_strengths = db.execute(
        """SELECT count(*) FROM findings JOIN strands ON strands.id = strand_id WHERE review_id = ?
           AND qa_status != 'withdrawn' AND finding_type = 'strength' AND strands.code = 'police'""",
        [review_id]).fetchone()[0]
    assert sum(row["strengths"] for row in police["agencies"]) == police_strengths < strengths


def test_the_datasette_case_chronology_page_draws_the_timeline(demo_store, db, review_id):
    import asyncio

    from .datasette_support import cookies_as
    from .test_datasette_questions import make_datasette

    ds = make_datasette(demo_store, "charts-secret")
    response = asyncio.run(ds.client.get("/evidence/case_chronology?case_ref=C-017",
                                         cookies=cookies_as("police1", "inspector", "police", "charts-secret")))
    assert response.status_code == 200
    spec = spec_of(response.text, "timeline")
    marks = next(layer for layer in spec["layer"] if layer["name"] == "events")["data"]["values"]
    assert [mark["id"] for mark in marks] == [event["id"] for event in c017_events(db, review_id)]
    assert "href" not in marks[0]
    assert "/static/charts.js" in [script.get("src") for script in elements(response.text, "script[src]")]


@pytest.mark.parametrize("strands", [True, "police", "health", False])
def test_the_balance_read_from_kept_counts_equals_counting_the_findings(demo_store, review_id, strands):
    """The balance page reads question 8's trigger-kept counts; after withdrawals they still equal a
    count over the findings themselves, by agency and by criterion, for every strand filter."""
    with contextlib.closing(demo_store.evidence()) as db:
        db.execute("SAVEPOINT withdrawals")
        db.execute("UPDATE findings SET qa_status = 'withdrawn' WHERE id % 7 = 0")
        balance = charts.balance(db, review_id, strands)
        for by, rows in (("agency", balance["agencies"]), ("criterion", balance["criteria"])):
            kept = [(row["name"], row["strengths"], row["improvements"], row["serious_weaknesses"]) for row in rows]
            assert kept == _counted(db, review_id, strands, by), (by, strands)
            assert bool(kept) is (strands is not False)
        db.execute("ROLLBACK TO withdrawals")
        db.execute("RELEASE withdrawals")


def _counted(db, review_id: int, strands, by: str) -> list[tuple]:
    where, params = charts._strand_filter(strands)
    kind = """sum(findings.finding_type = 'strength'),
              sum(findings.finding_type IN ('area_for_improvement', 'serious_weakness')),
              sum(findings.finding_type = 'serious_weakness')"""
    if by == "agency":
        sql = f"""SELECT coalesce(agencies.name, '(partnership-wide)') AS name, {kind} FROM findings
                  JOIN strands ON strands.id = findings.strand_id LEFT JOIN agencies ON agencies.id = findings.agency_id
                  WHERE findings.review_id = ? AND findings.qa_status != 'withdrawn'{where}
                  GROUP BY findings.agency_id ORDER BY name"""
    else:
        sql = f"""SELECT criteria.code || ' ' || criteria.title, {kind} FROM findings
                  JOIN strands ON strands.id = findings.strand_id
                  JOIN finding_criteria ON finding_criteria.finding_id = findings.id
                  JOIN criteria ON criteria.id = finding_criteria.criterion_id
                  WHERE findings.review_id = ? AND findings.qa_status != 'withdrawn'{where}
                  GROUP BY criteria.id ORDER BY criteria.position"""
    return [tuple(row) for row in db.execute(sql, [review_id, *params]).fetchall()]
