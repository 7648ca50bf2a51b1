"""Who may see and do what: the one access policy of inspect_kit.

Every shell asks this module: the intake app's views and navigation, the JSON
API, the Datasette plugin and the ``allow`` blocks of its generated metadata,
the Excel exports and the command line. Roles and permissions are data
(:data:`ROLE_PERMISSIONS`); the rest are small predicates over an
:class:`~inspect_kit.actors.Actor` (or ``None`` for an anonymous visitor) and a
record. Nothing here knows Flask, Datasette or click.

The product's access table (the rows are roles, the cells what each may do):

=================  =====================  ============  ============  ==========  ============  ===========  ========
who                findings + versions,   case          safeguarding  judgements  audit log     set-up and   SQL in
                   attachments, QA        chronologies  alerts                                accounts     Datasette
=================  =====================  ============  ============  ==========  ============  ===========  ========
anonymous          –                      –             –             –           –             –            –
inspector (S)      read S's; write own;   read all;     read all;     –           –             –            –
                   resubmit/withdraw own  write         raise
lead               read all; write own;   read all;     read all;     propose,    read all      review       yes
                   QA; never edit         write         raise;        cite                      status
                                                        progress
                   others' text
moderator          read all; QA; never    read all      read all      moderate    read all      –            yes
                   edit others' text
admin              –                      –             –             –           who/when/     all          –
                                                                                  what only
=================  =====================  ============  ============  ==========  ============  ===========  ========

Why the cells are what they are:

- **Inspectors share chronologies and alerts.** An inspector works a child's
  case alongside the other strands: the merged chronology is the common ground
  of a joint inspection, and a child found at risk must be seen by everyone on
  the review at once. So every inspector reads every case's chronology and
  every safeguarding alert, writes chronology events and raises alerts.
- **Raw evidence stays in its strand until the lead cross-reads it.** A
  finding is one inspectorate's working evidence; inspectors read their own
  strand's findings (with versions, attachments and QA history), the lead and
  the moderator read every strand's. Nobody edits another inspector's text:
  QA accepts or returns it with a comment.
- **Administrators run the system, not the inspection.** They set up the
  review (agencies, inspectors, the case list) and the accounts, and read the
  audit log as who/when/what without the before/after content; they see no
  finding, chronology, alert or judgement.
- **Leads progress alerts, moderators moderate.** A lead refers, records the
  response to and closes an alert (and raises one: a lead who finds a child at
  risk while cross-reading must not wait for an inspector to do it), proposes and cites judgements and sets the
  review's status; a moderator quality-assures and moderates grades but
  neither writes the chronology nor moves alerts.
- **File paths of the store are shown to leads only** (Datasette's
  ``/-/databases``, ``/-/plugins``, ``/-/threads``), and SQL in Datasette is
  for leads and moderators, who may read every table anyway.
- **No one sees another review's anything.** Every read is scoped to the
  request's review where a shell has one (a finding of another review is a
  404 for every caller). The request's review is the one the account chose
  among those it is an inspector of (:func:`inspect_kit.roster.chosen_review`;
  administrators may choose any). Datasette follows the same choice: its
  table, row, facet and export pages and its questions keep to the chosen
  review, and SQL (which reads the whole file) is only for those who may open
  every review in the store (:func:`datasette_sql_role`).

Where the places that decided access before this module disagreed, the table
above won: administrators no longer read chronologies in the intake app,
inspectors now read alerts in Datasette, moderators no longer write chronology
events, progress alerts or propose judgements, and leads and moderators no
longer attach files to, or withdraw, other inspectors' findings.

The terminal: commands run at the command line without ``--as USERNAME`` act
as the :data:`SYSTEM_ROLE`, with every permission, because whoever can run
them can open ``evidence.db`` with ``sqlite3`` anyway; ``--as USERNAME`` gives
that account's rights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .actors import Actor

# --------------------------------------------------------------- the data

ROLES: tuple[str, ...] = ("inspector", "lead", "moderator", "admin")
"""The roles an account may have, in the order the access table lists them."""

SYSTEM_ROLE = "system"
"""The operator at the terminal (see the module docstring); never an account's role."""

# Permissions: one name per cell of the access table.
SIGN_IN = "sign_in"                                   # use the service at all
READ_OWN_STRAND_FINDINGS = "read_own_strand_findings"  # findings, versions, attachments, QA of one's strand
READ_ALL_FINDINGS = "read_all_findings"                # …of every strand
AUTHOR_FINDINGS = "author_findings"                    # record findings; edit, submit, withdraw, attach to one's own
QA_FINDINGS = "qa_findings"                            # accept or return a submitted finding
EXPORT_EVIDENCE = "export_evidence"                    # the evidence workbook, of what one may read
READ_CHRONOLOGIES = "read_chronologies"
WRITE_CHRONOLOGIES = "write_chronologies"
READ_ALERTS = "read_alerts"
RAISE_ALERTS = "raise_alerts"
PROGRESS_ALERTS = "progress_alerts"                    # refer, record the response, close
READ_JUDGEMENTS = "read_judgements"
PROPOSE_JUDGEMENTS = "propose_judgements"              # propose and cite evidence
MODERATE_JUDGEMENTS = "moderate_judgements"
READ_AUDIT = "read_audit"                              # the whole audit log, before/after content included
READ_AUDIT_OUTLINE = "read_audit_outline"              # who, when, what: no before/after content
ADMINISTER = "administer"                              # set-up (agencies, inspectors, cases) and accounts
SET_REVIEW_STATUS = "set_review_status"
WRITE_SQL = "write_sql"                                # arbitrary SQL and ``_where=`` in Datasette
SEE_STORE_PATHS = "see_store_paths"                    # file paths of the store (Datasette's /-/databases …)

PERMISSIONS: tuple[str, ...] = (
    SIGN_IN, READ_OWN_STRAND_FINDINGS, READ_ALL_FINDINGS, AUTHOR_FINDINGS, QA_FINDINGS, EXPORT_EVIDENCE,
    READ_CHRONOLOGIES, WRITE_CHRONOLOGIES, READ_ALERTS, RAISE_ALERTS, PROGRESS_ALERTS, READ_JUDGEMENTS,
    PROPOSE_JUDGEMENTS, MODERATE_JUDGEMENTS, READ_AUDIT, READ_AUDIT_OUTLINE, ADMINISTER, SET_REVIEW_STATUS,
    WRITE_SQL, SEE_STORE_PATHS,
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "inspector": frozenset({
        SIGN_IN, READ_OWN_STRAND_FINDINGS, AUTHOR_FINDINGS, EXPORT_EVIDENCE,
        READ_CHRONOLOGIES, WRITE_CHRONOLOGIES, READ_ALERTS, RAISE_ALERTS,
    }),
    "lead": frozenset({
        SIGN_IN, READ_ALL_FINDINGS, AUTHOR_FINDINGS, QA_FINDINGS, EXPORT_EVIDENCE,
        READ_CHRONOLOGIES, WRITE_CHRONOLOGIES, READ_ALERTS, RAISE_ALERTS, PROGRESS_ALERTS,
        READ_JUDGEMENTS, PROPOSE_JUDGEMENTS, READ_AUDIT, READ_AUDIT_OUTLINE, SET_REVIEW_STATUS,
        WRITE_SQL, SEE_STORE_PATHS,
    }),
    "moderator": frozenset({
        SIGN_IN, READ_ALL_FINDINGS, QA_FINDINGS, EXPORT_EVIDENCE,
        READ_CHRONOLOGIES, READ_ALERTS, READ_JUDGEMENTS, MODERATE_JUDGEMENTS, READ_AUDIT, READ_AUDIT_OUTLINE,
        WRITE_SQL,
    }),
    "admin": frozenset({SIGN_IN, READ_AUDIT_OUTLINE, ADMINISTER, SET_REVIEW_STATUS}),
    SYSTEM_ROLE: frozenset(PERMISSIONS),
}

# Datasette: which permission opens each table and view of the evidence store.
# The FTS index of a table goes with its table (an FTS5 table with external
# content returns the indexed text). A table not named here is for those who
# may write SQL (they can read it with SQL anyway): access fails closed.
REFERENCE_TABLES: tuple[str, ...] = (
    "reviews", "strands", "review_strands", "agencies", "inspectors", "cases", "judgement_areas", "criteria",
    "grades")
DATASETTE_TABLES: dict[str, str] = {
    **{name: SIGN_IN for name in REFERENCE_TABLES},
    "chronology_events": READ_CHRONOLOGIES,
    "case_chronologies": READ_CHRONOLOGIES,
    "safeguarding_alerts": READ_ALERTS,
    "findings": READ_ALL_FINDINGS,
    "finding_criteria": READ_ALL_FINDINGS,
    "finding_versions": READ_ALL_FINDINGS,
    "qa_actions": READ_ALL_FINDINGS,
    "attachments": READ_ALL_FINDINGS,
    "findings_readable": READ_ALL_FINDINGS,
    # Links between findings and chronology events: for those who read every strand's findings (who all
    # read chronologies too: tests/test_policy.py checks it), as the links name findings of every strand.
    "finding_events": READ_ALL_FINDINGS,
    "finding_event_links": READ_ALL_FINDINGS,
    "criterion_strand_coverage": READ_ALL_FINDINGS,
    "judgements": READ_JUDGEMENTS,
    "judgement_versions": READ_JUDGEMENTS,
    "judgement_citations": READ_JUDGEMENTS,
    "audit_log": READ_AUDIT,
}
DATASETTE_DEFAULT_TABLE = WRITE_SQL

# The audit log as administrators read it: who, when, what, on which record.
# Not ``detail`` (QA comments, alert notes, export sources quote case content)
# nor ``before``/``after`` (snapshots of the records themselves).
AUDIT_OUTLINE_COLUMNS: tuple[str, ...] = ("id", "at", "actor", "action", "table_name", "row_id")

EVERYONE = "everyone"
"""Not a permission: anonymous visitors too (Datasette's static files, which the 403 page needs)."""
NOBODY = "nobody"
"""Not a permission: refused to every role."""

# Datasette's ``/-/`` endpoints (0.65), each decided once. Those that show file
# paths (databases: the store's path; plugins: where plugins are installed;
# threads: running tasks with their source files) are for leads only;
# Datasette's debugging tools are for no one.
DATASETTE_ENDPOINTS: dict[str, str] = {
    "static": EVERYONE,             # Datasette's CSS and JavaScript
    "static-plugins": EVERYONE,     # our stylesheet
    "actor": SIGN_IN,               # who you are signed in as
    "metadata": SIGN_IN,            # the catalogue: titles, descriptions, rules; nothing secret
    "logout": SIGN_IN,              # Datasette's own (clears only its ds_actor cookie)
    "versions": WRITE_SQL,          # SQLite's version and compile options: for those writing SQL
    "settings": WRITE_SQL,          # limits such as sql_time_limit_ms: for those writing SQL
    "config": WRITE_SQL,            # an old name of settings (a redirect)
    "databases": SEE_STORE_PATHS,   # lists the path of evidence.db
    "plugins": SEE_STORE_PATHS,     # lists where plugins are installed
    "threads": SEE_STORE_PATHS,     # running tasks with their source files
    "allow-debug": NOBODY,          # a tool for testing allow blocks
    "permissions": NOBODY,          # the permission-check log (Datasette's root only)
    "messages": NOBODY,             # a tool for setting flash messages
    "patterns": NOBODY,             # Datasette's pattern portfolio
    "auth-token": NOBODY,           # Datasette's root login (we never start it with --root)
}


# --------------------------------------------------------------- questions about roles


def permissions_of(role: str | None) -> frozenset[str]:
    """The permissions of ``role`` (none for None or an unknown role)."""
    return ROLE_PERMISSIONS.get(role or "", frozenset())


def roles_with(permission: str) -> tuple[str, ...]:
    """The account roles holding ``permission``, in :data:`ROLES` order (for Datasette ``allow`` blocks).

    :data:`EVERYONE` and :data:`SIGN_IN` give every role; :data:`NOBODY` none.
    :raises KeyError: an unknown permission (a typo must not open or close anything silently).
    """
    if permission == NOBODY:
        return ()
    if permission == EVERYONE:
        return ROLES
    if permission not in PERMISSIONS:
        raise KeyError(permission)
    return tuple(role for role in ROLES if permission in ROLE_PERMISSIONS[role])


def may(actor: Actor | None, permission: str) -> bool:
    """True when ``actor`` holds ``permission`` (anonymous holds none; :data:`EVERYONE` is everyone)."""
    if permission == EVERYONE:
        return True
    if actor is None:
        return False
    return permission in permissions_of(actor.role)


def role_may(role: str | None, permission: str) -> bool:
    """:func:`may` for a bare role (Datasette's actor dict carries only the role)."""
    if permission == EVERYONE:
        return True
    return permission in permissions_of(role)


# SQL in Datasette reads the whole file, every review in it. Datasette's actor
# carries the role a second time under this key only when the account may open
# every review in the store (:func:`datasette_sql_role`), and the ``allow`` blocks
# of WRITE_SQL match on it: SQL, ``_where=`` and the tables without a rule.
DATASETTE_SQL_ROLE = "sql_role"


def datasette_allow(permission: str) -> dict[str, Any] | bool:
    """A Datasette ``allow`` block for the holders of ``permission`` (``False`` when nobody)."""
    roles = roles_with(permission)
    if not roles:
        return False
    return {DATASETTE_SQL_ROLE if permission == WRITE_SQL else "role": list(roles)}


def datasette_sql_role(role: str | None, *, opens_every_review: bool) -> str | None:
    """The role to give Datasette's actor as :data:`DATASETTE_SQL_ROLE`, or None.

    SQL cannot be kept to one review (it reads any table, and a ``_where=``
    subquery any other), so it is only for holders of :data:`WRITE_SQL` who may
    open every review in the store: in a store of one review every lead and
    moderator; in a store of several, those who are inspectors in all of them.
    The others read the chosen review's tables and questions, without SQL.
    """
    return role if opens_every_review and role_may(role, WRITE_SQL) else None


def datasette_table_permission(name: str) -> str:
    """The permission that opens a table or view of the evidence store in Datasette."""
    base = name.split("_fts")[0] if "_fts" in name else name
    return DATASETTE_TABLES.get(base, DATASETTE_DEFAULT_TABLE)


def datasette_endpoint_permission(name: str) -> str:
    """The permission that opens Datasette's ``/-/<name>`` (an unknown endpoint: nobody)."""
    return DATASETTE_ENDPOINTS.get(name, NOBODY)


# --------------------------------------------------------------- questions about records


def is_author(actor: Actor | None, finding: dict[str, Any]) -> bool:
    """True when ``actor`` is the inspector who recorded ``finding`` (and may still author)."""
    return (actor is not None and actor.inspector_id is not None and actor.inspector_id == finding["inspector_id"]
            and may(actor, AUTHOR_FINDINGS))


def may_record_findings(actor: Actor | None) -> bool:
    """Authors linked to an inspector of the review record findings (and import capture workbooks)."""
    return may(actor, AUTHOR_FINDINGS) and actor is not None and actor.inspector_id is not None


def finding_strands(actor: Actor | None) -> str | bool:
    """Which strands' findings ``actor`` reads: ``True`` for every strand, a strand code, or ``False`` for none."""
    if may(actor, READ_ALL_FINDINGS):
        return True
    if may(actor, READ_OWN_STRAND_FINDINGS) and actor is not None and actor.strand:
        return actor.strand
    return False


def may_read_finding(actor: Actor | None, finding: dict[str, Any]) -> bool:
    """Findings of a strand, with versions, attachments and QA history: see :func:`finding_strands`.

    ``finding`` needs ``strand`` (its strand's code) and ``inspector_id``.
    """
    strands = finding_strands(actor)
    return strands is True or (bool(strands) and strands == finding["strand"]) or is_author(actor, finding)


def may_edit_text(actor: Actor | None, finding: dict[str, Any]) -> bool:
    """Only a finding's author edits its text; nobody else ever does (QA returns it instead)."""
    return is_author(actor, finding)


def may_qa(actor: Actor | None, finding: dict[str, Any], action: str) -> bool:
    """May ``actor`` take the QA ``action`` on ``finding``?

    ``submit`` (and resubmit) and ``withdraw``: the author; ``accept`` and
    ``return``: those who QA. Unknown actions: no one.
    """
    if action in ("submit", "withdraw"):
        return is_author(actor, finding)
    if action in ("accept", "return"):
        return may(actor, QA_FINDINGS) and may_read_finding(actor, finding)
    return False


def may_attach(actor: Actor | None, finding: dict[str, Any]) -> bool:
    """The author attaches files to their own finding, unless it was withdrawn."""
    return finding.get("qa_status") != "withdrawn" and is_author(actor, finding)


def may_open_review(actor: Actor | None, *, current: bool) -> bool:
    """The current review (the latest, as the intake app shows) is open to every signed-in account;
    another review in the same store only to its own inspectors (an account joins a review through
    its inspector code) and the terminal. Everyone else is told there is no such review."""
    if actor is None or not may(actor, SIGN_IN):
        return False
    return current or actor.role == SYSTEM_ROLE or actor.inspector_id is not None


def may_write_chronology(actor: Actor | None) -> bool:
    """Writers of chronologies linked to an inspector of the review (events carry who recorded them)."""
    return may(actor, WRITE_CHRONOLOGIES) and actor is not None and actor.inspector_id is not None


def export_scope(actor: Actor | None) -> str | bool:
    """What the evidence workbook of ``actor`` holds: every strand (``True``), one strand, or ``False``
    when the actor may not export. Judgements go with :data:`READ_JUDGEMENTS`."""
    if not may(actor, EXPORT_EVIDENCE):
        return False
    return finding_strands(actor)


def audit_columns(actor: Actor | None) -> tuple[str, ...]:
    """The audit-log columns ``actor`` may read (none, who/when/what, or everything)."""
    if may(actor, READ_AUDIT):
        return (*AUDIT_OUTLINE_COLUMNS, "detail", "before", "after")
    if may(actor, READ_AUDIT_OUTLINE):
        return AUDIT_OUTLINE_COLUMNS
    return ()


def session_still_valid(account: dict[str, Any] | None, role: str | None, strand: str | None = None) -> bool:
    """A signed session claiming ``role`` (and, for inspectors, ``strand``) still stands for ``account``.

    A signed cookie stays valid until it expires, so every shell re-reads the
    account: a removed or disabled account, or one given another role or
    strand since, is signed out at once.
    """
    if account is None or account.get("disabled") or account.get("role") != role or role not in ROLES:
        return False
    return role != "inspector" or (account.get("strand") or None) == (strand or None)
