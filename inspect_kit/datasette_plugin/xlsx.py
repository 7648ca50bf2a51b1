"""``.xlsx`` on every Datasette page: tables, views, rows, canned queries and SQL.

Registered as its own ``datasette`` entry point (``inspect_kit_xlsx``). A
renderer is handed only the current page of rows (docs/architecture.md §3), so:

- a **table or view** is exported by paging through its ``.json`` with
  ``_next``, through ``datasette.client`` *with the requesting user's cookies*:
  each page is fetched with that user's rights, so the file never holds more
  than they may see (and a 403 stays a 403);
- a **canned query or SQL** is run again, on Datasette's read-only connection,
  with the page's own parameters; for canned queries through Datasette's
  ``MagicParameters`` so ``:_actor_strand`` and friends resolve to the
  requesting actor. Permission was checked by the view before the renderer
  runs; the re-run only lifts ``max_returned_rows`` (up to our own cap).

Both stop at the configured row cap (plugin setting ``max_rows``, default
100,000), which the About sheet states. The workbook is written ``write_only``
to a temporary file off the event loop and streamed back from disk. Every
export of an evidence store is written to its audit log (who, the page, rows,
capped or not); if that fails the export fails.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils import PrefixedUrlString, derive_named_parameters, sqlite_timelimit
from datasette.utils.asgi import Response

from ..excel.rows import DEFAULT_MAX_ROWS, RowsExport, export_filename

PLUGIN = "inspect_kit_xlsx"
DEFAULT_TIME_LIMIT_MS = 60_000
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Query-string keys that shape a page rather than choose rows: dropped when paging.
PAGE_KEYS = {"_size", "_next", "_shape", "_labels", "_nofacet", "_nocount", "_facet", "_facet_array",
             "_facet_date", "_trace", "_json", "_nl", "_timelimit"}
CHUNK_BYTES = 256 * 1024


class FileResponse(Response):
    """A response streamed from a file on disk, which is deleted once sent."""

    def __init__(self, path: Path, *, filename: str, headers: dict[str, str] | None = None):
        super().__init__(body=None, status=200, content_type=CONTENT_TYPE,
                         headers={"content-disposition": f'attachment; filename="{filename}"',
                                  "content-length": str(path.stat().st_size), **(headers or {})})
        self.path = path

    async def asgi_send(self, send) -> None:
        headers = dict(self.headers)
        headers["content-type"] = self.content_type
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [[key.encode("latin-1"), value.encode("latin-1")] for key, value in headers.items()]})
        try:
            with open(self.path, "rb") as handle:
                while chunk := handle.read(CHUNK_BYTES):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            self.path.unlink(missing_ok=True)


def settings(datasette) -> dict[str, int]:
    """The plugin's configured limits (``plugins: inspect_kit_xlsx: {max_rows, time_limit_ms}``)."""
    config = datasette.plugin_config(PLUGIN) or {}
    return {"max_rows": int(config.get("max_rows", DEFAULT_MAX_ROWS)),
            "time_limit_ms": int(config.get("time_limit_ms", DEFAULT_TIME_LIMIT_MS))}


def _who(actor: dict[str, Any] | None) -> str:
    if not actor:
        return "anonymous"
    parts = [str(actor.get("id"))]
    if actor.get("role"):
        parts.append(f"role {actor['role']}")
    if actor.get("strand"):
        parts.append(f"strand {actor['strand']}")
    return ", ".join(parts)


def _source(datasette, request) -> str:
    """The page's address as the user sees it (with ``base_url``, e.g. ``/data/…``)."""
    return datasette.urls.path(request.path) + (f"?{request.query_string}" if request.query_string else "")


def _temporary_path() -> Path:
    handle, name = tempfile.mkstemp(prefix="inspect-kit-", suffix=".xlsx")
    os.close(handle)
    return Path(name)


async def _export_table(datasette, request, database: str, table: str, export: RowsExport) -> str:
    """Page through the table's JSON as the requesting user; returns the filter description."""
    kept = [(key, value) for key in request.args.keys() if key not in PAGE_KEYS
            for value in request.args.getlist(key)]
    base = _unprefixed(datasette, datasette.urls.table(database, table, format="json"))
    headers = {}
    if request.headers.get("authorization"):
        headers["authorization"] = request.headers["authorization"]
    next_token = None
    description = ""
    while True:
        query = [*kept, ("_size", "max"), ("_shape", "arrays"), ("_labels", "on"), ("_nofacet", "1"),
                 ("_nocount", "1")]
        if next_token:
            query.append(("_next", next_token))
        response = await datasette.client.get(f"{base}?{urlencode(query)}", cookies=request.cookies,
                                              headers=headers)
        if response.status_code != 200:
            raise PageRefused(response.status_code, response.text[:500])
        page = response.json()
        description = page.get("human_description_en") or description
        rows = page.get("rows") or []
        if rows and isinstance(rows[0], dict):
            # With expanded labels Datasette 0.65 returns rows as objects even for _shape=arrays.
            rows = [[row.get(name) for name in export.columns] for row in rows]
        elif rows and page.get("columns") and page["columns"] != export.columns:
            # Keep every value under the heading it belongs to, whatever order the JSON used.
            positions = {name: index for index, name in enumerate(page["columns"])}
            rows = [[row[positions[name]] if name in positions else None for name in export.columns] for row in rows]
        more = await asyncio.to_thread(export.add, rows)
        next_token = page.get("next")
        if not more or not next_token:
            return description


def _unprefixed(datasette, url: str) -> PrefixedUrlString:
    """The app-relative path of a Datasette URL.

    ``datasette.client`` talks to Datasette's own ASGI app, which (under
    ``inspect-kit serve``) only ever sees paths with the ``base_url`` prefix
    already stripped by our dispatcher (docs/architecture.md §2); marking the result as
    prefixed stops the client from adding ``base_url`` back.
    """
    base_url = datasette.setting("base_url") or "/"
    if base_url != "/" and url.startswith(base_url):
        url = "/" + url[len(base_url):]
    return PrefixedUrlString(url)


class PageRefused(Exception):
    """A page of the export was refused (the user's rights) or failed."""

    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status


async def _export_query(datasette, request, database: str, sql: str, query_name: str | None,
                        export: RowsExport, time_limit_ms: int) -> None:
    """Run the page's SQL again without the page limit (up to the cap), on a read connection."""
    params: Any = {key: request.args.get(key) for key in request.args if key not in ("sql", "_shape")}
    # As Datasette's QueryView does: a named parameter missing from the URL is "".
    for name in await derive_named_parameters(datasette.get_database(database), sql):
        if not name.startswith("_"):
            params.setdefault(name, "")
    if query_name:
        from datasette.views.database import MagicParameters

        params = MagicParameters(params, request, datasette)
    limit = export.max_rows + 1

    def run(conn) -> None:
        with sqlite_timelimit(conn, time_limit_ms):
            cursor = conn.execute(sql, params)
            fetched = 0
            while fetched < limit:
                batch = cursor.fetchmany(min(1000, limit - fetched))
                if not batch:
                    return
                fetched += len(batch)
                if not export.add(batch):
                    return

    await datasette.get_database(database).execute_fn(run)


async def render_xlsx(datasette, request, database, table, sql, query_name, columns, rows, view_name, data):
    """The ``.xlsx`` renderer: see the module docstring."""
    limits = settings(datasette)
    name = table or query_name or database
    export = RowsExport(name, columns, max_rows=limits["max_rows"])
    facts: list[tuple[str, Any]] = [
        ("Export", f"Datasette {'table' if table else 'query'} {name}"),
        ("Exported by", _who(request.actor)),
        ("Exported at (UTC)", dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None).isoformat()),
        ("Source", _source(datasette, request)),
        ("Database", database),
    ]
    try:
        if view_name == "table" and table:
            description = await _export_table(datasette, request, database, table, export)
            facts.append(("Filters", description or "none: every row you may see"))
            facts.append(("Foreign keys", "shown by their labels"))
        elif sql:
            await _export_query(datasette, request, database, sql, query_name, export, limits["time_limit_ms"])
            facts.append(("SQL", sql))
            shown = {key: value for key, value in (data.get("query", {}).get("params") or {}).items()
                     if not key.startswith("_")}
            facts.append(("Parameters", ", ".join(f"{k} = {v}" for k, v in shown.items()) or "none"))
        else:
            await asyncio.to_thread(export.add, rows)
            facts.append(("Scope", "the rows of this page (a single row's page)"))
    except PageRefused as refused:
        return Response.text(f"The export was refused: {refused}", status=refused.status)
    except Exception as error:  # sqlite3 interrupt (time limit) or a broken query
        if "interrupted" in str(error).lower():
            return Response.text(f"The export took longer than {limits['time_limit_ms'] / 1000:.0f} s and was "
                                 "stopped. Filter the data and try again.", status=400)
        raise
    path = _temporary_path()
    try:
        result = await asyncio.to_thread(export.finish, path, facts)
        manifest = await asyncio.to_thread(audit_export, datasette.get_database(database).path, request.actor,
                                           _source(datasette, request), result.rows, result.capped,
                                           file_path=result.path, file_name=export_filename(name))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(result.path, filename=export_filename(name),
                        headers={"x-inspect-kit-rows": str(result.rows),
                                 "x-inspect-kit-capped": "1" if result.capped else "0",
                                 **({"x-inspect-kit-sha256": manifest["sha256"]} if manifest else {})})


def audit_export(path: str | None, actor: dict[str, Any] | None, source: str, rows: int, capped: bool, *,
                 file_path: Path | None = None, file_name: str | None = None) -> dict[str, Any] | None:
    """Write the export to the evidence store's audit log (docs/architecture.md §8: every
    export is audited) with its manifest (the file's sha256, rows, the audit
    chain's head; :mod:`inspect_kit.manifests`) when ``file_path`` is given;
    returns the manifest (with ``audit_id``), or None for a database that is
    not an evidence store (no ``audit_log`` table).

    Uses its own short write connection: Datasette's connections are read-only.
    """
    if not path:
        return None
    from .. import audit, manifests
    from ..actors import Actor
    from ..store import connect, write_transaction

    db = connect(path)
    try:
        if not db["audit_log"].exists():
            return None
        who = Actor(username=str((actor or {}).get("id") or "anonymous"), role=str((actor or {}).get("role") or ""),
                    strand=(actor or {}).get("strand"))
        detail = f"{source}: {rows} rows" + (" (CAPPED)" if capped else "")
        if file_path is not None:
            # The export belongs to the review it was made in (the audit log of each review lists its own).
            return manifests.record_manifest(db, who, file_path, what="Datasette .xlsx export",
                                             action="export.datasette_xlsx", row_counts={"rows": rows},
                                             review_id=(actor or {}).get("review_id"), detail=detail,
                                             file_name=file_name)
        with write_transaction(db):
            return {"audit_id": audit.record(db, who, "export.datasette_xlsx", detail=detail)}
    finally:
        db.close()


def can_render_xlsx(view_name, table, sql, query_name):
    """Offer ``.xlsx`` wherever there are rows: tables, views, rows, canned queries and SQL."""
    return bool(table or sql or query_name) and view_name != "index"


@hookimpl
def register_output_renderer(datasette):
    return {"extension": "xlsx", "render": render_xlsx, "can_render": can_render_xlsx}
