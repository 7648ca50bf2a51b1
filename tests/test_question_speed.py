"""The lead's slow questions, rewritten to be fast at 1,000,000 findings, give the answers they gave before.

``tests/questions_before.py`` holds each question's SQL as it was; here both run
on the demo review and on a randomised store (the bench's generator, then
random writes: events added near others, moved, retyped and deleted, findings
withdrawn, edited and deleted, QA actions, criteria links changed, an agency
renamed), with default and other parameters. Rows must be the same, in the same
order wherever the ORDER BY decides it (rows tied on every ORDER BY term may come
in either order, in SQL as in SQLite). After the writes the tables kept by
triggers also equal a rebuild from scratch.
"""

from __future__ import annotations

import contextlib
import importlib.util
import random
import re
import sys
import uuid
from pathlib import Path

import pytest

from inspect_kit import schema
from inspect_kit.datasette_plugin import questions
from inspect_kit.store import Store, write_transaction

from .conftest import copy_store
from .questions_before import BEFORE

PARAMETERS = {
    "cases_with_concerns_across_agencies": [{}],
    "contacts_without_information_shared": [
        {}, {"within_days": "7"}, {"within_days": "3"}, {"within_days": "30"},
        {"period_from": "2025-06-01", "period_to": "2025-09-30"}, {"period_from": "2025-06-01"}],
    "strategy_discussions_missing_partners": [{}],
    "cp_children_not_seen": [{}, {"gap_days": "30"}, {"as_of": "2026-03-01", "gap_days": "60"}],
    "qa_queue_by_inspector": [{"as_of": "2026-11-28"}, {"as_of": "2026-02-01", "stale_days": "10"},
                              {"as_of": "2026-01-20 12:00"}],
    "strengths_vs_improvements": [{}, {"strand": "health"}, {"strand": "police"}, {"strand": "nosuch"}],
    "contested_events": [{}, {"window_days": "0"}, {"window_days": "5"}, {"window_days": "-1"},
                         {"window_days": "junk"}, {"window_days": "99999999"}],
    "injuries_without_referral": [{}, {"within_days": "0"}, {"within_days": "30"}],
}
ROWS_SEEN: dict[str, int] = {}
AGGREGATES = ("case_seen", "meeting_partners", "contested_candidates", "case_contacts", "case_concerns", "qa_waiting",
              "balance_by_agency WHERE findings != 0", "balance_by_criterion WHERE findings != 0")


def _order_terms(sql: str) -> list[str]:
    """The final ORDER BY's terms: output column names or positions (1-based) of the question."""
    clause = sql[sql.rindex("ORDER BY") + len("ORDER BY"):]
    return [term.strip() for term in clause.split(",")]


def _sort_key(names: list[str], sql: str):
    positions = []
    for term in _order_terms(sql):
        column = re.sub(r"\s+(DESC|ASC)$", "", term).split(".")[-1]
        if column.isdigit():
            positions.append(int(column) - 1)
        elif column in names:
            positions.append(names.index(column))
        else:  # a column of the FROM not in the output (first.event_date): compare as a set
            return None
    return lambda row: tuple(row[position] for position in positions)


def run(db, sql: str, params: dict) -> tuple[list[str], list[tuple]]:
    """Rows of ``sql``; the review is the latest, as the former SQL chose it and as Datasette binds
    ``:_ik_review`` for an account that has chosen no other."""
    names = set(re.findall(r":(\w+)", sql))
    review_id, slug = db.execute("SELECT id, slug FROM reviews ORDER BY id DESC LIMIT 1").fetchone()
    params = {"_ik_review": slug, "_ik_review_id": review_id, **params}
    cursor = db.execute(sql, {name: params.get(name, "") for name in names})
    return [column[0] for column in cursor.description], [tuple(row) for row in cursor.fetchall()]


def assert_same_answers(db, label: str) -> int:
    """Every slow question, before and after, with each parameter set: same rows; returns rows compared."""
    compared = 0
    for name, before in BEFORE.items():
        after = questions.question(name).sql
        for params in PARAMETERS[name]:
            old_columns, old_rows = run(db, before, params)
            new_columns, new_rows = run(db, after, params)
            assert new_columns == old_columns, (label, name)
            assert sorted(new_rows, key=repr) == sorted(old_rows, key=repr), (label, name, params)
            key = _sort_key(old_columns, before)
            if key is not None:
                assert [key(row) for row in new_rows] == [key(row) for row in old_rows], (label, name, params)
            compared += len(old_rows)
            ROWS_SEEN[name] = ROWS_SEEN.get(name, 0) + len(old_rows)
    return compared


def assert_aggregates_true(db) -> None:
    kept = {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall()) for table in AGGREGATES}
    db.execute("SAVEPOINT rebuild")
    schema.rebuild_question_aggregates(db)
    fresh = {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall()) for table in AGGREGATES}
    db.execute("ROLLBACK TO rebuild")
    db.execute("RELEASE rebuild")
    for table in AGGREGATES:
        assert kept[table] == fresh[table], table


def test_the_demo_review_gets_the_same_answers(demo_template, tmp_path):
    store = copy_store(demo_template(), tmp_path)
    with contextlib.closing(store.evidence()) as db:
        assert assert_same_answers(db, "demo") > 50
        assert_aggregates_true(db)


def _bench_builder():
    path = Path(__file__).resolve().parent.parent / "bench" / "datasette.py"
    spec = importlib.util.spec_from_file_location("bench_datasette_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    saved = sys.path[:]
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module.build_store


WORDS = ["bruising on the arm", "no injury seen", "without police", "health not invited", "social worker present",
         "police attended", "paediatrician examined", "fracture", "burn", "mark on the leg", "seen at home",
         "information shared with the school", "doctor", "nurse", "MASH"]


def _scramble(db, rng: random.Random) -> None:
    """Random writes of every kind the triggers must follow, in small steps."""
    review_id = db.execute("SELECT id FROM reviews").fetchone()[0]
    cases = [row[0] for row in db.execute("SELECT id FROM cases")]
    agencies = [row[0] for row in db.execute("SELECT id FROM agencies")]
    event_types = ["referral", "ed_attendance", "gp_appointment", "home_visit", "child_seen_alone",
                   "strategy_discussion", "s47_enquiry", "information_shared", "health_visit", "medical_examination"]

    def add_event(case_id: int, date: str) -> None:
        db.execute(
            "INSERT INTO chronology_events (client_uuid, content_hash, review_id, case_id, agency_id, event_date,"
            " event_type, description, created_at) VALUES (?, 'x', ?, ?, ?, ?, ?, ?, '2026-01-10T12:00:00+00:00')",
            [str(uuid.UUID(int=rng.getrandbits(128))), review_id, case_id, rng.choice(agencies), date,
             rng.choice(event_types), " ".join(rng.sample(WORDS, 3)).capitalize() + "."])

    # Clusters: several agencies' events for one child within days of each other.
    for case_id in rng.sample(cases, 60):
        day = rng.randrange(1, 28)
        for _ in range(rng.randint(2, 6)):
            add_event(case_id, f"2025-06-{min(28, day + rng.randrange(0, 4)):02d}")
        db.execute("UPDATE cases SET legal_status = 'cp_plan' WHERE id = ?", [case_id])
    events = [row[0] for row in db.execute("SELECT id FROM chronology_events ORDER BY random() LIMIT 80")]
    for event_id in events[:20]:
        db.execute("UPDATE chronology_events SET event_date = '2025-06-15' WHERE id = ?", [event_id])
    for event_id in events[20:35]:
        db.execute("UPDATE chronology_events SET event_type = 'information_shared' WHERE id = ?", [event_id])
    for event_id in events[35:45]:
        db.execute("UPDATE chronology_events SET agency_id = ?, case_id = ? WHERE id = ?",
                   [rng.choice(agencies), rng.choice(cases), event_id])
    for event_id in events[45:60]:
        db.execute("DELETE FROM chronology_events WHERE id = ?", [event_id])
    db.execute("UPDATE agencies SET name = name || ' (renamed)' WHERE id = ?", [rng.choice(agencies)])

    found = [row[0] for row in db.execute("SELECT id FROM findings ORDER BY random() LIMIT 120")]
    for finding_id in found[:25]:
        db.execute("UPDATE findings SET qa_status = 'withdrawn' WHERE id = ?", [finding_id])
    for finding_id in found[25:40]:
        db.execute("UPDATE findings SET qa_status = 'submitted', finding_type = 'serious_weakness',"
                   " impact_on_child = 'negative', case_id = ? WHERE id = ?", [rng.choice(cases), finding_id])
    for finding_id in found[40:55]:
        db.execute("UPDATE findings SET agency_id = NULL, qa_status = 'returned' WHERE id = ?", [finding_id])
    for finding_id in found[55:75]:
        action = rng.choice(["submit", "accept"])
        db.execute("INSERT INTO qa_actions (finding_id, action, from_status, to_status, actor, at)"
                   " VALUES (?, ?, 'draft', 'submitted', 'lead', ?)",
                   [finding_id, action, f"2026-01-{rng.randrange(1, 28):02d}T09:00:00+00:00"])
    for (action_id,) in db.execute("SELECT id FROM qa_actions ORDER BY random() LIMIT 5").fetchall():
        db.execute("UPDATE qa_actions SET at = '2026-01-02T08:00:00+00:00' WHERE id = ?", [action_id])
    for (action_id,) in db.execute("SELECT id FROM qa_actions ORDER BY random() LIMIT 3").fetchall():
        db.execute("DELETE FROM qa_actions WHERE id = ?", [action_id])
    criteria = [row[0] for row in db.execute("SELECT id FROM criteria")]
    for finding_id in found[75:90]:
        db.execute("DELETE FROM finding_criteria WHERE finding_id = ?", [finding_id])
        db.execute("INSERT INTO finding_criteria (finding_id, criterion_id) VALUES (?, ?)",
                   [finding_id, rng.choice(criteria)])
    for finding_id in found[90:100]:
        db.execute("UPDATE OR IGNORE finding_criteria SET criterion_id = ? WHERE finding_id = ? AND criterion_id ="
                   " (SELECT min(criterion_id) FROM finding_criteria WHERE finding_id = ?)",
                   [rng.choice(criteria), finding_id, finding_id])
    for finding_id in found[100:120]:
        for table in ("qa_actions", "finding_versions", "attachments"):
            db.execute(f"DELETE FROM {table} WHERE finding_id = ?", [finding_id])
        db.execute("DELETE FROM findings WHERE id = ?", [finding_id])


@pytest.fixture(scope="module")
def random_store(tmp_path_factory) -> Store:
    home = tmp_path_factory.mktemp("random-review") / "evidence"
    _bench_builder()(home, 1_200, seed=5)
    return Store(home)


def test_a_randomised_store_gets_the_same_answers_before_and_after_random_writes(random_store):
    with contextlib.closing(random_store.evidence()) as db:
        assert_aggregates_true(db)
        assert assert_same_answers(db, "as built") > 500
        rng = random.Random(11)
        for step in range(3):
            with write_transaction(db):
                _scramble(db, rng)
            assert_aggregates_true(db)
            assert assert_same_answers(db, f"after writes {step}") > 500
        assert db.execute("SELECT count(*) FROM contested_candidates WHERE days <= 1").fetchone()[0] > 10
        # Every question had rows to compare, each tested rule more than a few times.
        assert all(ROWS_SEEN[name] >= 5 for name in BEFORE), ROWS_SEEN
