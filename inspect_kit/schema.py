"""The evidence store's schema, as ``sqlite_utils.Migrations`` steps.

Each step is one function, applied once and recorded in ``_sqlite_migrations``.
The database enforces the domain: CHECK constraints on every enumerated column
(built from :mod:`inspect_kit.vocab`), NOT NULL where a value is required,
UNIQUE public ids and client uuids, foreign keys (enforced by each connection,
see :mod:`inspect_kit.store`) and an index on every column the leads filter or
facet by.
"""

from __future__ import annotations

import json

from sqlite_utils import Database, Migrations

from . import vocab
from .identifiers import identifier_patterns_sql
from .vocab import sql_in

evidence_migrations = Migrations("inspect_kit.evidence")
private_migrations = Migrations("inspect_kit.private")

# Tables whose text columns are searchable, and the columns indexed.
FTS_COLUMNS = {
    "findings": ["public_id", "evidence_text", "evaluation_text"],
    "chronology_events": ["description", "source_of_information"],
}

def _date(col: str, required: bool = True) -> str:
    # `IS`, not `=`: date() of garbage is NULL, and a NULL check passes; the
    # "+0 days" modifier normalises impossible days (2008-02-30 → 03-01),
    # which plain date() accepts as they are.
    check = f"CHECK (date({col}, '+0 days') IS {col})"
    if required:
        return f"{col} TEXT NOT NULL {check}"
    return f"{col} TEXT CHECK ({col} IS NULL OR date({col}, '+0 days') IS {col})"


def _flag(col: str) -> str:
    return f"{col} INTEGER NOT NULL DEFAULT 0 CHECK ({col} IN (0, 1))"


@evidence_migrations()
def m001_initial(db: Database) -> None:
    """Create the data model of docs/architecture.md §4."""
    db.executescript(
        f"""
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE CHECK (slug GLOB '[a-z0-9]*' AND slug NOT GLOB '*[^a-z0-9-]*'),
            title TEXT NOT NULL CHECK (length(trim(title)) > 0),
            area TEXT NOT NULL,
            review_type TEXT NOT NULL CHECK (review_type IN {sql_in(vocab.REVIEW_TYPES)}),
            framework TEXT NOT NULL,
            framework_title TEXT NOT NULL,
            graded INTEGER NOT NULL DEFAULT 0 CHECK (graded IN (0, 1)),
            commissioned_by TEXT,
            legal_basis TEXT,
            {_date('fieldwork_start', False)},
            {_date('fieldwork_end', False)},
            {_date('draft_due', False)},
            status TEXT NOT NULL DEFAULT 'setup' CHECK (status IN {sql_in(vocab.REVIEW_STATUSES)}),
            {_date('retention_review_on', False)},
            created_at TEXT NOT NULL,
            CHECK (fieldwork_end IS NULL OR fieldwork_start IS NULL OR fieldwork_end >= fieldwork_start)
        );

        CREATE TABLE grades (
            review_id INTEGER NOT NULL REFERENCES reviews(id),
            grade INTEGER NOT NULL,
            label TEXT NOT NULL,
            PRIMARY KEY (review_id, grade)
        );

        CREATE TABLE judgement_areas (
            id INTEGER PRIMARY KEY,
            review_id INTEGER NOT NULL REFERENCES reviews(id),
            code TEXT NOT NULL,
            title TEXT NOT NULL,
            position INTEGER NOT NULL,
            UNIQUE (review_id, code)
        );

        CREATE TABLE criteria (
            id INTEGER PRIMARY KEY,
            review_id INTEGER NOT NULL REFERENCES reviews(id),
            area_id INTEGER NOT NULL REFERENCES judgement_areas(id),
            code TEXT NOT NULL,
            title TEXT NOT NULL,
            description TEXT,
            position INTEGER NOT NULL,
            UNIQUE (review_id, code)
        );
        CREATE INDEX idx_criteria_area ON criteria(area_id);

        CREATE TABLE strands (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE CHECK (code GLOB '[a-z]*' AND code NOT GLOB '*[^a-z_]*'),
            name TEXT NOT NULL,
            inspectorate TEXT NOT NULL
        );

        CREATE TABLE agencies (
            id INTEGER PRIMARY KEY,
            review_id INTEGER NOT NULL REFERENCES reviews(id),
            name TEXT NOT NULL CHECK (length(trim(name)) > 0),
            organisation TEXT,
            agency_type TEXT NOT NULL CHECK (agency_type IN {sql_in(vocab.AGENCY_TYPES)}),
            lead_strand_id INTEGER NOT NULL REFERENCES strands(id),
            UNIQUE (review_id, name)
        );
        CREATE INDEX idx_agencies_type ON agencies(agency_type);
        CREATE INDEX idx_agencies_lead_strand ON agencies(lead_strand_id);

        CREATE TABLE inspectors (
            id INTEGER PRIMARY KEY,
            review_id INTEGER NOT NULL REFERENCES reviews(id),
            code TEXT NOT NULL CHECK (code GLOB '[A-Z][A-Z]*-[0-9][0-9]'),
            strand_id INTEGER NOT NULL REFERENCES strands(id),
            role TEXT NOT NULL CHECK (role IN {sql_in(vocab.INSPECTOR_ROLES)}),
            UNIQUE (review_id, code)
        );
        CREATE INDEX idx_inspectors_strand ON inspectors(strand_id);

        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            review_id INTEGER NOT NULL REFERENCES reviews(id),
            case_ref TEXT NOT NULL CHECK (case_ref GLOB 'C-[0-9][0-9][0-9]*'),
            household_ref TEXT,
            age_band TEXT NOT NULL CHECK (age_band IN {sql_in(vocab.AGE_BANDS)}),
            legal_status TEXT NOT NULL CHECK (legal_status IN {sql_in(vocab.LEGAL_STATUSES)}),
            cp_category TEXT CHECK (cp_category IS NULL OR cp_category IN {sql_in(vocab.CP_CATEGORIES)}),
            selection_route TEXT NOT NULL CHECK (selection_route IN {sql_in(vocab.SELECTION_ROUTES)}),
            UNIQUE (review_id, case_ref)
        );
        CREATE INDEX idx_cases_legal_status ON cases(legal_status);
        CREATE INDEX idx_cases_selection_route ON cases(selection_route);

        CREATE TABLE findings (
            id INTEGER PRIMARY KEY,
            public_id TEXT NOT NULL UNIQUE CHECK (public_id GLOB 'EF-[A-Z]*-[0-9][0-9]-[0-9][0-9][0-9][0-9]*'),
            client_uuid TEXT NOT NULL UNIQUE CHECK (length(client_uuid) = 36),
            content_hash TEXT NOT NULL,
            review_id INTEGER NOT NULL REFERENCES reviews(id),
            strand_id INTEGER NOT NULL REFERENCES strands(id),
            inspector_id INTEGER NOT NULL REFERENCES inspectors(id),
            inspector_seq INTEGER NOT NULL CHECK (inspector_seq > 0),
            agency_id INTEGER REFERENCES agencies(id),
            case_id INTEGER REFERENCES cases(id),
            activity TEXT NOT NULL CHECK (activity IN {sql_in(vocab.ACTIVITIES)}),
            {_date('collected_on')},
            evidence_text TEXT NOT NULL CHECK (length(trim(evidence_text)) > 0),
            evaluation_text TEXT,
            finding_type TEXT NOT NULL CHECK (finding_type IN {sql_in(vocab.FINDING_TYPES)}),
            impact_on_child TEXT NOT NULL DEFAULT 'not_known'
                CHECK (impact_on_child IN {sql_in(vocab.IMPACTS_ON_CHILD)}),
            qa_status TEXT NOT NULL DEFAULT 'draft' CHECK (qa_status IN {sql_in(vocab.QA_STATUSES)}),
            version INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            submitted_at TEXT,
            UNIQUE (inspector_id, inspector_seq)
        );
        CREATE INDEX idx_findings_review ON findings(review_id);
        CREATE INDEX idx_findings_strand ON findings(strand_id);
        CREATE INDEX idx_findings_inspector ON findings(inspector_id);
        CREATE INDEX idx_findings_agency ON findings(agency_id);
        CREATE INDEX idx_findings_case ON findings(case_id);
        CREATE INDEX idx_findings_activity ON findings(activity);
        CREATE INDEX idx_findings_collected_on ON findings(collected_on);
        CREATE INDEX idx_findings_finding_type ON findings(finding_type);
        CREATE INDEX idx_findings_impact ON findings(impact_on_child);
        CREATE INDEX idx_findings_qa_status ON findings(qa_status);
        CREATE INDEX idx_findings_strand_type ON findings(strand_id, finding_type);
        CREATE INDEX idx_findings_strand_qa ON findings(strand_id, qa_status);

        CREATE TABLE finding_criteria (
            finding_id INTEGER NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
            criterion_id INTEGER NOT NULL REFERENCES criteria(id),
            relevance TEXT NOT NULL DEFAULT 'primary' CHECK (relevance IN {sql_in(vocab.RELEVANCES)}),
            PRIMARY KEY (finding_id, criterion_id)
        );
        CREATE INDEX idx_finding_criteria_criterion ON finding_criteria(criterion_id);

        CREATE TABLE finding_versions (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER NOT NULL REFERENCES findings(id),
            version INTEGER NOT NULL CHECK (version > 0),
            snapshot TEXT NOT NULL CHECK (json_valid(snapshot)),
            changed_by TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            reason TEXT,
            UNIQUE (finding_id, version)
        );

        CREATE TABLE qa_actions (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER NOT NULL REFERENCES findings(id),
            action TEXT NOT NULL CHECK (action IN {sql_in(vocab.QA_ACTIONS)}),
            from_status TEXT NOT NULL CHECK (from_status IN {sql_in(vocab.QA_STATUSES)}),
            to_status TEXT NOT NULL CHECK (to_status IN {sql_in(vocab.QA_STATUSES)}),
            actor TEXT NOT NULL,
            at TEXT NOT NULL,
            comment TEXT,
            CHECK (action NOT IN ('return', 'withdraw') OR length(trim(comment)) > 0)
        );
        CREATE INDEX idx_qa_actions_finding ON qa_actions(finding_id);
        CREATE INDEX idx_qa_actions_action ON qa_actions(action);

        CREATE TABLE chronology_events (
            id INTEGER PRIMARY KEY,
            client_uuid TEXT NOT NULL UNIQUE CHECK (length(client_uuid) = 36),
            content_hash TEXT NOT NULL,
            review_id INTEGER NOT NULL REFERENCES reviews(id),
            case_id INTEGER NOT NULL REFERENCES cases(id),
            agency_id INTEGER NOT NULL REFERENCES agencies(id),
            practitioner_role TEXT,
            {_date('event_date')},
            date_precision TEXT NOT NULL DEFAULT 'day' CHECK (date_precision IN {sql_in(vocab.DATE_PRECISIONS)}),
            event_type TEXT NOT NULL CHECK (event_type IN {sql_in(vocab.EVENT_TYPES)}),
            description TEXT NOT NULL CHECK (length(trim(description)) > 0),
            source_of_information TEXT,
            {_flag('key_event')},
            {_flag('missed_opportunity')},
            {_flag('good_practice')},
            recorded_by INTEGER REFERENCES inspectors(id),
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_chronology_case_date ON chronology_events(case_id, event_date);
        CREATE INDEX idx_chronology_agency ON chronology_events(agency_id);
        CREATE INDEX idx_chronology_event_type ON chronology_events(event_type);
        CREATE INDEX idx_chronology_event_date ON chronology_events(event_date);

        CREATE TABLE judgements (
            id INTEGER PRIMARY KEY,
            review_id INTEGER NOT NULL REFERENCES reviews(id),
            criterion_id INTEGER NOT NULL REFERENCES criteria(id),
            scope TEXT NOT NULL CHECK (scope IN {sql_in(vocab.JUDGEMENT_SCOPES)}),
            agency_id INTEGER REFERENCES agencies(id),
            proposed_grade INTEGER,
            moderated_grade INTEGER,
            narrative TEXT NOT NULL DEFAULT '',
            proposed_by TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK ((scope = 'agency') = (agency_id IS NOT NULL)),
            UNIQUE (criterion_id, scope, agency_id)
        );
        CREATE INDEX idx_judgements_criterion ON judgements(criterion_id);

        CREATE TABLE safeguarding_alerts (
            id INTEGER PRIMARY KEY,
            review_id INTEGER NOT NULL REFERENCES reviews(id),
            case_id INTEGER REFERENCES cases(id),
            finding_id INTEGER REFERENCES findings(id),
            urgency TEXT NOT NULL CHECK (urgency IN {sql_in(vocab.ALERT_URGENCIES)}),
            concern TEXT NOT NULL CHECK (length(trim(concern)) > 0),
            status TEXT NOT NULL DEFAULT 'raised' CHECK (status IN {sql_in(vocab.ALERT_STATUSES)}),
            raised_by TEXT NOT NULL,
            raised_at TEXT NOT NULL,
            referral_due TEXT NOT NULL,
            referred_to TEXT,
            referred_at TEXT,
            response_due TEXT,
            responded_at TEXT,
            response TEXT,
            closed_at TEXT,
            CHECK (case_id IS NOT NULL OR finding_id IS NOT NULL)
        );
        CREATE INDEX idx_alerts_status ON safeguarding_alerts(status);
        CREATE INDEX idx_alerts_case ON safeguarding_alerts(case_id);

        CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
            finding_id INTEGER NOT NULL REFERENCES findings(id),
            filename TEXT NOT NULL,
            media_type TEXT NOT NULL CHECK (media_type IN {sql_in(vocab.ATTACHMENT_TYPES)}),
            size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),
            uploaded_by TEXT NOT NULL,
            uploaded_at TEXT NOT NULL,
            UNIQUE (finding_id, sha256)
        );

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            table_name TEXT,
            row_id INTEGER,
            before TEXT CHECK (before IS NULL OR json_valid(before)),
            after TEXT CHECK (after IS NULL OR json_valid(after)),
            detail TEXT
        );
        CREATE INDEX idx_audit_table_row ON audit_log(table_name, row_id);
        CREATE INDEX idx_audit_actor ON audit_log(actor);
        CREATE INDEX idx_audit_action ON audit_log(action);
        """
    )


@evidence_migrations()
def m002_alert_client_uuid(db: Database) -> None:
    """Safeguarding alerts carry the raising form's client uuid, so a double
    click or a retried request never raises the same alert twice.
    Existing alerts keep NULL; the unique index ignores NULLs."""
    db.execute("ALTER TABLE safeguarding_alerts ADD COLUMN client_uuid TEXT"
               " CHECK (client_uuid IS NULL OR length(client_uuid) = 36)")
    db.execute("CREATE UNIQUE INDEX idx_alerts_client_uuid ON safeguarding_alerts(client_uuid)")


@private_migrations()
def p001_accounts(db: Database) -> None:
    """Accounts, API tokens and the case-identity key: never served by Datasette."""
    db.executescript(
        f"""
        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE CHECK (username GLOB '[a-z]*' AND username NOT GLOB '*[^a-z0-9._-]*'),
            role TEXT NOT NULL CHECK (role IN {sql_in(vocab.ACCOUNT_ROLES)}),
            strand TEXT,
            inspector_code TEXT,
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
            failed_logins INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            created_at TEXT NOT NULL,
            CHECK (role != 'inspector' OR strand IS NOT NULL)
        );

        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id),
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            last_used_at TEXT
        );

        CREATE TABLE case_identity_keys (
            id INTEGER PRIMARY KEY,
            review_slug TEXT NOT NULL,
            case_ref TEXT NOT NULL,
            local_identifier TEXT NOT NULL,
            UNIQUE (review_slug, case_ref)
        );
        """
    )


@private_migrations()
def p002_login_attempts(db: Database) -> None:
    """Sign-in attempts, for throttling: one row per attempt still
    counted, keyed by the case-folded username typed (known or not) and the
    client address; ``at`` is Unix time; ``checked`` is 0 when the server was
    too busy to check the password. Kept in ``private.db`` rather than in
    process memory so that every worker process sees the same counts; rows
    older than the longest window are pruned as attempts are written, so the
    table stays small. The old per-account lock-out columns
    (``accounts.failed_logins``, ``locked_until``) are no longer read."""
    db.executescript(
        """
        CREATE TABLE login_attempts (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL,
            address TEXT NOT NULL,
            at REAL NOT NULL,
            checked INTEGER NOT NULL DEFAULT 1 CHECK (checked IN (0, 1))
        );
        CREATE INDEX idx_login_attempts_username ON login_attempts(username, at);
        CREATE INDEX idx_login_attempts_address ON login_attempts(address, at);
        CREATE INDEX idx_login_attempts_at ON login_attempts(at);
        """
    )


def ensure_fts(db: Database) -> None:
    """Make sure the full-text indexes and their triggers exist and are current.

    ``table.transform()`` drops every trigger, FTS triggers included
    (sqlite-utils issues 611, 849), so this runs after every migration run:
    when any trigger is missing the index is rebuilt from the table.
    """
    triggers = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for table, columns in FTS_COLUMNS.items():
        expected = {f"{table}_a{op}" for op in ("i", "d", "u")}
        if db[f"{table}_fts"].exists() and expected <= triggers:
            continue
        db[table].enable_fts(columns, create_triggers=True, replace=True, tokenize="porter")


def migrate(db: Database) -> list[str]:
    """Apply pending evidence-store migrations and keep FTS intact.

    Returns the names of the migrations applied (empty when up to date).
    """
    pending = [m.name for m in evidence_migrations.pending(db)]
    evidence_migrations.apply(db)
    ensure_fts(db)
    return pending


def migrate_private(db: Database) -> list[str]:
    """Apply pending private-store migrations; returns the names applied."""
    pending = [m.name for m in private_migrations.pending(db)]
    private_migrations.apply(db)
    return pending


# ----------------------------------------------------------------- views for people

# Agency types grouped into the three statutory safeguarding partners: a
# strategy discussion should hear from all three (Working Together).
SOCIAL_CARE_AGENCY_TYPES = ("childrens_social_care", "mash", "legal_services")
POLICE_AGENCY_TYPES = ("police", "police_cait")
HEALTH_AGENCY_TYPES = (
    "emergency_department", "paediatrics", "maternity", "health_visiting", "school_nursing",
    "child_development", "gp",
)


def _label_sql(column: str, labels: dict[str, str]) -> str:
    """A SQL ``CASE`` turning a vocabulary code into the label people read."""
    cases = " ".join(f"WHEN '{code}' THEN '{label.replace(chr(39), chr(39) * 2)}'" for code, label in labels.items())
    return f"CASE {column} {cases} ELSE {column} END"


def _partner_sql() -> str:
    """A SQL ``CASE`` naming the statutory safeguarding partner of ``agencies.agency_type``."""
    return (
        f"CASE WHEN agencies.agency_type IN {sql_in(SOCIAL_CARE_AGENCY_TYPES)} THEN 'social care'"
        f" WHEN agencies.agency_type IN {sql_in(POLICE_AGENCY_TYPES)} THEN 'police'"
        f" WHEN agencies.agency_type IN {sql_in(HEALTH_AGENCY_TYPES)} THEN 'health'"
        " ELSE 'other' END"
    )


def _chronology_columns_and_joins() -> str:
    """The ``case_chronology`` view's columns after its gap, and its joins: the same text in
    m003 and m005 (never edit it: both have run on existing stores)."""
    return f"""agencies.name AS agency, agencies.organisation, {_partner_sql()} AS partner,
               {_label_sql('chronology_events.event_type', vocab.EVENT_TYPES)} AS event,
               chronology_events.event_type, chronology_events.practitioner_role,
               chronology_events.description, chronology_events.source_of_information,
               chronology_events.key_event, chronology_events.missed_opportunity,
               chronology_events.good_practice
        FROM chronology_events
        LEFT JOIN reviews ON reviews.id = chronology_events.review_id
        LEFT JOIN cases ON cases.id = chronology_events.case_id
        LEFT JOIN agencies ON agencies.id = chronology_events.agency_id"""


# The criterion × strand coverage view is rebuilt by m003, m012 and m013 from these
# pieces of SQL, each shared by the migrations whose text was the same. Never edit them:
# those migrations have run on existing stores; a changed view needs a new migration.
# The cells: every criterion × every strand taking part in its review (m012, m013).
_CELLS_OF_REVIEW_STRANDS = """WITH cells AS (
            SELECT criteria.review_id, criteria.id AS criterion_id, strands.id AS strand_id
            FROM criteria
            JOIN strands ON strands.id IN (
                SELECT strand_id FROM review_strands WHERE review_strands.review_id = criteria.review_id
                UNION SELECT strand_id FROM inspectors WHERE inspectors.review_id = criteria.review_id)
        ),"""
# Each cell's counts of findings not withdrawn, from the findings themselves (m003, m012).
_EVIDENCE_FROM_FINDINGS = """evidence AS (
            SELECT finding_criteria.criterion_id, findings.strand_id, count(*) AS findings,
                   count(DISTINCT findings.inspector_id) AS inspectors,
                   count(DISTINCT findings.agency_id) AS agencies
            FROM finding_criteria
            JOIN findings ON findings.id = finding_criteria.finding_id
            WHERE findings.qa_status != 'withdrawn'
            GROUP BY finding_criteria.criterion_id, findings.strand_id
        )"""
# A row per cell with its counts and its state (m003, m012, m013).
_COVERAGE_SELECT = """SELECT reviews.slug AS review, judgement_areas.code AS area, criteria.code AS criterion,
               criteria.title AS criterion_title, criteria.position AS criterion_position,
               strands.code AS strand, coalesce(evidence.findings, 0) AS findings,
               coalesce(evidence.inspectors, 0) AS inspectors,
               coalesce(evidence.agencies, 0) AS agencies,
               CASE WHEN evidence.findings IS NULL THEN 'empty'
                    WHEN evidence.inspectors = 1 THEN 'single source'
                    ELSE 'corroborated' END AS cell
        FROM cells
        JOIN criteria ON criteria.id = cells.criterion_id
        JOIN judgement_areas ON judgement_areas.id = criteria.area_id
        JOIN reviews ON reviews.id = cells.review_id
        JOIN strands ON strands.id = cells.strand_id
        LEFT JOIN evidence ON evidence.criterion_id = cells.criterion_id AND evidence.strand_id = cells.strand_id
        ORDER BY reviews.id, criteria.position, strands.id"""


@evidence_migrations()
def m003_views_for_people(db: Database) -> None:
    """Views the leads read in Datasette: findings with names, the merged case
    chronology and the criterion × strand coverage (docs/architecture.md §6).

    Outer joins throughout, so that ``count(*)`` over a view (Datasette counts
    every table page) can skip the joins entirely: SQLite drops a LEFT JOIN to
    a unique key whose columns are not used.
    """
    db.executescript(
        f"""
        CREATE VIEW findings_readable AS
        SELECT findings.id, findings.public_id, reviews.slug AS review, strands.code AS strand,
               inspectors.code AS inspector, agencies.name AS agency, agencies.agency_type,
               cases.case_ref, findings.activity, findings.collected_on, findings.finding_type,
               findings.impact_on_child, findings.qa_status, findings.version,
               (SELECT group_concat(code, ' ') FROM (
                    SELECT criteria.code FROM finding_criteria
                    JOIN criteria ON criteria.id = finding_criteria.criterion_id
                    WHERE finding_criteria.finding_id = findings.id ORDER BY criteria.position)) AS criteria,
               findings.evidence_text, findings.evaluation_text, findings.updated_at
        FROM findings
        LEFT JOIN reviews ON reviews.id = findings.review_id
        LEFT JOIN strands ON strands.id = findings.strand_id
        LEFT JOIN inspectors ON inspectors.id = findings.inspector_id
        LEFT JOIN agencies ON agencies.id = findings.agency_id
        LEFT JOIN cases ON cases.id = findings.case_id;

        CREATE VIEW case_chronology AS
        SELECT chronology_events.id, reviews.slug AS review, cases.case_ref,
               chronology_events.event_date, chronology_events.date_precision,
               CAST(julianday(chronology_events.event_date) - julianday(lag(chronology_events.event_date) OVER (
                   PARTITION BY chronology_events.case_id
                   ORDER BY chronology_events.event_date, chronology_events.id)) AS INTEGER) AS gap_days,
               {_chronology_columns_and_joins()};

        CREATE VIEW criterion_strand_coverage AS
        WITH cells AS (
            SELECT criteria.review_id, criteria.id AS criterion_id, strands.id AS strand_id
            FROM criteria
            JOIN strands ON strands.id IN (
                SELECT strand_id FROM inspectors WHERE inspectors.review_id = criteria.review_id)
        ),
        {_EVIDENCE_FROM_FINDINGS}
        {_COVERAGE_SELECT};
        """
    )


@evidence_migrations()
def m004_findings_filter_index(db: Database) -> None:
    """An index for the leads' usual filtered findings page.

    Filtering the findings table by strand, type and QA status (with its three
    facets and the default sort by collection date) took 1.2 s of SQL on
    1,000,000 findings with the two-column indexes; this one index serves the
    count, the facets (index only) and the first page in date order without
    a sort. Measured by bench/datasette.py.
    """
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_findings_strand_type_qa_date"
        " ON findings(strand_id, finding_type, qa_status, collected_on)"
    )


def _case_chronology_select() -> str:
    """Every case's events with names, the partner, the event's label and the gap
    to the case's previous event (a correlated subquery: see m005)."""
    return f"""
        SELECT chronology_events.id, reviews.slug AS review, cases.case_ref,
               chronology_events.event_date, chronology_events.date_precision,
               CAST(julianday(chronology_events.event_date) - julianday((
                   SELECT previous.event_date FROM chronology_events AS previous
                   WHERE previous.case_id = chronology_events.case_id
                     AND (previous.event_date, previous.id)
                         < (chronology_events.event_date, chronology_events.id)
                   ORDER BY previous.event_date DESC, previous.id DESC LIMIT 1)) AS INTEGER) AS gap_days,
               {_chronology_columns_and_joins()}
    """


@evidence_migrations()
def m005_case_chronology_scales(db: Database) -> None:
    """Rebuild the ``case_chronology`` view without a window function.

    ``lag() OVER (PARTITION BY case_id …)`` made SQLite compute and sort every
    event of every case before it could count, sort or filter the view: 44 s
    for a count over 1,500,000 events, past Datasette's time limit. The gap to
    the previous event is now a correlated subquery on ``(case_id,
    event_date)``, computed only for the rows shown; a filter by case
    reference uses the new ``cases(case_ref)`` index.
    """
    db.executescript(
        f"""
        DROP VIEW IF EXISTS case_chronology;
        CREATE INDEX IF NOT EXISTS idx_cases_case_ref ON cases(case_ref);
        CREATE VIEW case_chronology AS {_case_chronology_select()};
        """
    )


@evidence_migrations()
def m006_rename_case_chronologies(db: Database) -> None:
    """Rename the view ``case_chronology`` to ``case_chronologies``.

    The lead's canned query "Merged chronology of one case" is called
    ``case_chronology``, and in Datasette a canned query hides a table or view
    of the same name: the view could not be opened.
    """
    # Re-create it from the stored definition rather than from today's code, so
    # this step does the same on every store whatever later steps change.
    (definition,) = db.execute("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'case_chronology'").fetchone()
    renamed = definition.replace("CREATE VIEW case_chronology AS", "CREATE VIEW case_chronologies AS", 1)
    if renamed == definition:
        raise ValueError(f"m006: unexpected definition of case_chronology: {definition[:80]!r}")
    db.execute("DROP VIEW case_chronology")
    db.execute(renamed)


@evidence_migrations()
def m007_judgement_workspace(db: Database) -> None:
    """The lead's judgement workspace and the moderator's own record.

    A judgement gains an ungraded framework's two statements (strengths, areas
    for improvement), a version number, and the moderator's reason, name and
    time beside (never over) the lead's proposal. ``judgement_versions`` keeps
    a snapshot of every version as ``finding_versions`` does for findings;
    ``judgement_citations`` ties a judgement to the findings it rests on, each
    with the finding's version when cited (so an edit after citing shows) and
    an optional quote taken from the finding's text.
    """
    db.executescript(
        """
        ALTER TABLE judgements ADD COLUMN strengths TEXT;
        ALTER TABLE judgements ADD COLUMN areas_for_improvement TEXT;
        ALTER TABLE judgements ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version > 0);
        ALTER TABLE judgements ADD COLUMN moderation_reason TEXT;
        ALTER TABLE judgements ADD COLUMN moderated_by TEXT;
        ALTER TABLE judgements ADD COLUMN moderated_at TEXT;

        CREATE TABLE judgement_versions (
            id INTEGER PRIMARY KEY,
            judgement_id INTEGER NOT NULL REFERENCES judgements(id),
            version INTEGER NOT NULL CHECK (version > 0),
            action TEXT NOT NULL CHECK (action IN ('propose', 'revise', 'moderate')),
            snapshot TEXT NOT NULL CHECK (json_valid(snapshot)),
            changed_by TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            reason TEXT,
            UNIQUE (judgement_id, version)
        );

        CREATE TABLE judgement_citations (
            id INTEGER PRIMARY KEY,
            judgement_id INTEGER NOT NULL REFERENCES judgements(id),
            finding_id INTEGER NOT NULL REFERENCES findings(id),
            finding_version INTEGER NOT NULL CHECK (finding_version > 0),
            quote TEXT,
            position INTEGER NOT NULL,
            cited_by TEXT NOT NULL,
            cited_at TEXT NOT NULL,
            UNIQUE (judgement_id, finding_id)
        );
        CREATE INDEX idx_judgement_citations_finding ON judgement_citations(finding_id);
        """
    )
    # Judgements recorded before this step get their first version, so every
    # judgement has a history that starts at 1.
    for row in list(db.query("SELECT * FROM judgements ORDER BY id")):
        snapshot = {key: row.get(key) for key in ("proposed_grade", "moderated_grade", "narrative", "strengths",
                                                  "areas_for_improvement", "moderation_reason")}
        snapshot["citations"] = []
        db.execute("INSERT INTO judgement_versions (judgement_id, version, action, snapshot, changed_by, changed_at)"
                   " VALUES (?, 1, 'propose', ?, ?, ?)",
                   [row["id"], json.dumps(snapshot, sort_keys=True), row["proposed_by"], row["updated_at"]])


@evidence_migrations()
def m008_audit_hash_chain(db: Database) -> None:
    """Chain every audit row to the one before it (tamper evidence).

    Adds ``audit_log.hash`` and back-fills it for the existing rows in id
    order, with the same function that stamps new rows
    (:func:`inspect_kit.audit.row_hash`), so ``inspect-kit verify`` checks old
    and new rows alike.
    """
    from .audit_chain import GENESIS, row_hash

    db.execute("ALTER TABLE audit_log ADD COLUMN hash TEXT")
    previous = GENESIS
    columns = ("id", "at", "actor", "action", "table_name", "row_id", "before", "after", "detail")
    for row in db.execute(f"SELECT {', '.join(columns)} FROM audit_log ORDER BY id").fetchall():
        previous = row_hash(previous, dict(zip(columns, row, strict=True)))
        db.execute("UPDATE audit_log SET hash = ? WHERE id = ?", [previous, row[0]])


@evidence_migrations()
def m009_qa_action_client_uuid(db: Database) -> None:
    """Give QA actions the client uuid of the form or API call that made them.

    A retried Accept (a double click, a client retrying after a timeout)
    carries the same uuid and is answered from the stored action instead of
    adding a second QA row and audit row. Older actions, and the submit
    recorded with a finding, have none (NULL: the unique index allows many).
    """
    db.executescript(
        """
        ALTER TABLE qa_actions ADD COLUMN client_uuid TEXT CHECK (client_uuid IS NULL OR length(client_uuid) = 36);
        CREATE UNIQUE INDEX idx_qa_actions_client_uuid ON qa_actions(client_uuid);
        """
    )


@evidence_migrations()
def m010_review_set_up(db: Database) -> None:
    """A review's own strands, and agencies that can be retired.

    ``review_strands`` lists the strands taking part in each review, so the
    coverage matrix, the forms and the exports take the review's strands
    rather than every strand in the store. Reviews made before this step get
    the strands of their inspectors and agencies (all strands when they have
    none). ``agencies.retired_at`` hides an agency from new records while its
    old ones keep pointing at it.
    """
    db.executescript(
        """
        CREATE TABLE review_strands (
            review_id INTEGER NOT NULL REFERENCES reviews(id),
            strand_id INTEGER NOT NULL REFERENCES strands(id),
            PRIMARY KEY (review_id, strand_id)
        );
        CREATE INDEX idx_review_strands_strand ON review_strands(strand_id);
        ALTER TABLE agencies ADD COLUMN retired_at TEXT;
        """
    )
    for (review_id,) in db.execute("SELECT id FROM reviews").fetchall():
        used = db.execute(
            "SELECT strand_id FROM inspectors WHERE review_id = ? UNION SELECT lead_strand_id FROM agencies"
            " WHERE review_id = ?", [review_id, review_id]).fetchall() or db.execute("SELECT id FROM strands").fetchall()
        db.conn.executemany("INSERT OR IGNORE INTO review_strands (review_id, strand_id) VALUES (?, ?)",
                            [(review_id, strand_id) for (strand_id,) in used])


@private_migrations()
def p003_account_administration(db: Database) -> None:
    """What an administrator needs to run accounts: the last
    sign-in, and one-time password-reset codes (only their sha256 is kept;
    each expires and is used at most once)."""
    db.executescript(
        """
        ALTER TABLE accounts ADD COLUMN last_sign_in_at TEXT;
        CREATE TABLE password_resets (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id),
            code_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE INDEX idx_password_resets_account ON password_resets(account_id);
        """
    )


@evidence_migrations()
def m011_audit_redaction(db: Database) -> None:
    """Audit rows of a purged review keep who/when/what but lose their content
    (:mod:`inspect_kit.purge`): ``redacted_by`` names the purge
    certificate's audit row, which carries a digest of every redacted row's
    outline and hash, so ``inspect-kit verify`` still checks the chain."""
    db.execute("ALTER TABLE audit_log ADD COLUMN redacted_by INTEGER")


@private_migrations()
def p004_replication(db: Database) -> None:
    """Where Litestream replicates the store to (:mod:`inspect_kit.replication`):
    one row at most. In ``private.db`` because an S3 target carries a secret key."""
    db.executescript(
        """
        CREATE TABLE replication (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            kind TEXT NOT NULL CHECK (kind IN ('file', 's3')),
            location TEXT NOT NULL,
            endpoint TEXT,
            region TEXT,
            access_key_id TEXT,
            secret_access_key TEXT,
            configured_at TEXT NOT NULL
        );
        """
    )


@evidence_migrations()
def m012_coverage_of_the_review_strands(db: Database) -> None:
    """The criterion × strand coverage takes the review's strands taking part
    rather than only the strands that have inspectors: a strand taking part
    with no evidence yet is an empty cell to see, probation and education too."""
    db.execute("DROP VIEW criterion_strand_coverage")
    db.executescript(
        f"""
        CREATE VIEW criterion_strand_coverage AS
        {_CELLS_OF_REVIEW_STRANDS}
        {_EVIDENCE_FROM_FINDINGS}
        {_COVERAGE_SELECT};
        """
    )


# The coverage cells' counts, kept by triggers (m013_coverage_aggregate). One
# row per (criterion, strand, inspector, agency) with the number of findings
# not withdrawn that link them; 0 stands for "no agency". A few thousand rows
# in a large review, however many findings it holds.
COVERAGE_TRIGGERS = """
CREATE TRIGGER ik_coverage_link_insert AFTER INSERT ON finding_criteria BEGIN
    INSERT INTO coverage_counts (criterion_id, strand_id, inspector_id, agency_id, findings)
    SELECT new.criterion_id, f.strand_id, f.inspector_id, coalesce(f.agency_id, 0), 1
    FROM findings f WHERE f.id = new.finding_id AND f.qa_status != 'withdrawn'
    ON CONFLICT DO UPDATE SET findings = findings + 1;
END;
CREATE TRIGGER ik_coverage_link_delete AFTER DELETE ON finding_criteria BEGIN
    UPDATE coverage_counts SET findings = findings - 1
    WHERE (criterion_id, strand_id, inspector_id, agency_id) IN (
        SELECT old.criterion_id, f.strand_id, f.inspector_id, coalesce(f.agency_id, 0)
        FROM findings f WHERE f.id = old.finding_id AND f.qa_status != 'withdrawn');
END;
CREATE TRIGGER ik_coverage_link_update AFTER UPDATE OF finding_id, criterion_id ON finding_criteria BEGIN
    UPDATE coverage_counts SET findings = findings - 1
    WHERE (criterion_id, strand_id, inspector_id, agency_id) IN (
        SELECT old.criterion_id, f.strand_id, f.inspector_id, coalesce(f.agency_id, 0)
        FROM findings f WHERE f.id = old.finding_id AND f.qa_status != 'withdrawn');
    INSERT INTO coverage_counts (criterion_id, strand_id, inspector_id, agency_id, findings)
    SELECT new.criterion_id, f.strand_id, f.inspector_id, coalesce(f.agency_id, 0), 1
    FROM findings f WHERE f.id = new.finding_id AND f.qa_status != 'withdrawn'
    ON CONFLICT DO UPDATE SET findings = findings + 1;
END;
CREATE TRIGGER ik_coverage_finding_update
AFTER UPDATE OF qa_status, strand_id, inspector_id, agency_id ON findings
WHEN (old.qa_status = 'withdrawn') IS NOT (new.qa_status = 'withdrawn') OR old.strand_id IS NOT new.strand_id
     OR old.inspector_id IS NOT new.inspector_id OR old.agency_id IS NOT new.agency_id
BEGIN
    UPDATE coverage_counts SET findings = findings - 1
    WHERE old.qa_status != 'withdrawn' AND strand_id = old.strand_id AND inspector_id = old.inspector_id
      AND agency_id = coalesce(old.agency_id, 0)
      AND criterion_id IN (SELECT criterion_id FROM finding_criteria WHERE finding_id = old.id);
    INSERT INTO coverage_counts (criterion_id, strand_id, inspector_id, agency_id, findings)
    SELECT fc.criterion_id, new.strand_id, new.inspector_id, coalesce(new.agency_id, 0), 1
    FROM finding_criteria fc WHERE fc.finding_id = new.id AND new.qa_status != 'withdrawn'
    ON CONFLICT DO UPDATE SET findings = findings + 1;
END;
CREATE TRIGGER ik_coverage_finding_delete BEFORE DELETE ON findings BEGIN
    DELETE FROM finding_criteria WHERE finding_id = old.id;
END;
"""
COVERAGE_TRIGGER_NAMES = ("ik_coverage_link_insert", "ik_coverage_link_delete", "ik_coverage_link_update",
                          "ik_coverage_finding_update", "ik_coverage_finding_delete")


def rebuild_coverage_counts(db: Database) -> None:
    """Count the coverage cells afresh from findings and their criteria, and put
    the triggers that keep them back (after a bulk load that dropped them)."""
    for name in COVERAGE_TRIGGER_NAMES:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    db.execute("DELETE FROM coverage_counts")
    db.execute("""
        INSERT INTO coverage_counts (criterion_id, strand_id, inspector_id, agency_id, findings)
        SELECT fc.criterion_id, f.strand_id, f.inspector_id, coalesce(f.agency_id, 0), count(*)
        FROM finding_criteria fc JOIN findings f ON f.id = fc.finding_id
        WHERE f.qa_status != 'withdrawn'
        GROUP BY 1, 2, 3, 4""")
    # One statement at a time (executescript would commit the caller's transaction).
    for statement in COVERAGE_TRIGGERS.split("\nEND;"):
        if statement.strip():
            db.execute(statement.strip() + "\nEND")


@evidence_migrations()
def m013_coverage_aggregate(db: Database) -> None:
    """The coverage matrix from a table kept by triggers.

    Question 6 (``criterion_strand_coverage``) joined every criteria link to
    its finding and counted distinct inspectors and agencies per cell: 1.9-2.2 s
    on 1,000,000 findings (2,500,000 links). ``coverage_counts`` holds one row
    per (criterion, strand, inspector, agency) with its count of findings not
    withdrawn, kept by triggers on ``findings`` and ``finding_criteria``; the
    view now reads that, a few thousand rows. Measured by bench/datasette.py.
    """
    db.execute("""
        CREATE TABLE coverage_counts (
            criterion_id INTEGER NOT NULL,
            strand_id INTEGER NOT NULL,
            inspector_id INTEGER NOT NULL,
            agency_id INTEGER NOT NULL,
            findings INTEGER NOT NULL,
            PRIMARY KEY (criterion_id, strand_id, inspector_id, agency_id)
        ) WITHOUT ROWID""")
    rebuild_coverage_counts(db)
    db.execute("DROP VIEW criterion_strand_coverage")
    db.execute(f"""
        CREATE VIEW criterion_strand_coverage AS
        {_CELLS_OF_REVIEW_STRANDS}
        evidence AS (
            SELECT criterion_id, strand_id, sum(findings) AS findings,
                   count(DISTINCT inspector_id) AS inspectors,
                   count(DISTINCT nullif(agency_id, 0)) AS agencies
            FROM coverage_counts
            WHERE findings > 0
            GROUP BY criterion_id, strand_id
        )
        {_COVERAGE_SELECT}""")


IDENTIFIER_TRIGGER_NAMES = ("ik_identifier_flags_insert", "ik_identifier_flags_update")


def _identifier_triggers() -> list[str]:

    def flag(row: str) -> str:
        text = f"({row}.evidence_text || ' | ' || coalesce({row}.evaluation_text, ''))"
        return (f"INSERT INTO identifier_flags (finding_id, patterns) SELECT {row}.id, patterns"
                f" FROM (SELECT {identifier_patterns_sql(text)} AS patterns) WHERE patterns != '';")

    return [
        f"CREATE TRIGGER ik_identifier_flags_insert AFTER INSERT ON findings BEGIN {flag('new')} END",
        "CREATE TRIGGER ik_identifier_flags_update AFTER UPDATE OF evidence_text, evaluation_text ON findings BEGIN"
        f" DELETE FROM identifier_flags WHERE finding_id = old.id; {flag('new')} END",
    ]


def rebuild_identifier_flags(db: Database) -> None:
    """Flag every finding afresh and put the triggers that keep the flags back
    (after a bulk load that dropped them)."""
    for name in IDENTIFIER_TRIGGER_NAMES:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    db.execute("DELETE FROM identifier_flags")
    text = "(evidence_text || ' | ' || coalesce(evaluation_text, ''))"
    db.execute(f"INSERT INTO identifier_flags (finding_id, patterns) SELECT id, patterns FROM"
               f" (SELECT id, {identifier_patterns_sql(text)} AS patterns FROM findings) WHERE patterns != ''")
    for statement in _identifier_triggers():
        db.execute(statement)


@evidence_migrations()
def m014_identifier_flags(db: Database) -> None:
    """The identifier check (question 13) from flags kept by triggers.

    The question matched eleven GLOB patterns against every finding's text on
    each run: 0.8 s at 20,000 findings, 10 s at 1,000,000. ``identifier_flags``
    holds the names of the patterns each flagged finding matches (most have
    none and no row), set by triggers when a finding's text is written, with
    the same SQL the question used (:func:`inspect_kit.identifiers.identifier_patterns_sql`).
    """
    db.execute("""
        CREATE TABLE identifier_flags (
            finding_id INTEGER PRIMARY KEY REFERENCES findings(id) ON DELETE CASCADE,
            patterns TEXT NOT NULL
        )""")
    rebuild_identifier_flags(db)


@evidence_migrations()
def m015_finding_events(db: Database) -> None:
    """Findings cite the chronology events they rest on (``finding_events``), and
    ``finding_event_links`` reads each link with names: the finding's public id,
    strand and QA status beside the event's case, date, agency and type.

    The library keeps both ends in one review and one case (the finding's):
    :func:`inspect_kit.findings.normalise` refuses anything else. The index on
    ``event_id`` answers "which findings cite this event" for a case page.
    Each join is a primary-key look-up per link (EXPLAIN QUERY PLAN); the
    view has no default sort, which would sort every link on each page.
    """
    db.executescript(
        f"""
        CREATE TABLE finding_events (
            finding_id INTEGER NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
            event_id INTEGER NOT NULL REFERENCES chronology_events(id),
            PRIMARY KEY (finding_id, event_id)
        );
        CREATE INDEX idx_finding_events_event ON finding_events(event_id);

        CREATE VIEW finding_event_links AS
        SELECT finding_events.finding_id, findings.public_id, strands.code AS strand, findings.finding_type,
               findings.qa_status, finding_events.event_id, cases.case_ref, chronology_events.event_date,
               agencies.name AS agency,
               {_label_sql('chronology_events.event_type', vocab.EVENT_TYPES)} AS event,
               chronology_events.description, chronology_events.key_event, chronology_events.missed_opportunity,
               chronology_events.good_practice
        FROM finding_events
        LEFT JOIN findings ON findings.id = finding_events.finding_id
        LEFT JOIN strands ON strands.id = findings.strand_id
        LEFT JOIN chronology_events ON chronology_events.id = finding_events.event_id
        LEFT JOIN cases ON cases.id = chronology_events.case_id
        LEFT JOIN agencies ON agencies.id = chronology_events.agency_id;
        """
    )


# ----------------------------------------------------------------- the lead's questions at scale

# Contacts where a professional saw the child or family (questions 3, 5).
CONTACT_EVENT_TYPES = (
    "ed_attendance", "gp_appointment", "home_visit", "child_seen_alone", "medical_examination",
    "clinic_appointment", "health_visit", "school_contact", "hospital_admission", "police_incident",
    "assessment",
)
# Events that pass a concern on to another agency (questions 3, 12).
SHARING_EVENT_TYPES = ("information_shared", "referral", "strategy_discussion", "s47_enquiry", "conference")
# Events in which the child was seen by a professional (question 5).
CHILD_SEEN_EVENT_TYPES = ("home_visit", "child_seen_alone", "health_visit", "clinic_appointment",
                          "medical_examination", "gp_appointment", "school_contact")
# Question 3 answered from case_contacts when its parameters are left at these.
CONTACTS_DEFAULT_WITHIN_DAYS = 7
CONCERN_FINDING_TYPES = ("area_for_improvement", "serious_weakness")


def _partner_present(partner: str, agency_types: tuple[str, ...], words: tuple[str, ...],
                     events: str = "chronology_events", agencies: str = "agencies") -> str:
    """SQL: the partner recorded the event, or the account names it without saying it was absent."""
    named = " OR ".join(f"lower({events}.description) LIKE '%{word}%'" for word in words)
    absent = " OR ".join(
        f"lower({events}.description) LIKE '{pattern}'"
        for pattern in (f"%without {partner}%", f"%{partner} not %", f"%{partner} was not%",
                        f"%{partner} were not%", f"%no {partner}%", f"%{partner} absent%")
    )
    return f"({agencies}.agency_type IN {sql_in(agency_types)} OR (({named}) AND NOT ({absent})))"


PARTNERS = {
    "social_care": ("social care", SOCIAL_CARE_AGENCY_TYPES, ("social care", "social worker", "mash")),
    "police": ("police", POLICE_AGENCY_TYPES, ("police", "cait", "detective")),
    "health": ("health", HEALTH_AGENCY_TYPES, ("health", "paediatrician", "doctor", "nurse", "midwife")),
}


def _carried_forward(column: str) -> str:
    """SQL: present at this meeting (question 4), or (for an s47 enquiry) at a strategy discussion up to 14 days before.

    The earlier discussion is looked up through the (case_id, event_date) index.
    """
    partner, agency_types, words = PARTNERS[column]
    earlier = _partner_present(partner, agency_types, words, events="earlier", agencies="earlier_agency")
    return (
        f"max(meetings.{column}, meetings.event_type = 's47_enquiry' AND EXISTS ("
        f"SELECT 1 FROM chronology_events AS earlier JOIN agencies AS earlier_agency"
        f" ON earlier_agency.id = earlier.agency_id"
        f" WHERE earlier.case_id = meetings.case_id"
        f" AND earlier.event_date BETWEEN date(meetings.event_date, '-14 days') AND meetings.event_date"
        f" AND earlier.event_type = 'strategy_discussion' AND {earlier}))"
    )


def contacts_sql(where: str, within_days: str) -> str:
    """SQL: question 3's contacts (every column of the event) meeting ``where``, each with
    ``followed_by_sharing``: the same agency shared, referred or met about the child
    within ``within_days`` (an SQL expression) on or after the contact."""
    return f"""SELECT chronology_events.*,
         EXISTS (
           SELECT 1 FROM chronology_events AS shared
           WHERE shared.case_id = chronology_events.case_id
             AND shared.agency_id = chronology_events.agency_id
             AND shared.event_type IN {sql_in(SHARING_EVENT_TYPES)}
             AND shared.event_date >= chronology_events.event_date
             AND julianday(shared.event_date) - julianday(chronology_events.event_date) <= {within_days}
         ) AS followed_by_sharing
  FROM chronology_events
  WHERE chronology_events.event_type IN {sql_in(CONTACT_EVENT_TYPES)} AND {where}"""


def _case_refresh(cases: str) -> list[str]:
    """SQL statements recomputing the per-case answers of questions 3, 4, 5 and 11
    for the cases in ``cases`` (a parenthesised list or subquery of case ids).

    Each is the question's own SQL restricted to those cases, so a trigger and a
    rebuild from scratch give the same rows.
    """
    seen_types = sql_in(CHILD_SEEN_EVENT_TYPES)
    return [
        # Question 5: how often and how regularly each child was seen.
        f"DELETE FROM case_seen WHERE case_id IN {cases}",
        f"""INSERT INTO case_seen (case_id, times_seen_alone, last_seen, longest_gap_days)
        SELECT case_id, sum(event_type = 'child_seen_alone'), max(event_date), CAST(max(gap) AS INTEGER)
        FROM (SELECT case_id, event_date, event_type,
                     julianday(event_date) - julianday(lag(event_date) OVER (
                       PARTITION BY case_id ORDER BY event_date)) AS gap
              FROM chronology_events WHERE case_id IN {cases} AND event_type IN {seen_types})
        GROUP BY case_id""",
        # Question 11: for each event, the nearest later-recorded event of the same
        # kind for the same child by another agency (days apart).
        f"DELETE FROM contested_candidates WHERE case_id IN {cases}",
        f"""INSERT INTO contested_candidates (event_id, case_id, days)
        SELECT first.id, first.case_id, min(abs(julianday(second.event_date) - julianday(first.event_date)))
        -- Both through the (case_id, event_date) index, the child's events paired among
        -- themselves; left to itself SQLite paired each event with every earlier one of its kind.
        FROM chronology_events AS first INDEXED BY idx_chronology_case_date
        CROSS JOIN chronology_events AS second INDEXED BY idx_chronology_case_date
          ON second.case_id = first.case_id AND second.event_type = first.event_type
         AND second.agency_id != first.agency_id AND second.id > first.id
        WHERE first.case_id IN {cases}
        GROUP BY first.id""",
        # Question 4: the statutory partners at each strategy discussion and s47 enquiry.
        f"DELETE FROM meeting_partners WHERE case_id IN {cases}",
        f"""INSERT INTO meeting_partners (event_id, case_id, event_date, social_care, police, health)
        WITH meetings AS (
          SELECT chronology_events.id, chronology_events.case_id, chronology_events.event_date,
                 chronology_events.event_type,
                 {_partner_present(*PARTNERS['social_care'])} AS social_care,
                 {_partner_present(*PARTNERS['police'])} AS police,
                 {_partner_present(*PARTNERS['health'])} AS health
          FROM chronology_events
          JOIN agencies ON agencies.id = chronology_events.agency_id
          WHERE chronology_events.case_id IN {cases}
            AND chronology_events.event_type IN ('strategy_discussion', 's47_enquiry')
        )
        SELECT meetings.id, meetings.case_id, meetings.event_date, {_carried_forward('social_care')},
               {_carried_forward('police')}, {_carried_forward('health')}
        FROM meetings""",
        # Question 3 at its default parameters (the whole period, shared within 7 days).
        f"DELETE FROM case_contacts WHERE case_id IN {cases}",
        f"""INSERT INTO case_contacts (case_id, review_id, contacts, agencies, unshared, unshared_contacts)
        WITH contacts AS MATERIALIZED (
          {contacts_sql(f"chronology_events.case_id IN {cases}", str(CONTACTS_DEFAULT_WITHIN_DAYS))}
          ORDER BY chronology_events.event_type, chronology_events.id
        )
        SELECT contacts.case_id, contacts.review_id, count(*), count(DISTINCT contacts.agency_id),
               sum(NOT contacts.followed_by_sharing),
               group_concat(CASE WHEN NOT contacts.followed_by_sharing
                                 THEN contacts.event_date || ' ' || agencies.name || ': ' || contacts.event_type END,
                            '; ')
        FROM contacts
        JOIN agencies ON agencies.id = contacts.agency_id
        GROUP BY contacts.case_id, contacts.review_id""",
    ]


def _concern_refresh(cases: str) -> list[str]:
    """SQL statements recomputing question 1's per-case row for the cases in ``cases``."""
    return [
        f"DELETE FROM case_concerns WHERE case_id IN {cases}",
        f"""INSERT INTO case_concerns (case_id, review_id, strands, agencies, concerns, serious_weaknesses,
                                       negative_impact, strand_codes, agency_names)
        SELECT findings.case_id, findings.review_id, count(DISTINCT findings.strand_id),
               count(DISTINCT findings.agency_id), count(*), sum(findings.finding_type = 'serious_weakness'),
               sum(findings.impact_on_child = 'negative'), group_concat(DISTINCT strands.code),
               group_concat(DISTINCT agencies.name)
        FROM findings INDEXED BY idx_findings_case  -- each case's findings in id order, as the question reads them
        JOIN strands ON strands.id = findings.strand_id
        LEFT JOIN agencies ON agencies.id = findings.agency_id
        WHERE findings.case_id IN {cases}
          AND findings.qa_status != 'withdrawn'
          AND (findings.finding_type IN {sql_in(CONCERN_FINDING_TYPES)} OR findings.impact_on_child = 'negative')
        GROUP BY findings.case_id, findings.review_id""",
    ]


def _waiting_refresh(finding_ids: str) -> list[str]:
    """SQL statements recomputing question 7's row for the findings in ``finding_ids``:
    the day a finding submitted or returned has waited since (its last QA action)."""
    return [
        f"DELETE FROM qa_waiting WHERE finding_id IN {finding_ids}",
        f"""INSERT INTO qa_waiting (finding_id, review_id, inspector_id, qa_status, since)
        SELECT findings.id, findings.review_id, findings.inspector_id, findings.qa_status,
               substr(coalesce((SELECT max(qa_actions.at) FROM qa_actions WHERE qa_actions.finding_id = findings.id),
                               findings.submitted_at, findings.updated_at), 1, 10)
        FROM findings
        WHERE findings.id IN {finding_ids} AND findings.qa_status IN ('submitted', 'returned')""",
    ]


def _balance_change(row: str, sign: str) -> list[str]:
    """Question 8's counts for one finding (``row``: new or old) added (sign ``+``) or taken away (``-``):
    by agency from the finding itself, by criterion from its criteria links. Counts that
    reach 0 go (a purged review leaves no row naming it)."""
    return [
        f"""INSERT INTO balance_by_agency (review_id, strand_id, agency_id, finding_type, findings)
        SELECT {row}.review_id, {row}.strand_id, coalesce({row}.agency_id, 0), {row}.finding_type, {sign}1
        WHERE {row}.qa_status != 'withdrawn'
        ON CONFLICT DO UPDATE SET findings = findings {sign} 1""",
        f"""INSERT INTO balance_by_criterion (review_id, strand_id, criterion_id, finding_type, findings)
        SELECT {row}.review_id, {row}.strand_id, fc.criterion_id, {row}.finding_type, {sign}1
        FROM finding_criteria fc WHERE fc.finding_id = {row}.id AND {row}.qa_status != 'withdrawn'
        ON CONFLICT DO UPDATE SET findings = findings {sign} 1""",
        *([f"DELETE FROM balance_by_agency WHERE review_id = {row}.review_id AND findings = 0",
           f"DELETE FROM balance_by_criterion WHERE review_id = {row}.review_id AND findings = 0"] if sign == "-" else []),
    ]


def _link_change(row: str, sign: str) -> list[str]:
    """Question 8's by-criterion count for one criteria link (``row``: new or old)."""
    return [f"""INSERT INTO balance_by_criterion (review_id, strand_id, criterion_id, finding_type, findings)
        SELECT f.review_id, f.strand_id, {row}.criterion_id, f.finding_type, {sign}1
        FROM findings f WHERE f.id = {row}.finding_id AND f.qa_status != 'withdrawn'
        ON CONFLICT DO UPDATE SET findings = findings {sign} 1"""] + (
        ["DELETE FROM balance_by_criterion WHERE findings = 0 AND criterion_id = old.criterion_id"] if sign == "-" else [])


def _trigger(name: str, when: str, statements: list[str]) -> str:
    return f"CREATE TRIGGER {name} {when} BEGIN\n" + ";\n".join(statements) + ";\nEND"


def _question_triggers() -> dict[str, str]:
    """The triggers keeping the question aggregates, by name."""
    events_of_agency = "(SELECT DISTINCT case_id FROM chronology_events WHERE agency_id = new.id)"
    finding_columns = "review_id, case_id, strand_id, agency_id, inspector_id, qa_status, finding_type, " \
                      "impact_on_child, submitted_at, updated_at"
    return {
        "ik_questions_event_insert": _trigger(
            "ik_questions_event_insert", "AFTER INSERT ON chronology_events", _case_refresh("(new.case_id)")),
        "ik_questions_event_delete": _trigger(
            "ik_questions_event_delete", "AFTER DELETE ON chronology_events", _case_refresh("(old.case_id)")),
        "ik_questions_event_update": _trigger(
            "ik_questions_event_update",
            "AFTER UPDATE OF review_id, case_id, agency_id, event_date, event_type, description ON chronology_events",
            _case_refresh("(old.case_id, new.case_id)")),
        "ik_questions_agency_update": _trigger(
            "ik_questions_agency_update", "AFTER UPDATE OF name, agency_type ON agencies",
            _case_refresh(events_of_agency)
            + _concern_refresh("(SELECT DISTINCT case_id FROM findings WHERE agency_id = new.id)")),
        "ik_questions_strand_update": _trigger(
            "ik_questions_strand_update", "AFTER UPDATE OF code ON strands",
            _concern_refresh("(SELECT DISTINCT case_id FROM findings WHERE strand_id = new.id)")),
        "ik_questions_finding_insert": _trigger(
            "ik_questions_finding_insert", "AFTER INSERT ON findings",
            _concern_refresh("(new.case_id)") + _waiting_refresh("(new.id)") + _balance_change("new", "+")),
        "ik_questions_finding_delete": _trigger(
            "ik_questions_finding_delete", "AFTER DELETE ON findings",
            _concern_refresh("(old.case_id)") + _waiting_refresh("(old.id)")
            # Its links went before it (ik_coverage_finding_delete): the by-agency count only.
            + [statement for statement in _balance_change("old", "-") if "balance_by_criterion (" not in statement]),
        "ik_questions_finding_update": _trigger(
            "ik_questions_finding_update", f"AFTER UPDATE OF {finding_columns} ON findings",
            _concern_refresh("(old.case_id, new.case_id)") + _waiting_refresh("(old.id, new.id)")
            + _balance_change("old", "-") + _balance_change("new", "+")),
        "ik_questions_link_insert": _trigger(
            "ik_questions_link_insert", "AFTER INSERT ON finding_criteria", _link_change("new", "+")),
        "ik_questions_link_delete": _trigger(
            "ik_questions_link_delete", "AFTER DELETE ON finding_criteria", _link_change("old", "-")),
        "ik_questions_link_update": _trigger(
            "ik_questions_link_update", "AFTER UPDATE OF finding_id, criterion_id ON finding_criteria",
            _link_change("old", "-") + _link_change("new", "+")),
        "ik_questions_qa_insert": _trigger(
            "ik_questions_qa_insert", "AFTER INSERT ON qa_actions", _waiting_refresh("(new.finding_id)")),
        "ik_questions_qa_delete": _trigger(
            "ik_questions_qa_delete", "AFTER DELETE ON qa_actions", _waiting_refresh("(old.finding_id)")),
        "ik_questions_qa_update": _trigger(
            "ik_questions_qa_update", "AFTER UPDATE OF finding_id, at ON qa_actions",
            _waiting_refresh("(old.finding_id, new.finding_id)")),
    }


QUESTION_TRIGGER_NAMES = tuple(_question_triggers())


def rebuild_question_aggregates(db: Database) -> None:
    """Compute the question aggregates afresh and put the triggers that keep them
    back (after a bulk load that dropped them). Run inside a write transaction."""
    for name in QUESTION_TRIGGER_NAMES:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("case_seen", "meeting_partners", "contested_candidates", "case_contacts", "case_concerns", "qa_waiting",
                  "balance_by_agency", "balance_by_criterion"):
        db.execute(f"DELETE FROM {table}")
    every_case = "(SELECT id FROM cases)"
    for statement in (*_case_refresh(every_case), *_concern_refresh(every_case),
                      *_waiting_refresh("(SELECT id FROM findings WHERE qa_status IN ('submitted', 'returned'))")):
        if not statement.startswith("DELETE"):
            db.execute(statement)
    db.execute("""
        INSERT INTO balance_by_agency (review_id, strand_id, agency_id, finding_type, findings)
        SELECT review_id, strand_id, coalesce(agency_id, 0), finding_type, count(*) FROM findings
        WHERE qa_status != 'withdrawn' GROUP BY 1, 2, 3, 4""")
    db.execute("""
        INSERT INTO balance_by_criterion (review_id, strand_id, criterion_id, finding_type, findings)
        SELECT f.review_id, f.strand_id, fc.criterion_id, f.finding_type, count(*)
        FROM finding_criteria fc JOIN findings f ON f.id = fc.finding_id
        WHERE f.qa_status != 'withdrawn' GROUP BY 1, 2, 3, 4""")
    for statement in _question_triggers().values():
        db.execute(statement)


@evidence_migrations()
def m016_question_aggregates(db: Database) -> None:
    """The lead's slow questions from tables kept by triggers (each under 0.5 s at 1,000,000 findings).

    At 1,000,000 findings and 1,500,000 events, questions that group every
    finding or event before sorting on the groups took 1-15 s. Each table holds
    a question's groups, recomputed for the one case, finding or count a write
    touches, with the question's own SQL (see :func:`_case_refresh` and the
    question's comment for the figures):

    - ``case_concerns``: question 1's row per case;
    - ``case_contacts``: question 3's row per case at its default parameters;
    - ``meeting_partners``: question 4's partners at each strategy discussion and s47 enquiry;
    - ``case_seen``: question 5's times seen alone, last seen and longest gap per case;
    - ``qa_waiting``: question 7's waiting findings, with the day each waits since;
    - ``balance_by_agency``, ``balance_by_criterion``: question 8's counts;
    - ``contested_candidates``: question 11's events with another agency's event of
      the same kind for the same child, and how many days apart.
    """
    db.executescript("""
        CREATE TABLE case_seen (
            case_id INTEGER PRIMARY KEY,
            times_seen_alone INTEGER NOT NULL,
            last_seen TEXT,
            longest_gap_days INTEGER
        );
        CREATE TABLE meeting_partners (
            event_id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL,
            event_date TEXT NOT NULL,
            social_care INTEGER NOT NULL,
            police INTEGER NOT NULL,
            health INTEGER NOT NULL
        );
        CREATE INDEX idx_meeting_partners_case ON meeting_partners(case_id, event_date);
        CREATE TABLE contested_candidates (
            event_id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL,
            days REAL NOT NULL
        );
        CREATE INDEX idx_contested_candidates_case ON contested_candidates(case_id);
        CREATE INDEX idx_contested_candidates_days ON contested_candidates(days);
        CREATE TABLE case_contacts (
            case_id INTEGER NOT NULL,
            review_id INTEGER NOT NULL,
            contacts INTEGER NOT NULL,
            agencies INTEGER NOT NULL,
            unshared INTEGER NOT NULL,
            unshared_contacts TEXT,
            PRIMARY KEY (case_id, review_id)
        ) WITHOUT ROWID;
        CREATE INDEX idx_case_contacts_order ON case_contacts(review_id, unshared DESC, contacts DESC);
        CREATE TABLE case_concerns (
            case_id INTEGER NOT NULL,
            review_id INTEGER NOT NULL,
            strands INTEGER NOT NULL,
            agencies INTEGER NOT NULL,
            concerns INTEGER NOT NULL,
            serious_weaknesses INTEGER NOT NULL,
            negative_impact INTEGER NOT NULL,
            strand_codes TEXT,
            agency_names TEXT,
            PRIMARY KEY (case_id, review_id)
        ) WITHOUT ROWID;
        CREATE INDEX idx_case_concerns_order ON case_concerns(review_id, strands DESC, agencies DESC, concerns DESC);
        CREATE TABLE qa_waiting (
            finding_id INTEGER PRIMARY KEY,
            review_id INTEGER NOT NULL,
            inspector_id INTEGER NOT NULL,
            qa_status TEXT NOT NULL,
            since TEXT
        );
        CREATE INDEX idx_qa_waiting_group ON qa_waiting(review_id, inspector_id, qa_status, since);
        CREATE TABLE balance_by_agency (
            review_id INTEGER NOT NULL,
            strand_id INTEGER NOT NULL,
            agency_id INTEGER NOT NULL,
            finding_type TEXT NOT NULL,
            findings INTEGER NOT NULL,
            PRIMARY KEY (review_id, strand_id, agency_id, finding_type)
        ) WITHOUT ROWID;
        CREATE TABLE balance_by_criterion (
            review_id INTEGER NOT NULL,
            strand_id INTEGER NOT NULL,
            criterion_id INTEGER NOT NULL,
            finding_type TEXT NOT NULL,
            findings INTEGER NOT NULL,
            PRIMARY KEY (review_id, strand_id, criterion_id, finding_type)
        ) WITHOUT ROWID;
    """)
    rebuild_question_aggregates(db)


@evidence_migrations()
def m017_findings_by_strand_and_date(db: Database) -> None:
    """An inspector's "findings of my strand" (newest first) walks this index and
    stops at the page Datasette reads, instead of sorting the whole strand: 5.7 s
    to 56-105 ms for the first 1,001 rows of 260,000 on 1,000,000 findings (load ~9
    on 2 shared cores)."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_findings_strand_collected ON findings(strand_id, collected_on)")
