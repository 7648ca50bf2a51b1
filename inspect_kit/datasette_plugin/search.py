"""``prepare_connection``: every Datasette search box takes plain words.

Datasette's table search (``?_search=``) runs ``MATCH escape_fts(:search)``.
Its ``escape_fts`` leaves an empty query for ``"``, ``""`` or a blank, and
FTS5 answers that with a syntax error (a 400 page); a NUL byte gives
"unterminated string". So our connections replace it with
:func:`inspect_kit.fulltext.phrase_query`, which keeps Datasette's reading
(every word required, double-quoted text one phrase) and is always valid
FTS5; and they get ``ik_fts_phrase(text)``, the same function under our
name, for the canned queries' own search parameters.

``trylast``: pluggy calls the hooks of plugins registered later first, so
without it Datasette's own ``prepare_connection`` (``datasette.sql_functions``)
would run after ours and put its ``escape_fts`` back.
"""

from __future__ import annotations

from datasette import hookimpl

from .. import fulltext


@hookimpl(trylast=True)
def prepare_connection(conn):
    fulltext.register(conn)
    conn.create_function("escape_fts", 1, fulltext.phrase_query, deterministic=True)
