"""The Ashbridge demo review (docs/architecture.md §7): counts, planted traps, determinism, speed.

The demo is built once per module (it takes a couple of seconds) on a real
file store, with a fixed start so every run sees the same data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from collections import Counter

import pytest

from inspect_kit import accounts, alerts
from inspect_kit.demo import (
    CONTESTED_MAX_DAYS,
    DEMO_PASSWORD,
    IDENTIFIER_GLOB,
    IDENTIFIER_RE,
    create_demo,
    default_start,
)
from inspect_kit.demo.data import PRACTITIONER_ROLES
from inspect_kit.errors import Conflict, ValidationError
from inspect_kit.maintenance import check_store
from inspect_kit.store import Store

START = dt.date(2008, 11, 10)
DAY_6 = START + dt.timedelta(days=5)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(store, result, seconds) for one demo built from ``START``."""
    store = Store(tmp_path_factory.mktemp("demo") / "evidence")
    began = time.perf_counter()
    result = create_demo(store, start=START)
    return store, result, time.perf_counter() - began


@pytest.fixture(scope="module")
def db(demo):
    store, _, _ = demo
    with contextlib.closing(store.evidence()) as connection:
        yield connection


def scalar(db, sql, *params):
    return db.execute(sql, params).fetchone()[0]


def test_counts_match_the_design(demo, db):
    _, result, _ = demo
    by_strand = dict(db.execute(
        "SELECT strands.code, count(*) FROM findings JOIN strands ON strands.id = findings.strand_id GROUP BY 1"))
    assert by_strand == {"ofsted": 360, "health": 190, "police": 170}
    total = sum(by_strand.values())
    linked = scalar(db, "SELECT count(*) FROM findings WHERE case_id IS NOT NULL")
    assert linked / total == pytest.approx(0.70, abs=0.01)
    shares = {kind: count / total
              for kind, count in db.execute("SELECT finding_type, count(*) FROM findings GROUP BY 1")}
    assert shares == pytest.approx(
        {"strength": 0.35, "area_for_improvement": 0.45, "serious_weakness": 0.08, "context": 0.12}, abs=0.01)
    assert 1045 <= scalar(db, "SELECT count(*) FROM chronology_events") <= 1155
    assert scalar(db, "SELECT count(*) FROM safeguarding_alerts") == 3
    assert result.counts["findings"] == total
    assert result.counts["chronology_events"] == scalar(db, "SELECT count(*) FROM chronology_events")
    assert result.counts["accounts"] == 10
    assert result.counts["case_identity_keys"] == 180


def test_review_is_in_fieldwork(demo):
    _, result, _ = demo
    review = result.review
    assert review["slug"] == "ashbridge-sjar"
    assert review["review_type"] == "special_jar" and review["framework"] == "sjar-2008"
    assert review["status"] == "fieldwork"
    assert review["fieldwork_start"] == "2008-11-10"
    assert review["fieldwork_end"] == "2008-11-21"  # day 12
    assert review["draft_due"] == "2008-11-27"  # day 18
    assert review["retention_review_on"] > review["draft_due"]


def test_agencies_and_inspectors(db):
    organisations = Counter(org for (org,) in db.execute("SELECT organisation FROM agencies"))
    assert organisations["Ashbridge GP practices"] == 6
    assert organisations["Ashbridge schools"] == 4
    assert organisations["Ashbridge early years"] == 2
    assert scalar(db, "SELECT count(*) FROM agencies") == 27
    inspectors = {code: (strand, role) for code, strand, role in db.execute(
        "SELECT inspectors.code, strands.code, role FROM inspectors JOIN strands ON strands.id = strand_id")}
    assert inspectors["OFS-01"] == ("ofsted", "lead")
    assert inspectors["MOD-01"] == ("ofsted", "moderator")
    assert Counter(strand for strand, role in inspectors.values() if role != "moderator") == {
        "ofsted": 4, "health": 2, "police": 2}


def test_case_sample_and_identity_keys(demo, db):
    store, _, _ = demo
    routes = dict(db.execute("SELECT selection_route, count(*) FROM cases GROUP BY 1"))
    assert routes == {"listed": 139, "sampled": 32, "tracked": 8, "index": 1}
    index = db.execute("SELECT case_ref, age_band, legal_status FROM cases WHERE selection_route = 'index'").fetchone()
    assert index == ("C-017", "under_1", "cp_plan")
    assert scalar(db, "SELECT count(*) FROM findings JOIN cases ON cases.id = case_id"
                      " WHERE selection_route = 'listed'") == 0
    with contextlib.closing(store.private()) as private:
        keys = [key for (key,) in private.execute("SELECT local_identifier FROM case_identity_keys")]
    assert len(keys) == len(set(keys)) == 180
    assert all(re.fullmatch(r"DEMO-\d{6}", key) for key in keys)


def test_accounts_log_in_with_the_demo_password(demo, db):
    store, result, _ = demo
    assert {account["username"] for account in result.accounts} == {
        "admin", "lead", "moderator", "ofsted2", "ofsted3", "ofsted4", "health1", "health2", "police1", "police2"}
    with contextlib.closing(store.private()) as private:
        account = accounts.authenticate(private, "police2", DEMO_PASSWORD)
    actor = accounts.actor_for(account, db)
    assert (actor.role, actor.strand) == ("inspector", "police")
    assert actor.inspector_id == scalar(db, "SELECT id FROM inspectors WHERE code = 'POL-02'")


def test_index_case_chronology(db):
    events, agencies, missed, good = db.execute(
        "SELECT count(*), count(DISTINCT agency_id), sum(missed_opportunity), sum(good_practice)"
        " FROM chronology_events JOIN cases ON cases.id = case_id WHERE case_ref = 'C-017'").fetchone()
    assert 60 <= events <= 64
    assert agencies == 8
    assert (missed, good) == (12, 8)
    first, last = db.execute("SELECT min(event_date), max(event_date) FROM chronology_events"
                             " JOIN cases ON cases.id = case_id WHERE case_ref = 'C-017'").fetchone()
    months = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days / 30.4
    assert 8 <= months <= 9
    assert last < START.isoformat()


def test_coverage_matrix_has_exactly_the_two_deliberate_gaps(db):
    cells = {(strand, criterion) for strand, criterion in db.execute(
        """SELECT DISTINCT strands.code, criteria.code FROM finding_criteria
           JOIN findings ON findings.id = finding_id JOIN strands ON strands.id = findings.strand_id
           JOIN criteria ON criteria.id = criterion_id""")}
    criteria = [code for (code,) in db.execute("SELECT code FROM criteria")]
    empty = {(strand, code) for strand in ("ofsted", "health", "police") for code in criteria} - cells
    assert empty == {("police", "3.3"), ("health", "3.1")}


def test_exactly_two_findings_carry_the_fake_identifier(db):
    by_glob = [public_id for (public_id,) in db.execute(
        "SELECT public_id FROM findings WHERE evidence_text GLOB ? OR evaluation_text GLOB ?",
        [IDENTIFIER_GLOB, IDENTIFIER_GLOB])]
    assert len(by_glob) == 2
    by_regex = [public_id for public_id, evidence, evaluation in db.execute(
        "SELECT public_id, evidence_text, evaluation_text FROM findings")
        if IDENTIFIER_RE.search(f"{evidence}\n{evaluation or ''}")]
    assert sorted(by_regex) == sorted(by_glob)
    descriptions = [text for (text,) in db.execute("SELECT description FROM chronology_events")]
    assert not [text for text in descriptions if IDENTIFIER_RE.search(text)]


def test_exactly_one_contested_pair(db):
    pairs = db.execute(
        """SELECT cases.case_ref, a.event_type, agency_a.agency_type, agency_b.agency_type
           FROM chronology_events a JOIN chronology_events b
             ON a.case_id = b.case_id AND a.event_type = b.event_type AND a.agency_id != b.agency_id AND a.id < b.id
            AND abs(julianday(a.event_date) - julianday(b.event_date)) <= ?
           JOIN cases ON cases.id = a.case_id
           JOIN agencies agency_a ON agency_a.id = a.agency_id JOIN agencies agency_b ON agency_b.id = b.agency_id""",
        [CONTESTED_MAX_DAYS]).fetchall()
    assert len(pairs) == 1
    case_ref, event_type, *agency_types = pairs[0]
    assert (case_ref, event_type) == ("C-017", "ed_attendance")
    assert "emergency_department" in agency_types


def test_data_quality_traps(db):
    assert scalar(db, "SELECT count(*) FROM chronology_events WHERE date_precision != 'day'") == 3
    # The out-of-order entry: recorded last of all, dated before earlier-recorded events of its case.
    last_id, case_id, event_date = db.execute(
        "SELECT id, case_id, event_date FROM chronology_events ORDER BY id DESC LIMIT 1").fetchone()
    assert scalar(db, "SELECT case_ref FROM cases WHERE id = ?", case_id) == "C-017"
    assert scalar(db, "SELECT count(*) FROM chronology_events WHERE case_id = ? AND id < ? AND event_date > ?",
                  case_id, last_id, event_date) > 30


def test_practitioners_are_roles_not_names(db):
    roles = {role for (role,) in db.execute("SELECT DISTINCT practitioner_role FROM chronology_events")}
    assert roles <= PRACTITIONER_ROLES
    assert all(role == role.lower() or role.split()[0] in ("GP", "MASH", "CAIT") for role in PRACTITIONER_ROLES)


def test_qa_went_through_the_library(db):
    statuses = dict(db.execute("SELECT qa_status, count(*) FROM findings GROUP BY 1"))
    assert statuses["withdrawn"] == 2
    assert statuses["accepted"] + statuses["submitted"] > 0.75 * 720
    assert statuses["draft"] > 0 and statuses["returned"] > 0
    # Every finding that left draft has a submit action; every return and withdrawal a comment.
    assert scalar(db, "SELECT count(*) FROM findings WHERE qa_status != 'draft' AND id NOT IN"
                      " (SELECT finding_id FROM qa_actions WHERE action = 'submit')") == 0
    assert scalar(db, "SELECT count(*) FROM qa_actions WHERE action IN ('return', 'withdraw')"
                      " AND trim(coalesce(comment, '')) = ''") == 0
    assert scalar(db, "SELECT count(*) FROM findings WHERE version > 1") > 0
    assert scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'finding.create'") == 720
    assert scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'chronology_event.create'") == scalar(
        db, "SELECT count(*) FROM chronology_events")


def test_cases_with_areas_for_improvement_from_several_strands(db):
    cases = [case_ref for (case_ref,) in db.execute(
        """SELECT cases.case_ref FROM findings JOIN cases ON cases.id = case_id
           WHERE finding_type IN ('area_for_improvement', 'serious_weakness')
           GROUP BY cases.id HAVING count(DISTINCT strand_id) >= 2""")]
    assert "C-017" in cases and len(cases) >= 5


def test_a_proposed_grade_disagrees_with_its_evidence(db):
    grade, strengths, weaknesses = db.execute(
        """SELECT judgements.proposed_grade,
                  sum(findings.finding_type = 'strength'),
                  sum(findings.finding_type IN ('area_for_improvement', 'serious_weakness'))
           FROM judgements JOIN criteria ON criteria.id = judgements.criterion_id
           JOIN finding_criteria ON finding_criteria.criterion_id = criteria.id
           JOIN findings ON findings.id = finding_criteria.finding_id
           WHERE judgements.scope = 'partnership' AND criteria.code = '2.3'""").fetchone()
    assert grade == 3
    assert weaknesses > 1.3 * strengths
    assert scalar(db, "SELECT count(DISTINCT criterion_id) FROM judgements WHERE scope = 'partnership'") == 7


def test_alerts(db):
    review_id = scalar(db, "SELECT id FROM reviews")
    open_ = alerts.open_alerts(db, review_id, today=DAY_6)
    assert [(a["urgency"], a["status"], a["overdue"]) for a in open_] == [
        ("urgent", "raised", True), ("routine", "referred", False)]
    assert scalar(db, "SELECT count(*) FROM safeguarding_alerts WHERE status = 'closed'") == 1


def test_store_checks_clean(demo):
    store, _, _ = demo
    assert check_store(store).ok


def test_refuses_a_store_that_has_a_review(demo, db):
    store, _, _ = demo
    before = scalar(db, "SELECT count(*) FROM audit_log")
    with pytest.raises(Conflict):
        create_demo(store, start=START)
    assert scalar(db, "SELECT count(*) FROM audit_log") == before


def test_start_must_leave_six_days_of_evidence(tmp_path):
    assert default_start(dt.date(2026, 3, 6)) == dt.date(2026, 3, 1)
    with pytest.raises(ValidationError):
        create_demo(Store(tmp_path / "store"), start=dt.date.today())


FINDING_COLUMNS = ("public_id, client_uuid, content_hash, strand_id, inspector_id, agency_id, case_id, activity,"
                   " collected_on, evidence_text, evaluation_text, finding_type, impact_on_child, qa_status, version")
EVENT_COLUMNS = ("client_uuid, content_hash, case_id, agency_id, practitioner_role, event_date, date_precision,"
                 " event_type, description, source_of_information, key_event, missed_opportunity, good_practice,"
                 " recorded_by")


def test_same_start_gives_the_same_demo(db, tmp_path):
    store = Store(tmp_path / "again")
    create_demo(store, start=START)
    with contextlib.closing(store.evidence()) as again:
        for sql in (f"SELECT {FINDING_COLUMNS} FROM findings ORDER BY id",
                    f"SELECT {EVENT_COLUMNS} FROM chronology_events ORDER BY id",
                    "SELECT * FROM finding_criteria ORDER BY finding_id, criterion_id",
                    "SELECT * FROM cases ORDER BY id"):
            assert again.execute(sql).fetchall() == db.execute(sql).fetchall()
