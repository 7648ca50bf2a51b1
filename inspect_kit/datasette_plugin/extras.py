"""``asgi_wrapper``: requests Datasette must not answer as asked.

**No CSV.** Datasette's built-in CSV does no formula escaping, so an
inspector's ``=HYPERLINK(...)`` runs when a lead opens the file in Excel; a
streamed CSV is cut at ``max_csv_mb`` with status 200; and it is not audited
(docs/architecture.md §3, §8). Every ``.csv`` (or ``_format=csv``) request is refused
with a pointer to the page's ``.xlsx``, which has none of these faults; the
CSV links are hidden by ``inspect_kit.css``.

**Parameters judged after decoding, and Datasette's own pages decided.**
Every request is judged by :mod:`inspect_kit.policy` before Datasette sees
it: a ``/-/`` page (``/-/databases`` shows the store's path) opens only for
the holders of its permission in ``policy.DATASETTE_ENDPOINTS``; an
anonymous visitor's query string is dropped (every data page is a 403 for
them anyway); and for those who may not write SQL every query-string
parameter, decoded as Datasette decodes it, must be one the page takes
(:mod:`.params`), or the request is refused with a 400 saying what the page
takes. That is what keeps ``_extras=foreign_key_tables`` (how many findings
and alerts of every strand point at a case), ``_fts_table`` (searching the
shared chronology with the findings' index: an oracle on other strands'
text) and ``_through`` (filtering by a join through a table the reader may
not open) from ever reaching Datasette for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from datasette import hookimpl
from datasette.utils import await_me_maybe, derive_named_parameters, tilde_decode
from datasette.utils.asgi import Request, Response

from .. import policy
from . import pages, params
from .auth import SCOPE_KEY
from .scope import row_in_review

CSV_REFUSED = (
    "CSV downloads are switched off: Excel runs formulas it finds in CSV files (an =HYPERLINK(...) typed as "
    "evidence would become a live link), big CSV files are cut without warning, and CSV downloads are not "
    "audited. Use the .xlsx link on the same page: every text stays text and the export is audited."
)


def asks_for_csv(path: str, query_string: bytes) -> bool:
    """True for a request of Datasette's CSV renderer (``….csv`` or ``_format=csv``)."""
    if path.lower().endswith(".csv"):
        return True
    return b"csv" in query_string.lower() and any(
        key == "_format" and value.strip().lower() == "csv"
        for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


async def request_actor(datasette, scope, receive) -> dict[str, Any] | None:
    """The actor Datasette will see for this request, found the way Datasette finds it
    (``DatasetteRouter.route_path``: the first ``actor_from_request`` answer, else ``scope["actor"]``)."""
    # Imported here: importing datasette.plugins loads the plugin entry points, this
    # package among them, which would then be registered half-imported (without these hooks).
    from datasette.plugins import pm

    request = Request(scope, receive)
    for candidate in pm.hook.actor_from_request(datasette=datasette, request=request):
        candidate = await await_me_maybe(candidate)
        if candidate:
            return candidate
    return scope.get("actor") or None


def without_blank_search(query_string: bytes) -> bytes:
    """``query_string`` without a blank ``_search=`` (or ``_search_<column>=``).

    An emptied search box sends ``_search=``; Datasette would search for
    nothing and find nothing (before our ``escape_fts``, a 400). Without it
    the page lists every row, as a reader clearing the box expects.
    """
    if b"_search" not in query_string:
        return query_string
    kept = []
    for piece in query_string.split(b"&"):
        pairs = parse_qsl(piece.decode("latin-1"), keep_blank_values=True)
        if pairs and pairs[0][0].startswith("_search") and pairs[0][0] != "_searchmode" and not pairs[0][1].strip():
            continue
        kept.append(piece)
    return b"&".join(kept)


def route_path(datasette, scope) -> str:
    """The path Datasette routes on: the raw (still percent-encoded) path, without ``base_url``."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("ascii", "replace") if raw_path else scope.get("path") or "/"
    path = path.partition("?")[0]
    base_url = datasette.setting("base_url") or "/"
    if base_url != "/" and path.startswith(base_url):
        path = "/" + path[len(base_url):]
    return path


# Datasette 0.65's row route splits "<pks>.<format>" with this pattern (datasette/app.py).
ROW_PKS = re.compile(r"^(?P<pks>[^/]+?)(\.(?P<format>\w+))?$")
NOT_IN_REVIEW = "No such row in the review you are working in (choose another review in the intake app)."
SQL_IS_STORE_WIDE = ("SQL reads every review in this store, and this account may open only some of them: read the "
                     "chosen review's tables and questions instead (docs/architecture.md §8).")


@dataclass(frozen=True)
class Page:
    """What a path asks Datasette for: ``kind`` as :func:`params.judge` takes it, and the names."""

    kind: str
    database: str | None = None
    name: str | None = None
    endpoint: str | None = None
    pks: str | None = None  # a row page's primary key(s), as in the URL


def classify(path: str) -> Page | None:
    """The page a routed path names, mirroring Datasette 0.65's routes; None for static files."""
    if path in ("/", "/.json", "/.jsono", "/favicon.ico"):
        return Page("plain")
    if path.startswith("/-/"):
        name = path[3:].split("/", 1)[0]
        if name in ("static", "static-plugins"):
            return None
        return Page("endpoint", endpoint=name.split(".", 1)[0])
    parts = path[1:].split("/")
    database = tilde_decode(parts[0].split(".", 1)[0])
    if len(parts) == 1:
        return Page("plain", database=database)
    if len(parts) == 2:
        return Page("table", database=database, name=tilde_decode(parts[1].split(".", 1)[0]))
    row = ROW_PKS.match(parts[2]) if len(parts) == 3 else None
    return Page("row", database=database, name=tilde_decode(parts[1]), pks=row["pks"] if row else None)


async def _refuse(send, path: str, status: int, message: str) -> None:
    if path.endswith(".json"):
        await Response.json({"ok": False, "status": status, "title": "Refused", "error": message},
                            status=status).asgi_send(send)
    else:
        await Response.text(message, status=status).asgi_send(send)


@dataclass(frozen=True)
class Verdict:
    """The guard's answer: refuse (with a status and a message), or pass on, without the query
    string when the reader will be refused anyway (nothing they send is read)."""

    refusal: params.Refusal | None = None
    drop_query: bool = False


async def judge_request(datasette, actor: dict[str, Any] | None, path: str, method: str,
                        query_string: bytes) -> Verdict:
    """Judge a request by the policy before Datasette sees it."""
    role = (actor or {}).get("role")
    page = classify(path)
    if page is None:
        return Verdict()
    if page.kind == "endpoint":
        permission = policy.datasette_endpoint_permission(page.endpoint or "")
        if not policy.role_may(role, permission):
            return Verdict(params.Refusal(403, f"/-/{page.endpoint} is not open to this account."))
    if actor is None:
        return Verdict(drop_query=True)  # every data page is a 403 for anonymous visitors
    if page.kind == "row" and page.pks is not None and page.database is not None and page.name is not None:
        if not await row_in_review(datasette, actor, page.database, page.name, page.pks):
            return Verdict(params.Refusal(404, NOT_IN_REVIEW))
    if actor.get(policy.DATASETTE_SQL_ROLE):
        return Verdict()  # they can read every table of every review with SQL anyway
    sql_refusal = SQL_IS_STORE_WIDE if policy.role_may(role, policy.WRITE_SQL) else None
    if method not in ("GET", "HEAD") and page.kind != "endpoint":
        return Verdict(params.Refusal(405, "Datasette's pages are read-only here: use GET."))
    pairs = params.decoded_pairs(query_string)
    if not pairs:
        return Verdict()
    if page.kind in ("table", "row"):
        try:
            database = datasette.get_database(page.database)
        except KeyError:
            return Verdict(drop_query=True)  # Datasette answers 404
        # A canned query wins over a table of the same name, as in Datasette's TableView.
        query = await datasette.get_canned_query(page.database, page.name, actor) if page.kind == "table" else None
        # PRAGMA table_info: a table's or a view's columns, none when there is no such table.
        columns = [] if query is not None else await database.table_columns(page.name)
        if query is None and not columns:
            return Verdict(drop_query=True)  # Datasette answers 404
        permission = ("view-query" if query is not None else "view-table", (page.database, page.name))
        visible, _ = await datasette.check_visibility(
            actor, permissions=[permission, ("view-database", page.database), "view-instance"])
        if not visible:
            return Verdict(drop_query=True)  # Datasette answers 403
        if query is not None:
            named = query.get("params") or [
                name for name in await derive_named_parameters(database, query["sql"]) if not name.startswith("_")]
            return Verdict(params.judge("query", pairs, query_params=named, sql_refusal=sql_refusal))
        return Verdict(params.judge(page.kind, pairs, columns=columns, sql_refusal=sql_refusal))
    return Verdict(params.judge(page.kind, pairs, sql_refusal=sql_refusal))


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def guarded(scope, receive, send):
            if scope.get("type") == "http":
                query_string = without_blank_search(scope.get("query_string") or b"")
                if query_string != (scope.get("query_string") or b""):
                    scope = {**scope, "query_string": query_string}
                if asks_for_csv(scope.get("path") or "", query_string):
                    await Response.text(CSV_REFUSED, status=400).asgi_send(send)
                    return
                path = route_path(datasette, scope)
                actor = await request_actor(datasette, scope, receive)
                verdict = await judge_request(datasette, actor, path, scope.get("method") or "GET", query_string)
                if verdict.refusal is not None:
                    await _refuse(send, path, verdict.refusal.status, verdict.refusal.message)
                    return
                if verdict.drop_query and query_string:
                    scope = {**scope, "query_string": b""}
                scope = {**scope, SCOPE_KEY: actor}
                # Which page render_cell is drawing cells for; reset after, as the xlsx export
                # asks Datasette for pages inside a request.
                token = pages.CURRENT_PAGE.set(classify(path))
                try:
                    await app(scope, receive, send)
                finally:
                    pages.CURRENT_PAGE.reset(token)
                return
            await app(scope, receive, send)

        return guarded

    return wrap

