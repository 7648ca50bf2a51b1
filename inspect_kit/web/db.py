"""One database connection per request, kept on ``flask.g`` (flaskr's db.py).

A ``sqlite_utils.Database`` must not be shared across threads (docs/architecture.md §3),
and a2wsgi runs requests on a thread pool, so every request gets a connection
of its own thread. By default it is opened for the request and closed on
teardown. With ``REUSE_DB_CONNECTIONS`` (set by ``inspect-kit serve``, see
:func:`inspect_kit.web.server.build_app`) each worker thread keeps its connections
open for the next request instead: a new connection parses the whole schema on
its first statement, ~0.7 ms of CPU for evidence.db (not the ~0.1 ms first assumed),
about a quarter of an API write's CPU (bench/intake.py). A connection is still
never used by two threads, is rolled back if a request left a transaction
open, and is closed and replaced after a request that failed.

Everything here (and ``g.api_actor`` in web/api.py) relies on ``g`` belonging
to one request. Flask keeps ``g`` in a context variable and reuses an app
context it finds already current, so a context leaked from an earlier request
once carried that request's ``g`` (its connections, from another thread, and
its API caller) into the next request on the same connection. The server runs
every request in a new, empty context (:class:`inspect_kit.web.server.FreshContextWSGI`);
sqlite3's own same-thread check would still refuse a connection from another
thread rather than share it.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, g
from sqlite_utils import Database

from ..store import Store

# Where create_app keeps the store on the app (``app.extensions``).
STORE_EXTENSION = "inspect_kit.store"


def get_store() -> Store:
    """The evidence store this app serves."""
    return current_app.extensions[STORE_EXTENSION]


def get_db() -> Database:
    """This request's connection to ``evidence.db``.

    :raises StoreError: when the store has not been initialised.
    """
    if "evidence_db" not in g:
        g.evidence_db = _open("evidence_db")
    return g.evidence_db


def get_private_db() -> Database:
    """This request's connection to ``private.db`` (accounts, identity keys).

    :raises StoreError: when the store has not been initialised.
    """
    if "private_db" not in g:
        g.private_db = _open("private_db")
    return g.private_db


# Per worker thread: (store folder, "evidence_db" | "private_db") -> Database.
_thread_connections = threading.local()


def _open(name: str) -> Database:
    store = get_store()
    opener = store.evidence if name == "evidence_db" else store.private
    if not current_app.config.get("REUSE_DB_CONNECTIONS"):
        return opener()
    kept = getattr(_thread_connections, "databases", None)
    if kept is None:
        kept = _thread_connections.databases = {}
    key = (str(store.home), name)
    if key not in kept:
        kept[key] = opener()
    return kept[key]


def close_db(exception: BaseException | None = None) -> None:
    """Close (or, when reused, reset) whatever connections this request used."""
    reuse = current_app.config.get("REUSE_DB_CONNECTIONS")
    for name in ("evidence_db", "private_db"):
        db = g.pop(name, None)
        if db is None:
            continue
        if reuse and exception is None:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            continue
        if reuse:
            getattr(_thread_connections, "databases", {}).pop((str(get_store().home), name), None)
        db.close()


def init_app(app: Flask) -> None:
    """Register the teardown that closes each request's connections."""
    app.teardown_appcontext(close_db)
