"""The generated catalogue: built from the schema and the review, tested as data."""

from __future__ import annotations

import json

import pytest

from inspect_kit import vocab
from inspect_kit.datasette_plugin import catalogue, questions
from inspect_kit.store import memory_db


@pytest.fixture
def evidence_metadata(store, datasette_review):
    db = store.evidence()
    try:
        yield catalogue.evidence_database_metadata(db)
    finally:
        db.close()


def test_every_table_and_view_has_a_rule(store, evidence_metadata):
    db = store.evidence()
    names = set(db.table_names()) | set(db.view_names())
    db.close()
    assert names == set(evidence_metadata["tables"])
    for name, entry in evidence_metadata["tables"].items():
        # "sql_role": tables without a rule of their own, for those whose SQL may read the whole store.
        ((key, roles),) = entry["allow"].items()
        assert key in {"role", "sql_role"} and roles, name
        assert set(roles) <= {"inspector", "lead", "moderator", "admin"}, name


EVERY_ROLE = {"role": ["inspector", "lead", "moderator", "admin"]}
READERS = {"role": ["inspector", "lead", "moderator"]}
LEADS_AND_MODERATORS = {"role": ["lead", "moderator"]}
STORE_WIDE_SQL = {"sql_role": ["lead", "moderator"]}


@pytest.mark.parametrize(
    "table, rule",
    [
        ("cases", EVERY_ROLE),
        ("strands", EVERY_ROLE),
        ("chronology_events", READERS),
        ("chronology_events_fts", READERS),
        ("case_chronologies", READERS),
        ("safeguarding_alerts", READERS),
        ("findings", LEADS_AND_MODERATORS),
        ("findings_fts", LEADS_AND_MODERATORS),
        ("findings_fts_data", LEADS_AND_MODERATORS),
        ("findings_readable", LEADS_AND_MODERATORS),
        ("judgements", LEADS_AND_MODERATORS),
        ("audit_log", LEADS_AND_MODERATORS),
        ("a_table_added_later", STORE_WIDE_SQL),
    ],
)
def test_table_rules_fail_closed(table, rule):
    """The decided access table, as Datasette allow blocks generated from inspect_kit.policy."""
    assert catalogue.table_allow(table) == rule


def test_sql_only_for_leads_and_moderators(evidence_metadata):
    whole = catalogue.build_metadata({"evidence": evidence_metadata})
    assert whole["allow"] == EVERY_ROLE
    assert whole["allow_sql"] == STORE_WIDE_SQL
    assert evidence_metadata["allow_sql"] == STORE_WIDE_SQL


def test_label_columns_for_every_foreign_key(store, evidence_metadata):
    db = store.evidence()
    for table in db.tables:
        for fk in table.foreign_keys:
            assert evidence_metadata["tables"][fk.other_table].get("label_column"), (table.name, fk.other_table)


def test_column_descriptions_come_from_the_vocabulary(evidence_metadata):
    columns = evidence_metadata["tables"]["findings"]["columns"]
    for code, label in vocab.FINDING_TYPES.items():
        assert f"{code} = {label}" in columns["finding_type"]
    assert "Exact day" in evidence_metadata["tables"]["chronology_events"]["columns"]["date_precision"]
    assert "Raised" in evidence_metadata["tables"]["safeguarding_alerts"]["columns"]["status"]
    assert "Fieldwork" in evidence_metadata["tables"]["reviews"]["columns"]["status"]


def test_titles_facets_sorts_and_search(evidence_metadata):
    findings = evidence_metadata["tables"]["findings"]
    assert findings["title"] and findings["description"]
    assert findings["facets"] == ["strand_id", "finding_type", "qa_status"]
    assert findings["sort_desc"] == "collected_on"
    assert findings["fts_table"] == "findings_fts"
    assert evidence_metadata["tables"]["chronology_events"]["fts_table"] == "chronology_events_fts"
    assert evidence_metadata["tables"]["_sqlite_migrations"]["hidden"] is True
    for view in ("findings_readable", "case_chronologies", "criterion_strand_coverage"):
        assert evidence_metadata["tables"][view]["title"]


def test_database_described_from_the_review(store, evidence_metadata):
    # One catalogue for every reader: the chosen review's title and description are on each page instead.
    assert evidence_metadata["title"] == "Evidence"
    assert "chose in the intake app" in evidence_metadata["description"]
    described = catalogue.review_description(store.evidence(), 1)
    assert "Fieldwork 2026-01-05 to 2026-01-16" in described and "Draft report due 2026-01-22" in described


def test_empty_store_still_catalogued():
    db = memory_db()
    metadata = catalogue.evidence_database_metadata(db)
    assert "No review yet" in metadata["description"]
    assert metadata["tables"]["findings"]["allow"] == LEADS_AND_MODERATORS
    db.close()


def test_all_thirteen_questions_with_title_description_allow(evidence_metadata):
    queries = evidence_metadata["queries"]
    numbered = [q for q in questions.questions() if q.number]
    assert sorted(q.number for q in numbered) == list(range(1, 14))
    for question in questions.questions():
        entry = queries[question.name]
        assert entry["title"] and len(entry["description"]) > 80
        assert entry["allow"]["role"], question.name
        assert "anonymous" not in json.dumps(entry["allow"])
        assert set(entry.get("params", [])) == set(question.params)
    assert queries["case_chronology"]["params"] == ["case_ref", "gap_days"]
    assert queries["contacts_without_information_shared"]["params"] == ["period_from", "period_to", "within_days"]
    assert queries["my_strand_findings"]["allow"] == {"role": ["inspector"]}
    assert queries["audit_outline"]["allow"] == {"role": ["lead", "moderator", "admin"]}
    assert "before" not in queries["audit_outline"]["sql"] and "detail" not in queries["audit_outline"]["sql"]
    assert ":_actor_strand" in queries["my_strand_findings"]["sql"]


def test_coverage_matrix_has_a_column_per_review_strand(store, evidence_metadata):
    sql = evidence_metadata["queries"]["coverage_matrix"]["sql"]
    assert '"police"' in sql and '"health"' in sql and '"ofsted"' not in sql


def test_every_question_runs_on_an_empty_store():
    db = memory_db()
    for question in questions.questions():
        bound = question.bind(_actor_strand="police", _ik_review="testshire", _ik_review_id=1)
        assert list(db.query(question.sql, bound)) == [], question.name
    db.close()


def test_private_and_evidence_stores_told_apart(store):
    from inspect_kit.store import connect

    evidence, private = connect(store.evidence_path), connect(store.private_path)
    try:
        assert catalogue.is_evidence_store(evidence) and not catalogue.is_private_store(evidence)
        assert catalogue.is_private_store(private) and not catalogue.is_evidence_store(private)
    finally:
        evidence.close()
        private.close()
