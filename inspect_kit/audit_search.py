"""Reading the audit log: filtered, paged, and as a workbook.

Who may read which columns is the access policy's
(:func:`inspect_kit.policy.audit_columns`): leads and moderators read every
column; administrators who/when/what only, never the before/after content or
the detail (they run the system, not the inspection). Filters: who
(``actor``), what (``action``, or a prefix ending in ``.``, e.g. ``account.``),
which record (``table_name`` and ``row_id``), and a date range on ``at``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from . import policy
from .actors import Actor
from .errors import Forbidden, ValidationError

PAGE_SIZE = 100
# The audit rows of one review: a row names a record (table_name, row_id); these
# say which records belong to the review. Rows about no review's record (accounts,
# tokens, strands, a Datasette export) are shown in every review.
REVIEW_RECORDS = {
    "reviews": "SELECT id FROM reviews WHERE id = ?",
    "findings": "SELECT id FROM findings WHERE review_id = ?",
    "chronology_events": "SELECT id FROM chronology_events WHERE review_id = ?",
    "safeguarding_alerts": "SELECT id FROM safeguarding_alerts WHERE review_id = ?",
    "judgements": "SELECT id FROM judgements WHERE review_id = ?",
    "cases": "SELECT id FROM cases WHERE review_id = ?",
    "agencies": "SELECT id FROM agencies WHERE review_id = ?",
    "inspectors": "SELECT id FROM inspectors WHERE review_id = ?",
    "attachments": "SELECT attachments.id FROM attachments JOIN findings ON findings.id = attachments.finding_id"
                   " WHERE findings.review_id = ?",
}


def review_records_clause(placeholder: str) -> str:
    """SQL true for the audit rows of one review: rows about its records and rows about
    no review's record. ``placeholder`` (``?`` or ``:name``) stands for the review's id;
    with ``?`` bind it once per entry of :data:`REVIEW_RECORDS`."""
    tables = ", ".join(f"'{table}'" for table in REVIEW_RECORDS)
    ownership = " OR ".join(f"(table_name = '{table}' AND row_id IN ({sql.replace('?', placeholder)}))"
                            for table, sql in REVIEW_RECORDS.items())
    return f"(table_name IS NULL OR table_name NOT IN ({tables}) OR {ownership})"


@dataclass(frozen=True)
class AuditFilter:
    """What to show; empty fields do not filter."""

    actor: str | None = None
    action: str | None = None
    table_name: str | None = None
    row_id: int | None = None
    since: str | None = None   # YYYY-MM-DD, inclusive
    until: str | None = None   # YYYY-MM-DD, inclusive
    review_id: int | None = None  # only rows about this review's records (and rows about none)

    @classmethod
    def from_args(cls, args: Any, review_id: int | None = None) -> AuditFilter:
        """From a query string (``who``, ``what``, ``table``, ``row``, ``from``, ``to``).

        :raises ValidationError: a row id that is not a number, or a date not YYYY-MM-DD.
        """
        import datetime as dt

        errors = {}
        row = (args.get("row") or "").strip()
        if row and not row.isdigit():
            errors["row"] = "Enter a record number"
        dates = {}
        for key in ("from", "to"):
            value = (args.get(key) or "").strip()
            if value:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    errors[key] = "Enter a date as YYYY-MM-DD"
            dates[key] = value or None
        if errors:
            raise ValidationError("; ".join(errors.values()), field_errors=errors)
        return cls(actor=(args.get("who") or "").strip() or None, action=(args.get("what") or "").strip() or None,
                   table_name=(args.get("table") or "").strip() or None, row_id=int(row) if row else None,
                   since=dates["from"], until=dates["to"], review_id=review_id)

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if self.action and self.action.endswith("."):
            clauses.append("substr(action, 1, ?) = ?")
            params.extend([len(self.action), self.action])
        elif self.action:
            clauses.append("action = ?")
            params.append(self.action)
        # One clause a filter given (None and "" are not given; a row id of 0 is).
        for clause, value in (("actor = ?", self.actor), ("table_name = ?", self.table_name), ("row_id = ?", self.row_id),
                              ("at >= ?", self.since), ("at < date(?, '+1 day')", self.until)):
            if value is not None and value != "":
                clauses.append(clause)
                params.append(value)
        if self.review_id is not None:
            clauses.append(review_records_clause("?"))
            params.extend([self.review_id] * len(REVIEW_RECORDS))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def columns_for(actor: Actor | None) -> tuple[str, ...]:
    """:raises Forbidden: the actor may not read the audit log at all."""
    columns = policy.audit_columns(actor)
    if not columns:
        raise Forbidden("The audit log is for the lead inspector, moderators and administrators.")
    return columns


def search(db: Database, actor: Actor | None, audit_filter: AuditFilter, *, limit: int = PAGE_SIZE,
           offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """(rows newest first with only the columns ``actor`` may read, how many match).

    :raises Forbidden: see :func:`columns_for`.
    """
    columns = columns_for(actor)
    where, params = audit_filter.where()
    (total,) = db.execute(f"SELECT count(*) FROM audit_log{where}", params).fetchone()
    rows = list(db.query(f"SELECT {', '.join(columns)} FROM audit_log{where} ORDER BY id DESC LIMIT ? OFFSET ?",
                         [*params, limit, offset]))
    return rows, total


def choices(db: Database) -> dict[str, list[str]]:
    """The actors, actions and tables in the log, for the filter's lists."""
    return {column: [value for (value,) in db.execute(
        f"SELECT DISTINCT {column} FROM audit_log WHERE {column} IS NOT NULL ORDER BY {column}")]
        for column in ("actor", "action", "table_name")}


def _all_rows(db: Database, columns: tuple[str, ...], audit_filter: AuditFilter) -> Iterator[tuple[Any, ...]]:
    where, params = audit_filter.where()
    yield from db.execute(f"SELECT {', '.join(columns)} FROM audit_log{where} ORDER BY id", params)


def export_audit_workbook(db: Database, actor: Actor, audit_filter: AuditFilter, path: Path | str) -> dict[str, Any]:
    """Write the filtered log (the columns ``actor`` may read, oldest first) to an
    ``.xlsx``; text is never a formula. The export is itself audited with its
    manifest. Returns the manifest.

    :raises Forbidden: see :func:`columns_for`.
    """
    from .excel.cells import CellStats
    from .excel.sheets import Column, new_workbook, save_workbook, write_about, write_table
    from .manifests import record_manifest
    from .store import now

    columns = columns_for(actor)
    path = Path(path)
    workbook = new_workbook()
    stats = CellStats()
    result = write_table(workbook, "Audit log", [Column(name) for name in columns],
                         _all_rows(db, columns, audit_filter), stats=stats)
    shown = {key: value for key, value in vars(audit_filter).items() if value not in (None, "") and key != "review_id"}
    write_about(workbook, [("What", "The audit log"), ("Filter", ", ".join(f"{k}={v}" for k, v in shown.items())
                                                       or "none"),
                           ("Columns", ", ".join(columns)), ("Exported by", actor.username), ("At", now()),
                           ("Rows", result.rows), ("Cut", "yes: Excel's row limit" if result.capped else "no")],
                stats=stats)
    save_workbook(workbook, path)
    return record_manifest(db, actor, path, what="audit log", action="audit.export",
                           row_counts={"audit_log": result.rows}, detail=", ".join(f"{k}={v}" for k, v in shown.items()))
