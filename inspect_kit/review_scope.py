"""Which rows of the evidence store belong to one review.

Several reviews share one store, and no one sees another review's anything
(docs/architecture.md §8). The intake app's queries each name their review;
a shell that shows tables it did not write the query for (Datasette's table,
row, facet and export pages) keeps to one review by adding
:func:`table_clause` to the query's WHERE, with the review's id bound to the
named parameter :data:`PARAMETER`.

Ownership is read from the columns: a table with ``review_id`` is the
review's own; one with ``finding_id``, ``judgement_id`` or ``criterion_id``
belongs through that record; a view with a ``review`` column (the slug)
filters on it; the full-text index of a table follows its table; the audit
log keeps the rows about the review's records and rows about none
(:func:`inspect_kit.audit_search.review_records_clause`). Only
:data:`SHARED_TABLES` belong to every review; any other table matches no row
(fail closed: a table added later shows nothing until it is given an owner).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from .audit_search import review_records_clause

PARAMETER = "ik_review_id"
# The inspectorates and the schema's bookkeeping: the same for every review.
SHARED_TABLES = frozenset({"strands", "_sqlite_migrations"})
# Parent records through which a row belongs to a review, by the column naming them.
THROUGH = (("finding_id", "findings"), ("judgement_id", "judgements"), ("criterion_id", "criteria"))
NO_ROW = "0"


def table_clause(table: str, columns_of: Callable[[str], Collection[str]]) -> str | None:
    """SQL true for the rows of ``table`` that belong to the review bound to
    ``:ik_review_id``; None for a table shared by every review; ``0`` for a table
    of unknown ownership.

    ``columns_of(name)`` gives a table's or view's column names (none when there is no such table).
    """
    if table in SHARED_TABLES:
        return None
    own = f":{PARAMETER}"
    columns = set(columns_of(table))
    if table == "reviews":
        return f"id = {own}"
    if table == "audit_log":
        return review_records_clause(own)
    if "review_id" in columns:
        return f"review_id = {own}"
    for column, parent in THROUGH:
        if column in columns:
            return f"{column} IN (SELECT id FROM {parent} WHERE review_id = {own})"
    if "review" in columns:
        return f"review = (SELECT slug FROM reviews WHERE id = {own})"
    base, fts, _ = table.partition("_fts")
    if fts and not _ and base not in SHARED_TABLES and columns_of(base):
        parent = table_clause(base, columns_of)
        if parent is not None and parent != NO_ROW:
            return f"rowid IN (SELECT rowid FROM [{base}] WHERE {parent})"
    return NO_ROW
