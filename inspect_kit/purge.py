"""Purging a review at the end of its retention (docs/architecture.md §8).

:func:`plan_purge` says what would go (the dry run); :func:`purge_review`
removes it, given the review's slug typed again as confirmation, and only on
or after the review's ``retention_review_on`` date unless forced with a
reason. What goes:

- every row of the review in ``evidence.db``: findings with their versions,
  criteria, QA actions and attachment rows, chronology events, safeguarding
  alerts, judgements with their versions and citations, cases, inspectors,
  agencies, the framework's areas, criteria and grades, its strands taking
  part, and the review itself; the search indexes are rebuilt so no word of it
  stays in them;
- attachment files no other review's finding uses;
- in ``private.db``: the review's case-identity keys, and the accounts that
  belong to no other review (an inspector code used only in this review; never
  an administrator), with their tokens, reset codes and sign-in attempts.

The audit log keeps a row for everything that happened (it is hash-chained:
deleting rows would break ``inspect-kit verify``). Rows about the review's
records (and the purged accounts) keep who, when and what but lose their
content (``before``, ``after``, ``detail``), and name the purge certificate
(``redacted_by``). The certificate is one more audit row, ``review.purge``:
what, when, by whom, the counts, the reason if forced, and a digest of every
redacted row's outline and hash, so verify checks the chain across the
redacted rows (:mod:`inspect_kit.verify`).

Deleted pages are overwritten with zeros (``PRAGMA secure_delete``) and the
databases vacuumed afterwards, so the files keep no copy. Backups and
replicas made before the purge still hold the review: they expire on their
own schedule, which the certificate does not cover.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from . import attachments as attachment_store
from . import audit, reviews
from .actors import Actor
from .audit_search import REVIEW_RECORDS
from .errors import Conflict, ValidationError
from .schema import FTS_COLUMNS
from .store import Store, now, today, write_transaction

# Children first, so foreign keys hold at every step. Each selects the rows of review ? to delete.
REVIEW_ROWS: tuple[tuple[str, str], ...] = (
    ("judgement_citations", "judgement_id IN (SELECT id FROM judgements WHERE review_id = ?)"),
    ("judgement_versions", "judgement_id IN (SELECT id FROM judgements WHERE review_id = ?)"),
    ("judgements", "review_id = ?"),
    ("safeguarding_alerts", "review_id = ?"),
    ("qa_actions", "finding_id IN (SELECT id FROM findings WHERE review_id = ?)"),
    ("finding_versions", "finding_id IN (SELECT id FROM findings WHERE review_id = ?)"),
    ("finding_criteria", "finding_id IN (SELECT id FROM findings WHERE review_id = ?)"),
    ("finding_events", "finding_id IN (SELECT id FROM findings WHERE review_id = ?)"),
    ("attachments", "finding_id IN (SELECT id FROM findings WHERE review_id = ?)"),
    ("chronology_events", "review_id = ?"),
    ("findings", "review_id = ?"),
    ("cases", "review_id = ?"),
    ("inspectors", "review_id = ?"),
    ("agencies", "review_id = ?"),
    ("criteria", "review_id = ?"),
    ("judgement_areas", "review_id = ?"),
    ("grades", "review_id = ?"),
    ("review_strands", "review_id = ?"),
    ("reviews", "id = ?"),
)
OUTLINE = audit.REDACTION_OUTLINE


@dataclass
class PurgePlan:
    """What purging the review would remove (the dry run)."""

    review: dict[str, Any]
    rows: dict[str, int]
    attachment_files: list[str]
    identity_keys: int
    accounts: list[str]
    audit_rows: int
    due: bool
    today: str

    @property
    def retention_review_on(self) -> str | None:
        return self.review.get("retention_review_on")


@dataclass
class PurgeCertificate:
    """What was removed, and the audit row that records it."""

    audit_id: int
    summary: dict[str, Any] = field(default_factory=dict)


def _accounts_only_here(db: Database, private_db: Database, review_id: int) -> list[dict[str, Any]]:
    """Accounts whose inspector code is used in this review and in no other (never an administrator)."""
    codes_elsewhere = {code for (code,) in db.execute(
        "SELECT DISTINCT code FROM inspectors WHERE review_id != ?", [review_id])}
    codes_here = {code for (code,) in db.execute("SELECT code FROM inspectors WHERE review_id = ?", [review_id])}
    return [account for account in private_db.query(
        "SELECT id, username, inspector_code FROM accounts WHERE role != 'admin' AND inspector_code IS NOT NULL"
        " ORDER BY username") if account["inspector_code"] in codes_here - codes_elsewhere]


def _attachment_files(db: Database, review_id: int) -> list[str]:
    """sha256 names of the review's attachment files that no other review's finding uses."""
    return [sha for (sha,) in db.execute(
        "SELECT DISTINCT attachments.sha256 FROM attachments JOIN findings ON findings.id = attachments.finding_id"
        " WHERE findings.review_id = ? AND attachments.sha256 NOT IN (SELECT a.sha256 FROM attachments a"
        " JOIN findings f ON f.id = a.finding_id WHERE f.review_id != ?) ORDER BY 1", [review_id, review_id])]


def _audit_where(review_id: int, account_ids: list[int]) -> tuple[str, list[Any]]:
    """The audit rows about the review's records or the purged accounts (content to redact)."""
    ownership = " OR ".join(f"(table_name = '{table}' AND row_id IN ({sql}))" for table, sql in REVIEW_RECORDS.items())
    params: list[Any] = [review_id] * len(REVIEW_RECORDS)
    if account_ids:
        ownership += f" OR (table_name IN ('accounts', 'api_tokens') AND row_id IN ({', '.join('?' * len(account_ids))}))"
        params += account_ids
    return f"({ownership})", params


def plan_purge(db: Database, private_db: Database, slug: str, *, on: str | None = None) -> PurgePlan:
    """The dry run: what :func:`purge_review` would remove. :raises NotFound: no such review."""
    review = reviews.current_review(db, slug)
    review_id = review["id"]
    rows = {table: db.execute(f"SELECT count(*) FROM {table} WHERE {where}", [review_id]).fetchone()[0]
            for table, where in REVIEW_ROWS}
    accounts = _accounts_only_here(db, private_db, review_id)
    where, params = _audit_where(review_id, [account["id"] for account in accounts])
    (audit_rows,) = db.execute(f"SELECT count(*) FROM audit_log WHERE {where}", params).fetchone()
    (keys,) = private_db.execute("SELECT count(*) FROM case_identity_keys WHERE review_slug = ?", [slug]).fetchone()
    on = on or today()
    due = bool(review.get("retention_review_on")) and review["retention_review_on"] <= on
    return PurgePlan(review=review, rows=rows, attachment_files=_attachment_files(db, review_id), identity_keys=keys,
                     accounts=[account["username"] for account in accounts], audit_rows=audit_rows, due=due, today=on)


def purge_review(db: Database, private_db: Database, store: Store, actor: Actor, slug: str, *, confirm: str,
                 force_reason: str | None = None, on: str | None = None) -> PurgeCertificate:
    """Remove the review ``slug`` as the module docstring describes; returns the certificate.

    :raises ValidationError: ``confirm`` is not the slug.
    :raises Conflict: the retention review date is not reached (or not set) and
        no ``force_reason`` was given.
    :raises NotFound: no such review.
    """
    if (confirm or "").strip() != slug:
        raise ValidationError(f"Type the review's short name, {slug}, to confirm the purge.",
                              field_errors={"confirm": f"Type {slug} to confirm"})
    plan = plan_purge(db, private_db, slug, on=on)
    reason = (force_reason or "").strip()
    if not plan.due and not reason:
        when = plan.retention_review_on
        raise Conflict(f"{slug} is not due for purging: its retention review date is "
                       f"{when or 'not set'} (today is {plan.today}). Purge early only with --force and a reason.")
    review_id = plan.review["id"]
    accounts = _accounts_only_here(db, private_db, review_id)
    account_ids = [account["id"] for account in accounts]
    # Deleted content is overwritten with zeros rather than left in free pages.
    db.execute("PRAGMA secure_delete = ON")
    private_db.execute("PRAGMA secure_delete = ON")
    with write_transaction(db):
        where, params = _audit_where(review_id, account_ids)
        certificate_id = audit.head(db)["id"] + 1
        redacted = db.execute(f"SELECT {', '.join(OUTLINE)} FROM audit_log WHERE {where} AND redacted_by IS NULL"
                              " ORDER BY id", params).fetchall()
        db.execute(f"UPDATE audit_log SET before = NULL, after = NULL, detail = NULL, redacted_by = ? WHERE {where}"
                   " AND redacted_by IS NULL", [certificate_id, *params])
        for table, condition in REVIEW_ROWS:
            db.execute(f"DELETE FROM {table} WHERE {condition}", [review_id])
        for table in FTS_COLUMNS:
            # External-content FTS keeps deleted terms in its segments until rebuilt.
            db.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")
        summary = {
            "review": slug, "title": plan.review["title"], "purged_at": now(), "purged_by": actor.username,
            "retention_review_on": plan.retention_review_on, "forced": not plan.due, "reason": reason or None,
            "rows": {table: count for table, count in plan.rows.items() if count},
            "attachment_files": len(plan.attachment_files), "identity_keys": plan.identity_keys,
            "accounts": plan.accounts, "audit_rows_redacted": len(redacted),
            "redacted_digest": audit.redaction_digest(redacted),
        }
        audit_id = audit.record(db, actor, "review.purge", table="reviews", row_id=review_id, after=summary,
                                detail=reason or None)
        if audit_id != certificate_id:  # cannot happen while the write lock is held; never certify wrongly
            raise RuntimeError("The audit log moved during the purge; nothing was purged.")
        # private.db commits just before evidence.db: if the evidence commit then
        # failed (a full disk), the review is still there to purge again.
        with write_transaction(private_db):
            private_db.execute("DELETE FROM case_identity_keys WHERE review_slug = ?", [slug])
            for account in accounts:
                for table in ("api_tokens", "password_resets"):
                    private_db.execute(f"DELETE FROM {table} WHERE account_id = ?", [account["id"]])
                private_db.execute("DELETE FROM login_attempts WHERE username = ?", [account["username"]])
                private_db.execute("DELETE FROM accounts WHERE id = ?", [account["id"]])
    # Files after the rows that name them are gone: a crash in between leaves
    # unreferenced files (a `check` warning), never a row without its file.
    for sha256 in plan.attachment_files:
        attachment_store.blob_path(store, sha256).unlink(missing_ok=True)
    for database in (db, private_db):
        try:
            database.execute("VACUUM")
            # PASSIVE, like SQLite's own automatic checkpoints: the main file then holds
            # the purged pages too; never TRUNCATE, which would pull the WAL from under a
            # replicating Litestream (inspect_kit.replication).
            database.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.OperationalError:  # busy: the zeroed pages are enough, VACUUM only tidies
            pass
    return PurgeCertificate(audit_id=audit_id, summary=summary)

