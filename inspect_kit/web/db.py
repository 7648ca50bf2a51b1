"""One database connection per request, kept on ``flask.g`` (flaskr's db.py).

A ``sqlite_utils.Database`` must not be shared across threads (DESIGN.md §3),
and a2wsgi runs requests on a thread pool, so every request opens its own
connection (~0.1 ms) and closes it on teardown.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlite_utils import Database

from ..store import Store


def get_store() -> Store:
    """The evidence store this app serves."""
    from . import STORE_EXTENSION

    return current_app.extensions[STORE_EXTENSION]


def get_db() -> Database:
    """This request's connection to ``evidence.db``.

    :raises StoreError: when the store has not been initialised.
    """
    if "evidence_db" not in g:
        g.evidence_db = get_store().evidence()
    return g.evidence_db


def get_private_db() -> Database:
    """This request's connection to ``private.db`` (accounts, identity keys).

    :raises StoreError: when the store has not been initialised.
    """
    if "private_db" not in g:
        g.private_db = get_store().private()
    return g.private_db


def close_db(exception: BaseException | None = None) -> None:
    """Close whatever connections this request opened."""
    for name in ("evidence_db", "private_db"):
        db = g.pop(name, None)
        if db is not None:
            db.close()


def init_app(app: Flask) -> None:
    """Register the teardown that closes each request's connections."""
    app.teardown_appcontext(close_db)
