"""``asgi_wrapper``: requests Datasette must not answer as asked.

**No CSV.** Datasette's built-in CSV does no formula escaping, so an
inspector's ``=HYPERLINK(...)`` runs when a lead opens the file in Excel; a
streamed CSV is cut at ``max_csv_mb`` with status 200; and it is not audited
(DESIGN.md §3, §8). Every ``.csv`` (or ``_format=csv``) request is refused
with a pointer to the page's ``.xlsx``, which has none of these faults; the
CSV links are hidden by ``inspect_kit.css``.

**No ``_extras=foreign_key_tables`` on a row's JSON.** Datasette's row JSON
can list every table with a foreign key to the row and a count from each,
whatever the reader may see: an inspector asking for a case learnt how many
findings of every strand and how many safeguarding alerts it has. Datasette
0.65 has no hook to filter that list, so the extra is removed from every
request's query string before Datasette sees it (leads and moderators can
count anything with SQL). The row *page* lists only readable tables
(``templates/datasette/row.html``).

**No ``_fts_table`` or ``_fts_pk`` in the URL.** Datasette lets a URL choose
the full-text index a table's ``_search`` uses: a police inspector searching
``chronology_events`` with ``_fts_table=findings_fts`` got back the events
whose ids are those of findings (of every strand) containing the word, an
oracle on text they may not read. The index is the catalogue's choice only.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

CSV_REFUSED = (
    "CSV downloads are switched off: Excel runs formulas it finds in CSV files (an =HYPERLINK(...) typed as "
    "evidence would become a live link), big CSV files are cut without warning, and CSV downloads are not "
    "audited. Use the .xlsx link on the same page: every text stays text and the export is audited."
)

REMOVED_EXTRA = "foreign_key_tables"
REMOVED_KEYS = ("_fts_table", "_fts_pk")


def without_foreign_key_tables(query_string: bytes) -> bytes:
    """``query_string`` without ``_fts_table`` and ``_fts_pk``, and with
    ``foreign_key_tables`` taken out of every ``_extras`` value."""
    if not any(word.encode() in query_string for word in (REMOVED_EXTRA, "_fts_")):
        return query_string
    pairs = []
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if key in REMOVED_KEYS:
            continue
        if key == "_extras":
            value = ",".join(extra for extra in value.split(",") if extra.strip() != REMOVED_EXTRA)
            if not value:
                continue
        pairs.append((key, value))
    return urlencode(pairs).encode("latin-1")


def asks_for_csv(path: str, query_string: bytes) -> bool:
    """True for a request of Datasette's CSV renderer (``….csv`` or ``_format=csv``)."""
    if path.lower().endswith(".csv"):
        return True
    return b"csv" in query_string.lower() and any(
        key == "_format" and value.strip().lower() == "csv"
        for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def guarded(scope, receive, send):
            if scope.get("type") == "http":
                query_string = scope.get("query_string") or b""
                if asks_for_csv(scope.get("path") or "", query_string):
                    await Response.text(CSV_REFUSED, status=400).asgi_send(send)
                    return
                if query_string:
                    scope = {**scope, "query_string": without_foreign_key_tables(query_string)}
            await app(scope, receive, send)

        return guarded

    return wrap
