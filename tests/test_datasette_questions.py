"""The lead's 13 questions (docs/architecture.md §6) answered on the demo review, through Datasette.

The demo plants the answers (see the docstring of :mod:`inspect_kit.demo`);
each test runs the canned query as a lead would, over ASGI, and checks it.
"""

from __future__ import annotations

import contextlib

import pytest

from inspect_kit import demo
from inspect_kit.datasette_plugin.app import make_datasette
from inspect_kit.store import Store

from .conftest import copy_store
from .datasette_support import SECRET, cookies_as


@pytest.fixture(scope="module")
def demo_store(demo_template, tmp_path_factory) -> Store:
    # Today is fieldwork day 6, so alert due dates are relative to today.
    store = copy_store(demo_template(), tmp_path_factory.mktemp("demo"))
    return store


@pytest.fixture
def ds(demo_store):
    return make_datasette(demo_store, SECRET)


# Demo accounts (inspect_kit.demo): the plugin checks they exist in private.db.
DEMO_ACCOUNTS = {
    "lead": ("lead", "lead", None),
    "police_inspector": ("police1", "inspector", "police"),
    "health_inspector": ("health1", "inspector", "health"),
}


async def ask(ds, name: str, role: str = "lead", **params) -> list[dict]:
    response = await ds.client.get(f"/evidence/{name}.json", params={"_shape": "array", **params},
                                   cookies=cookies_as(*DEMO_ACCOUNTS[role]))
    assert response.status_code == 200, response.text
    return response.json()


def scalar(store: Store, sql: str, params=()):
    with contextlib.closing(store.evidence()) as db:
        return db.execute(sql, params).fetchone()[0]


async def test_1_cases_with_concerns_across_strands(ds):
    rows = await ask(ds, "cases_with_concerns_across_agencies")
    by_case = {row["case_ref"]: row for row in rows}
    assert by_case["C-017"]["strands"] == 3
    assert all(row["strands"] >= 2 or row["agencies"] >= 2 for row in rows)


async def test_1_lists_exactly_the_cases_an_independent_count_finds(ds, demo_store):
    strands: dict[str, set] = {}
    agencies: dict[str, set] = {}
    with contextlib.closing(demo_store.evidence()) as db:
        for case_ref, strand_id, agency_id in db.execute(
                "SELECT cases.case_ref, findings.strand_id, findings.agency_id FROM findings"
                " JOIN cases ON cases.id = findings.case_id WHERE findings.qa_status != 'withdrawn'"
                " AND (findings.finding_type IN ('area_for_improvement', 'serious_weakness')"
                "      OR findings.impact_on_child = 'negative')"):
            strands.setdefault(case_ref, set()).add(strand_id)
            agencies.setdefault(case_ref, set()).update({agency_id} - {None})
    expected = {case for case in strands if len(strands[case]) >= 2 or len(agencies[case]) >= 2}
    rows = await ask(ds, "cases_with_concerns_across_agencies")
    assert {row["case_ref"] for row in rows} == expected
    assert all(row["strands"] == len(strands[row["case_ref"]]) for row in rows)
    assert len(expected) < len(strands)  # some cases with concerns from one source only are left out


async def test_2_merged_chronology_of_c017(ds):
    rows = await ask(ds, "case_chronology", case_ref="C-017")
    assert 55 <= len(rows) <= 70  # "about 62 contacts"
    assert len({row["agency"] for row in rows}) == 8
    assert sum(row["missed_opportunity"] for row in rows) == 12
    assert sum(row["good_practice"] for row in rows) == 8
    assert sum(row["date_precision"] != "day" for row in rows) == 3
    dates = [row["event_date"] for row in rows]
    assert dates == sorted(dates)  # the out-of-order entry sits at its date, not at the end
    assert max(rows, key=lambda row: row["event_id"])["event_date"] < dates[-1]
    assert rows[0]["gap_days"] is None and all(row["gap_days"] >= 0 for row in rows[1:])


async def test_2_gap_parameter_marks_long_gaps(ds):
    rows = await ask(ds, "case_chronology", case_ref="C-017", gap_days="7")
    assert any(row["long_gap"] for row in rows)
    assert all(bool(row["long_gap"]) == (row["gap_days"] is not None and row["gap_days"] > 7) for row in rows)
    assert await ask(ds, "case_chronology", case_ref="C-999") == []


async def test_2_inspectors_read_chronologies_too(ds):
    assert len(await ask(ds, "case_chronology", role="police_inspector", case_ref="C-017")) >= 55


async def test_3_contacts_and_unshared(ds, demo_store):
    rows = await ask(ds, "contacts_without_information_shared")
    c017 = next(row for row in rows if row["case_ref"] == "C-017")
    assert c017["agencies"] == 8 and 0 < c017["unshared"] <= c017["contacts"]
    # Checked against the chronology itself: every contact, and the unshared ones listed one by one.
    from inspect_kit.schema import CONTACT_EVENT_TYPES

    contacts = scalar(demo_store, "SELECT count(*) FROM chronology_events JOIN cases ON cases.id = case_id"
                                  f" WHERE case_ref = 'C-017' AND event_type IN ({', '.join('?' * len(CONTACT_EVENT_TYPES))})",
                      list(CONTACT_EVENT_TYPES))
    assert c017["contacts"] == contacts
    assert len(c017["unshared_contacts"].split("; ")) == c017["unshared"]
    narrow = await ask(ds, "contacts_without_information_shared", period_from="2026-11-01", period_to="2026-11-30")
    assert sum(row["contacts"] for row in narrow) < sum(row["contacts"] for row in rows)


async def test_4_strategy_discussion_without_health(ds):
    rows = await ask(ds, "strategy_discussions_missing_partners")
    c017 = [row for row in rows if row["case_ref"] == "C-017" and row["event_type"] == "strategy_discussion"]
    assert c017 and c017[0]["missing"] == "health" and c017[0]["police"] == 1
    # The later strategy discussion with police, health and social care is not listed.
    assert all("named doctor" not in row["description"] for row in rows)


async def test_5_cp_children_not_seen(ds):
    rows = await ask(ds, "cp_children_not_seen", gap_days="14")
    assert rows and all(row["times_seen_alone"] == 0 or row["longest_gap_days"] > 14
                        or row["days_since_seen"] > 14 for row in rows)
    assert "C-017" in {row["case_ref"] for row in rows}  # an infant never seen alone


@pytest.mark.parametrize("gap_days", [14, 200])
async def test_5_lists_exactly_the_children_an_independent_count_finds(ds, demo_store, gap_days):
    """The same rule worked out in Python from the chronology: the query lists
    those children and no others. On the demo every child on a plan is listed
    at 14 days; at 200 days those seen alone and often enough drop out."""
    import datetime as dt

    from inspect_kit.schema import CHILD_SEEN_EVENT_TYPES

    with contextlib.closing(demo_store.evidence()) as db:
        review_id, start = db.execute("SELECT id, fieldwork_start FROM reviews ORDER BY id DESC LIMIT 1").fetchone()
        cp_cases = dict(db.execute("SELECT id, case_ref FROM cases WHERE review_id = ? AND legal_status = 'cp_plan'",
                                   [review_id]).fetchall())
        seen: dict[int, list[tuple[str, str]]] = {case_id: [] for case_id in cp_cases}
        for case_id, day, event_type in db.execute("SELECT case_id, event_date, event_type FROM chronology_events"):
            if case_id in seen and event_type in CHILD_SEEN_EVENT_TYPES:
                seen[case_id].append((day, event_type))
    expected = set()
    as_of = dt.date.fromisoformat(start)
    for case_id, events in seen.items():
        days = sorted(dt.date.fromisoformat(day) for day, _ in events)
        alone = sum(event_type == "child_seen_alone" for _, event_type in events)
        gaps = [(later - earlier).days for earlier, later in zip(days, days[1:], strict=False)]
        if not days or alone == 0 or (gaps and max(gaps) > gap_days) or (as_of - days[-1]).days > gap_days:
            expected.add(cp_cases[case_id])
    rows = await ask(ds, "cp_children_not_seen", gap_days=str(gap_days))
    assert {row["case_ref"] for row in rows} == expected
    if gap_days == 200:
        assert "C-018" not in expected and "C-017" in expected  # seen alone once, gaps under 200 days


async def test_6_coverage_matrix_gaps(ds):
    rows = await ask(ds, "coverage_matrix")
    cells = {row["criterion"]: row for row in rows}
    assert cells["3.3"]["police"] == 0 and cells["3.3"]["empty_cells"] == "police"
    assert cells["3.1"]["health"] == 0 and cells["3.1"]["empty_cells"] == "health"
    others = [row for code, row in cells.items() if code not in ("3.1", "3.3")]
    assert all(row["empty_cells"] is None for row in others)
    assert list(cells) == ["1", "2.1", "2.2", "2.3", "3.1", "3.2", "3.3"]


async def test_7_qa_queue(ds, demo_store):
    rows = await ask(ds, "qa_queue_by_inspector")
    waiting = scalar(demo_store, "SELECT count(*) FROM findings WHERE qa_status IN ('submitted', 'returned')")
    assert sum(row["findings"] for row in rows) == waiting > 0
    assert {row["qa_status"] for row in rows} == {"submitted", "returned"}


async def test_8_balance_check(ds, demo_store):
    rows = await ask(ds, "strengths_vs_improvements")
    by_agency = [row for row in rows if row["by"] == "agency"]
    strengths = scalar(demo_store, "SELECT count(*) FROM findings WHERE finding_type = 'strength'"
                                   " AND qa_status != 'withdrawn'")
    assert sum(row["strengths"] for row in by_agency) == strengths
    assert {row["by"] for row in rows} == {"agency", "criterion"}
    police = await ask(ds, "strengths_vs_improvements", strand="police")
    assert sum(row["strengths"] for row in police if row["by"] == "agency") < strengths


async def test_9_grade_against_the_evidence(ds):
    rows = await ask(ds, "grades_against_evidence")
    flagged = [row for row in rows if row["criterion"] == "2.3" and row["scope"] == "partnership"]
    assert flagged and flagged[0]["proposed_grade"] == 3
    assert flagged[0]["reason"] == "good or better on mostly negative evidence"


async def test_10_open_alerts(ds):
    rows = await ask(ds, "open_safeguarding_alerts")
    assert len(rows) == 2  # the closed one is not listed
    urgent = rows[0]
    assert urgent["urgency"] == "urgent" and urgent["status"] == "raised" and urgent["referral_overdue"] == 1
    assert rows[1]["status"] == "referred"


async def test_11_contested_ed_visit(ds, demo_store):
    rows = await ask(ds, "contested_events")
    assert len(rows) == 1
    (pair,) = rows
    assert pair["case_ref"] == "C-017" and pair["event"] == "Emergency department attendance"
    assert {pair["first_agency"], pair["second_agency"]} == {
        "Ashbridge Hospitals emergency department", "Community health visiting"}
    with contextlib.closing(demo_store.evidence()) as db:
        assert demo.contested_pairs(db, 1) == [(pair["first_event_id"], pair["second_event_id"])]


async def test_12_injuries_without_referral(ds):
    rows = await ask(ds, "injuries_without_referral")
    c017 = [row for row in rows if row["case_ref"] == "C-017"]
    assert any("small bruise" in row["description"] and row["agency"] == "Canal Street Surgery" for row in c017)
    # The locum's missed fractures were followed two days later by the critical
    # incident's strategy discussion; narrowing the window shows them.
    narrow = await ask(ds, "injuries_without_referral", within_days="1")
    assert any("locum" in row["description"] for row in narrow if row["case_ref"] == "C-017")


async def test_13_identifier_check(ds, demo_store):
    rows = await ask(ds, "identifier_check")
    assert len(rows) == 2
    assert all(demo.IDENTIFIER_RE.search(row["evidence_text"]) for row in rows)
    planted = scalar(demo_store, "SELECT count(*) FROM findings WHERE evidence_text GLOB ?", [demo.IDENTIFIER_GLOB])
    assert planted == 2


async def test_inspector_strand_query_on_the_demo(ds, demo_store):
    rows = await ask(ds, "my_strand_findings", role="health_inspector")
    health = scalar(demo_store, "SELECT count(*) FROM findings JOIN strands ON strands.id = findings.strand_id"
                                " WHERE strands.code = 'health'")
    assert len(rows) == min(health, 1000)
    assert all(row["public_id"].startswith("EF-HLT-") for row in rows)
