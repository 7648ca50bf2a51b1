"""Datasette keeps to the review chosen in the intake app (docs/architecture.md §8).

The intake app's review switcher (``/reviews``) keeps the chosen review's
slug in the session; an account opens only the reviews it is an inspector of
(:func:`inspect_kit.roster.reviews_of_account`) and, without a choice, the
latest of those. :func:`review_of` makes the same choice from the same
cookie, and the actor carries it (``review``, ``review_id``) so that every
hook of the request reads one answer:

- ``filters_from_request``: every table and view page, its facets, counts,
  JSON and ``.xlsx`` export (which pages through the table's JSON) gets
  :func:`inspect_kit.review_scope.table_clause`;
- :func:`row_in_review`: a row page of another review's row is a 404
  (called by the request guard in :mod:`.extras`);
- ``register_magic_parameters``: ``:_ik_review`` (the slug) in the canned
  questions. It never raises ``KeyError``: Datasette then reads a URL
  parameter of the same name instead, which would let anyone choose;
- ``canned_queries``: the coverage matrix with the chosen review's strands.

The actor's ``sql_role`` (:func:`inspect_kit.policy.datasette_sql_role`) is
set only for accounts that may open every review in the store: SQL reads the
whole file.
"""

from __future__ import annotations

import sqlite3
from typing import Any, cast

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils import urlsafe_components
from sqlite_utils import Database

from .. import policy, review_scope, roster
from . import questions

EVIDENCE_DATABASE = "evidence"
NO_REVIEW = {"review": None, "review_id": None}


def evidence_database(datasette):
    """The served evidence store (``evidence``, else the first file database), or None."""
    databases = {name: db for name, db in datasette.databases.items() if name != "_internal" and not db.is_memory}
    return databases.get(EVIDENCE_DATABASE) or next(iter(databases.values()), None)


class _Reader:
    """The reading half of ``sqlite_utils.Database`` (``query``) over one of Datasette's
    connections, which belong to Datasette: not wrapped in a Database (nothing of ours
    may close them, or set pragmas on them)."""

    def __init__(self, conn):
        self.conn = conn

    def query(self, sql: str, params: Any = None):
        cursor = self.conn.execute(sql, params or [])
        keys = [column[0] for column in cursor.description]
        for row in cursor:
            yield dict(zip(keys, row, strict=True))


def _choose(conn, account: dict[str, Any], slug: str | None) -> tuple[dict[str, Any] | None, bool]:
    if not _columns(conn, "reviews"):
        return None, False
    db = cast(Database, _Reader(conn))
    open_to = roster.reviews_of_account(db, account)
    (in_store,) = conn.execute("SELECT count(*) FROM reviews").fetchone()
    return roster.chosen_review(db, account, slug), len(open_to) >= in_store


async def review_of(datasette, actor: dict[str, Any], account: dict[str, Any] | None,
                    session: dict[str, Any] | None) -> dict[str, Any]:
    """``{"review", "review_id", "sql_role"}`` for a signed-in actor: the review chosen in the
    intake session among those the account may open, as the intake app chooses it.

    ``account`` is its row in ``private.db`` (role and inspector code); without one (a
    Datasette not told where accounts are) the session's inspector code stands in.
    """
    database = evidence_database(datasette)
    if account is None:
        account = {"role": actor["role"], "inspector_code": ((session or {}).get("actor") or {}).get("inspector")}
    slug = (session or {}).get("review")
    if database is None:
        return {**NO_REVIEW, policy.DATASETTE_SQL_ROLE: None}
    review, every = await database.execute_fn(
        lambda conn: _choose(conn, account, slug if isinstance(slug, str) else None))
    sql_role = policy.datasette_sql_role(actor["role"], opens_every_review=every)
    if review is None:
        return {**NO_REVIEW, policy.DATASETTE_SQL_ROLE: sql_role}
    return {"review": review["slug"], "review_id": review["id"], policy.DATASETTE_SQL_ROLE: sql_role}


def _columns(conn, name: str) -> list[str]:
    return [row[1] for row in conn.execute("SELECT * FROM pragma_table_info(?)", [name])]


async def clause_for(datasette, database: str, table: str) -> str | None:
    """The review clause of ``table`` in ``database`` (None: not an evidence store, or a shared table)."""
    def clause(conn) -> str | None:
        if not _columns(conn, "reviews"):
            return None
        return review_scope.table_clause(table, lambda name: _columns(conn, name))

    return await datasette.get_database(database).execute_fn(clause)


def review_id_of(actor: dict[str, Any] | None) -> int:
    """The actor's chosen review id, or 0 (no review has it: nothing matches)."""
    return (actor or {}).get("review_id") or 0


# Not a hook of its own: the plugin registers one filters_from_request (in __init__.py),
# which asks this and the other filter and joins their clauses.
def filters_from_request(request, database, table, datasette):
    async def inner():
        clause = await clause_for(datasette, database, table)
        if clause is None:
            return None
        # Parenthesised: Datasette joins where clauses with a bare " and ".
        return FilterArguments([f"({clause})"], params={review_scope.PARAMETER: review_id_of(request.actor)})

    return inner


async def row_in_review(datasette, actor: dict[str, Any] | None, database: str, table: str, pks: str) -> bool:
    """False when the row Datasette's row page would show belongs to another review than the
    actor's (a row it would not find at all is left to Datasette's own 404)."""
    try:
        db = datasette.get_database(database)
    except KeyError:
        return True
    clause = await clause_for(datasette, database, table)
    if clause is None:
        return True
    keys = await db.primary_keys(table) or ["rowid"]
    values = urlsafe_components(pks)
    if len(values) != len(keys):
        return True
    where = " AND ".join(f"[{key}] = :k{index}" for index, key in enumerate(keys))
    params = {f"k{index}": value for index, value in enumerate(values)}
    params[review_scope.PARAMETER] = review_id_of(actor)
    try:
        found = await db.execute(f"SELECT 1 FROM [{table}] WHERE {where} AND ({clause}) LIMIT 1", params)
    except sqlite3.Error:
        return False  # no such table, or a view (no row pages): a 404 either way
    # A row of another review and no row at all are both a 404: the answer tells them apart by nothing.
    return found.first() is not None


def magic_review(key: str, request) -> str | int:
    """``:_ik_review`` (slug) and ``:_ik_review_id``; blank for anything else. Never KeyError (see module)."""
    actor = request.actor or {}
    if key == "review":
        return actor.get("review") or ""
    if key == "review_id":
        return review_id_of(actor)
    return ""


@hookimpl
def register_magic_parameters(datasette):
    return [("ik", magic_review)]


@hookimpl
def canned_queries(datasette, database, actor):
    """The coverage matrix has a column per strand taking part in the actor's review."""
    review_id = (actor or {}).get("review_id")
    if not review_id:
        return None

    async def inner():
        try:
            db = datasette.get_database(database)
        except KeyError:
            return None

        def strands(conn) -> list[str] | None:
            if not _columns(conn, "review_strands"):
                return None
            return roster.review_strand_codes(cast(Database, _Reader(conn)), review_id)

        codes = await db.execute_fn(strands)
        if not codes:
            return None
        return {"coverage_matrix": questions.question("coverage_matrix", codes).as_metadata()}

    return inner


def _several_reviews(conn) -> bool:
    return bool(_columns(conn, "reviews")) and conn.execute("SELECT count(*) > 1 FROM reviews").fetchone()[0] == 1


def hide_whole_file_counts(datasette) -> None:
    """The index and database pages count every table's rows in the whole file (Datasette's
    ``Database.table_counts``, with no request to scope by): in a store of several reviews those
    counts would tell a reader how much the other reviews hold, so there they are not given (the
    pages say "Many rows"; each table page counts its review's rows)."""
    for database in datasette.databases.values():
        if database.is_memory or getattr(database, "_ik_counts_hidden", False):
            continue
        counted = database.table_counts

        async def table_counts(limit=10, counted=counted, database=database):
            counts = await counted(limit)
            if await database.execute_fn(_several_reviews):
                return dict.fromkeys(counts)
            return counts

        database.table_counts = table_counts
        database._ik_counts_hidden = True
