"""The Datasette catalogue of an evidence store, generated from its schema and review.

:func:`build_metadata` returns the whole Datasette metadata for the served
databases: titles and descriptions, column descriptions built from
:mod:`inspect_kit.vocab`, label columns for every foreign key, default facets
and sort orders, full-text search, hidden internal tables, the lead's canned
queries (:mod:`inspect_kit.datasette_plugin.questions`) and every access rule as an ``allow``
block (rules live in metadata, not in a permission hook: Datasette 1.0 drops
``permission_allowed``). Every ``allow`` block is generated from
:mod:`inspect_kit.policy` (``DATASETTE_TABLES``, ``roles_with``), so the
catalogue cannot drift from the intake app.

Access fails closed: every table and view gets an explicit ``allow``; one
the policy does not name is readable by those who may write SQL (who can read
it with SQL anyway), and a database that is not an evidence store by them
alone. Anonymous users match no block, so they get 403 everywhere. Metadata is
readable by every logged-in user at ``/-/metadata.json``: nothing here is secret.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from .. import fields, policy, vocab
from . import questions

TITLE = "inspect_kit evidence"
# Every signed-in account (a role of the policy); anonymous visitors match nothing.
ANY_ACCOUNT: dict[str, Any] | bool = policy.datasette_allow(policy.SIGN_IN)
SQL_WRITERS: dict[str, Any] | bool = policy.datasette_allow(policy.WRITE_SQL)
REFERENCE_TABLES = policy.REFERENCE_TABLES
INTERNAL_TABLES = ("_sqlite_migrations",)

TABLES: dict[str, dict[str, Any]] = {
    "reviews": {"title": "Reviews", "description": "The review: area, type, framework, fieldwork dates, status.",
                "label_column": "title"},
    "strands": {"title": "Strands", "description": "The inspectorates taking part (Ofsted, health, police …).",
                "label_column": "name"},
    "review_strands": {"title": "Strands taking part", "description": "The strands taking part in each review."},
    "agencies": {"title": "Agencies", "description": "The services inspected, each with the strand that leads on it.",
                 "label_column": "name", "facets": ["agency_type", "lead_strand_id"]},
    "inspectors": {"title": "Inspectors", "description": "Inspectors by display code and strand (no names).",
                   "label_column": "code", "facets": ["strand_id", "role"]},
    "cases": {"title": "Cases", "description": "The children in the sample, by pseudonymous case reference only.",
              "label_column": "case_ref", "facets": ["legal_status", "selection_route", "age_band"],
              "sort": "case_ref"},
    "judgement_areas": {"title": "Judgement areas", "label_column": "title",
                        "description": "The framework's areas, in report order."},
    "criteria": {"title": "Criteria", "label_column": "code", "sort": "position",
                 "description": "The framework's criteria that findings are coded to."},
    "grades": {"title": "Grading scale", "description": "The review's grades (empty for ungraded frameworks)."},
    "findings": {
        "title": "Findings (evidence records)",
        "description": "Every evidence record of every strand. Facet by strand, type and QA status; search "
                       "the text; open a record's public id to see it in the intake app.",
        "label_column": "public_id",
        "facets": ["strand_id", "finding_type", "qa_status"],
        "sort_desc": "collected_on",
        "fts_table": "findings_fts",
    },
    "finding_criteria": {"title": "Finding ↔ criterion links",
                         "description": "Which criteria each finding evidences, primary or secondary."},
    "finding_events": {"title": "Finding ↔ chronology event links",
                       "description": "Which chronology events each finding cites (events of the finding's case). "
                                      "'Findings and the events they cite' shows them with names."},
    "finding_versions": {"title": "Finding versions", "sort_desc": "id",
                         "description": "A snapshot of every version of every finding; edits after submission "
                                        "carry a reason."},
    "qa_actions": {"title": "QA actions", "sort_desc": "at", "facets": ["action"],
                   "description": "Submissions, returns, acceptances and withdrawals: who, when, why."},
    "chronology_events": {
        "title": "Chronology events",
        "description": "What happened to each child, by which agency and when. For one child's merged "
                       "timeline use the 'Merged chronology of one case' query.",
        "facets": ["agency_id", "event_type"],
        "sort": "event_date",
        "fts_table": "chronology_events_fts",
        "label_column": "description",  # how finding_events names the cited event
    },
    "judgements": {"title": "Judgements", "facets": ["scope"], "label_column": "narrative",
                   "description": "The lead's proposed grade (or strengths and areas for improvement), narrative and "
                                  "the moderator's grade and reason, per criterion and scope. The query 'Judgements "
                                  "and their evidence' lists each with its cited findings. Leads and moderators only."},
    "judgement_versions": {"title": "Judgement versions", "sort_desc": "id", "facets": ["action"],
                           "description": "Every version of every judgement: proposed, revised or moderated, by "
                                          "whom, when and why, with a snapshot including its citations."},
    "judgement_citations": {"title": "Judgement citations", "sort": "position",
                            "description": "The findings each judgement cites, with the finding's version when "
                                           "cited and the quote taken from its text."},
    "safeguarding_alerts": {"title": "Safeguarding alerts", "facets": ["status", "urgency"], "sort_desc": "raised_at",
                            "description": "Children found at risk during fieldwork, and what was done."},
    "attachments": {"title": "Attachments", "description": "Files attached to findings (by sha256)."},
    "audit_log": {"title": "Audit log", "sort_desc": "id", "facets": ["action"],
                  "description": "Every write and export: who, when, before and after."},
    "findings_readable": {
        "title": "Findings with names",
        "description": "Findings with strand, inspector, agency and case by name and their criteria codes, "
                       "instead of ids. Search the text, or narrow by strand, agency, criterion, finding type "
                       "and QA status with the counts beside the list (shown once the list holds 20,000 "
                       "findings or fewer: search or filter first in a bigger store); open a public id to read "
                       "the record in the intake app.",
        "sort_desc": "id",
        # The view has no full-text index of its own: search the findings' index by the view's id
        # (findings.id), so ?_search= finds what it finds on the findings table.
        "fts_table": "findings_fts",
        "fts_pk": "id",
        # Counted only on pages small enough to afford (datasette_plugin/criteria.py).
        "facets": [{"ik_column": "strand"}, {"ik_column": "agency"}, {"criterion": "criteria"},
                   {"ik_column": "finding_type"}, {"ik_column": "qa_status"}],
    },
    "finding_event_links": {
        "title": "Findings and the events they cite",
        "description": "One row per finding and chronology event it cites: the finding's public id, strand, type "
                       "and QA status beside the event's case, date, agency, type and description. Filter by "
                       "public_id for a finding's events, by event_id or case_ref for an event's findings.",
    },
    "case_chronologies": {
        "title": "Merged case chronologies",
        "description": "Every case's events with agency names and gaps in days. Filter by case_ref, or use the "
                       "'Merged chronology of one case' query for a timeline.",
        # No default facets on views: over a million rows they cost seconds on every page.
        "sort": "event_date",
    },
    "criterion_strand_coverage": {
        "title": "Criterion × strand coverage",
        "description": "One row per criterion and strand: findings, inspectors, agencies and whether the cell is "
                       "empty, single-source or corroborated. The matrix form is query 6.",
    },
    "_sqlite_migrations": {"hidden": True},
}

# Enumerated columns: column → vocabulary, with per-table exceptions.
VOCABULARY_COLUMNS: dict[str, dict[str, str]] = {
    "review_type": vocab.REVIEW_TYPES, "agency_type": vocab.AGENCY_TYPES, "age_band": vocab.AGE_BANDS,
    "legal_status": vocab.LEGAL_STATUSES, "cp_category": vocab.CP_CATEGORIES,
    "selection_route": vocab.SELECTION_ROUTES, "activity": vocab.ACTIVITIES, "finding_type": vocab.FINDING_TYPES,
    "impact_on_child": vocab.IMPACTS_ON_CHILD, "qa_status": vocab.QA_STATUSES, "from_status": vocab.QA_STATUSES,
    "to_status": vocab.QA_STATUSES, "relevance": vocab.RELEVANCES, "date_precision": vocab.DATE_PRECISIONS,
    "event_type": vocab.EVENT_TYPES, "scope": vocab.JUDGEMENT_SCOPES, "urgency": vocab.ALERT_URGENCIES,
    "media_type": vocab.ATTACHMENT_TYPES,
}
TABLE_VOCABULARY_COLUMNS: dict[tuple[str, str], dict[str, str]] = {
    ("reviews", "status"): vocab.REVIEW_STATUSES,
    ("safeguarding_alerts", "status"): vocab.ALERT_STATUSES,
    ("inspectors", "role"): vocab.INSPECTOR_ROLES,
    ("qa_actions", "action"): vocab.QA_ACTIONS,
}
# Columns named alike in several tables (criteria.description is the framework's text).
_SHARED_NAMES = {"description", "reason", "name", "organisation"}
# The notes of the fields people type, from the field registry (one wording per field).
REGISTRY_NOTES: dict[str, str] = {
    spec.name: fields.reader_note(spec)
    for record in (fields.FINDING, fields.CHRONOLOGY_EVENT, fields.ALERT, fields.JUDGEMENT, fields.CASE)
    for spec in record if spec.kind != fields.REFERENCE and spec.name not in _SHARED_NAMES
}
COLUMN_NOTES: dict[str, str] = {
    **REGISTRY_NOTES,
    "public_id": "The evidence record's reference, EF-<inspector>-<number>; quote it in the report.",
    "version": "Current version; every earlier one is in finding_versions.",
    "gap_days": "Days since the case's previous event.",
    "partner": "Statutory safeguarding partner of the agency: social care, police, health or other.",
    "cell": "empty: no findings; single source: one inspector's evidence only; corroborated: more.",
    "moderated_grade": "Grade after moderation.",
    "moderation_reason": "Why the moderator set the moderated grade (the lead's proposal is kept beside it).",
    "finding_version": "The cited finding's version when it was cited; a later version means it was edited since.",
    "quote": "Words quoted from the finding's evidence or evaluation text.",
    "hash": "sha256 chaining this audit row to the one before it; `inspect-kit verify` recomputes the chain.",
    "client_uuid": "Set by the form that created the record; makes retries safe.",
    "content_hash": "Hash of the submitted content, to tell a retry from a conflicting reuse of a uuid.",
}


def describe_vocabulary(labels: dict[str, str]) -> str:
    """``code = Label; …`` for a column description."""
    return "; ".join(f"{code} = {label}" for code, label in labels.items())


def column_descriptions(db: Database, table: str) -> dict[str, str]:
    """Descriptions for ``table``'s columns that have a vocabulary or a note."""
    described: dict[str, str] = {}
    for column in db[table].columns_dict:
        labels = TABLE_VOCABULARY_COLUMNS.get((table, column)) or VOCABULARY_COLUMNS.get(column)
        note = COLUMN_NOTES.get(column)
        if labels:
            described[column] = (note + " " if note else "") + describe_vocabulary(labels)
        elif note:
            described[column] = note
    return described


def table_allow(name: str) -> dict[str, Any] | bool:
    """Who may read a table or view: the holders of :func:`policy.datasette_table_permission`.

    The FTS index of a table gets its table's rule: an FTS5 table with
    external content returns the indexed text.
    """
    return policy.datasette_allow(policy.datasette_table_permission(name))


def review_strands(db: Database) -> list[str]:
    """Strand codes taking part in the current review (or with inspectors in it), in strand order
    (all strands if none)."""
    review = db.execute("SELECT id FROM reviews ORDER BY id DESC LIMIT 1").fetchone()
    rows = []
    if review:
        taking_part = ("SELECT strand_id FROM review_strands WHERE review_id = ? UNION "
                       if db["review_strands"].exists() else "SELECT ? WHERE 0 UNION ")
        rows = db.execute(
            f"SELECT code FROM strands WHERE id IN ({taking_part}"
            "SELECT strand_id FROM inspectors WHERE review_id = ?) ORDER BY id", [review[0], review[0]]).fetchall()
    if not rows:
        rows = db.execute("SELECT code FROM strands ORDER BY id").fetchall()
    return [code for (code,) in rows]


def review_description(db: Database, review_id: int | None = None) -> str:
    """One paragraph describing the review ``review_id`` (default: the latest), or how to create one."""
    row = db.execute(
        "SELECT title, area, framework_title, fieldwork_start, fieldwork_end, draft_due, status"
        " FROM reviews WHERE id = coalesce(?, (SELECT max(id) FROM reviews))", [review_id]).fetchone()
    if row is None:
        return "No review yet: create one with `inspect-kit review create` (or `inspect-kit demo`)."
    title, area, framework_title, start, end, draft_due, status = row
    parts = [f"{title} ({area}), judged against the {framework_title} framework."]
    if start:
        parts.append(f"Fieldwork {start} to {end or '…'}.")
    if draft_due:
        parts.append(f"Draft report due {draft_due}.")
    parts.append(f"Status: {vocab.REVIEW_STATUSES.get(status, status)}.")
    return " ".join(parts)


def is_evidence_store(db: Database) -> bool:
    """True when ``db`` has the evidence store's migrations applied."""
    if not db["_sqlite_migrations"].exists():
        return False
    return db.execute(
        "SELECT count(*) FROM _sqlite_migrations WHERE migration_set = 'inspect_kit.evidence'").fetchone()[0] > 0


def is_private_store(db: Database) -> bool:
    """True when ``db`` is a ``private.db`` (accounts, password hashes): never to be served."""
    if db["_sqlite_migrations"].exists() and db.execute(
            "SELECT count(*) FROM _sqlite_migrations WHERE migration_set = 'inspect_kit.private'").fetchone()[0]:
        return True
    return db["accounts"].exists() and "password_hash" in db["accounts"].columns_dict


def evidence_database_metadata(db: Database) -> dict[str, Any]:
    """The metadata of one evidence database: tables, views, queries and their rules."""
    tables: dict[str, dict[str, Any]] = {}
    for name in [*db.table_names(), *db.view_names()]:
        entry = {key: value for key, value in TABLES.get(name, {}).items()}
        entry["allow"] = table_allow(name)
        if db[name].exists() or name in db.view_names():
            columns = column_descriptions(db, name)
            if columns:
                entry["columns"] = columns
        tables[name] = entry
    # Metadata is one for every reader, and each reads the review chosen in the intake app:
    # the review's own title and description are on each page (pages.extra_template_vars).
    return {
        "title": "Evidence",
        "description": DATABASE_DESCRIPTION if _has_review(db) else review_description(db),
        "allow": ANY_ACCOUNT,
        "allow_sql": SQL_WRITERS,
        "tables": tables,
        "queries": {q.name: q.as_metadata() for q in questions.questions(review_strands(db))},
    }


DATABASE_DESCRIPTION = ("The evidence of the review you chose in the intake app (its title is above); every "
                        "table, question and export here keeps to it. Change review in the intake app.")


def _has_review(db: Database) -> bool:
    return db.execute("SELECT 1 FROM reviews LIMIT 1").fetchone() is not None


def closed_database_metadata() -> dict[str, Any]:
    """Metadata for a database that is not an evidence store: for those who may write SQL only."""
    return {"allow": SQL_WRITERS, "allow_sql": SQL_WRITERS}


def build_metadata(databases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The instance metadata around per-database metadata (name → dict).

    Anonymous users are refused at the instance (``allow``) and SQL is for
    the policy's SQL writers everywhere (``allow_sql``).
    """
    return {
        "title": TITLE,
        "description": "Cross-reading the review's evidence. Log in through the intake app.",
        "allow": ANY_ACCOUNT,
        "allow_sql": SQL_WRITERS,
        "databases": databases,
    }
