"""``asgi_wrapper``: no ``_extras=foreign_key_tables`` on a row's JSON.

Datasette's row JSON can list every table with a foreign key to the row and a
count from each, whatever the reader may see: an inspector asking for a case
learnt how many findings of every strand and how many safeguarding alerts it
has. Datasette 0.65 has no hook to filter that list, so the extra is removed
from every request's query string before Datasette sees it (leads and
moderators can count anything with SQL). The row *page* lists only readable
tables (``templates/datasette/row.html``).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl

REMOVED_EXTRA = "foreign_key_tables"


def without_foreign_key_tables(query_string: bytes) -> bytes:
    """``query_string`` with ``foreign_key_tables`` taken out of every ``_extras`` value."""
    if REMOVED_EXTRA.encode() not in query_string:
        return query_string
    pairs = []
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if key == "_extras":
            value = ",".join(extra for extra in value.split(",") if extra.strip() != REMOVED_EXTRA)
            if not value:
                continue
        pairs.append((key, value))
    return urlencode(pairs).encode("latin-1")


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def without_extras(scope, receive, send):
            if scope.get("type") == "http" and scope.get("query_string"):
                scope = {**scope, "query_string": without_foreign_key_tables(scope["query_string"])}
            await app(scope, receive, send)

        return without_extras

    return wrap
