"""``get_metadata`` and ``startup``: the generated catalogue, kept fresh, and no private.db.

Datasette asks for metadata many times per request, so the catalogue is built
once and cached per Datasette instance. It is rebuilt when the database says
it changed: at most every :data:`CHECK_SECONDS` each worker process reads a
fingerprint of what the catalogue is made from (the schema version, the
current review's row and its strands; three indexed reads, well under a
millisecond) and rebuilds when that differs. So a review created or a
migration applied while the server runs reaches every worker process within
about a second, with no message between processes and no rebuild while
nothing changed.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from datasette import hookimpl
from sqlite_utils import Database

from . import catalogue
from .config import read_only_uri
from .scope import hide_whole_file_counts

if TYPE_CHECKING:  # datasette.app imports this module while loading plugins
    from datasette.app import Datasette

CHECK_SECONDS = 1.0


@dataclass
class _Cached:
    metadata: dict[str, Any]
    databases: tuple[str, ...]
    fingerprint: tuple
    checked_at: float = field(default_factory=time.monotonic)


_CACHE: weakref.WeakKeyDictionary[Datasette, _Cached] = weakref.WeakKeyDictionary()


def _open_read_only(path: str) -> Database:
    return Database(sqlite3.connect(read_only_uri(path), uri=True))


def database_metadata(path: str | None) -> dict[str, Any]:
    """The catalogue of one database file: an evidence store's, or closed (leads only)."""
    if not path:
        return catalogue.closed_database_metadata()
    try:
        with contextlib.closing(_open_read_only(path)) as db:
            if catalogue.is_evidence_store(db) and not catalogue.is_private_store(db):
                return catalogue.evidence_database_metadata(db)
    except sqlite3.Error:
        pass
    return catalogue.closed_database_metadata()


def _fingerprint_of(path: str) -> tuple:
    try:
        with contextlib.closing(sqlite3.connect(read_only_uri(path), uri=True, timeout=1)) as conn:
            (schema_version,) = conn.execute("PRAGMA schema_version").fetchone()
            review = conn.execute("SELECT * FROM reviews ORDER BY id DESC LIMIT 1").fetchone()
            strands = conn.execute("SELECT group_concat(strand_id) FROM (SELECT DISTINCT strand_id FROM inspectors"
                                   " WHERE review_id = ? ORDER BY strand_id)", [review[0] if review else None]
                                   ).fetchone()
    except sqlite3.Error:
        return ("unreadable",)
    return (schema_version, review, strands)


def fingerprint(datasette: Datasette) -> tuple:
    """What the catalogue of ``datasette``'s databases is built from, as read now from the files."""
    return tuple(_fingerprint_of(database.path) for name, database in sorted(datasette.databases.items())
                 if name != "_internal" and not database.is_memory)


def build(datasette: Datasette) -> dict[str, Any]:
    """The whole instance metadata for the databases ``datasette`` serves."""
    return catalogue.build_metadata({
        name: database_metadata(None if database.is_memory else database.path)
        for name, database in datasette.databases.items()
        if name != "_internal"
    })


def current(datasette: Datasette) -> dict[str, Any]:
    """The cached catalogue of ``datasette``, rebuilt when the databases say it changed."""
    names = tuple(sorted(datasette.databases))
    cached = _CACHE.get(datasette)
    if cached is not None and cached.databases == names and time.monotonic() - cached.checked_at < CHECK_SECONDS:
        return cached.metadata
    now = fingerprint(datasette)
    if cached is None or cached.databases != names or cached.fingerprint != now:
        cached = _Cached(metadata=build(datasette), databases=names, fingerprint=now)
        _CACHE[datasette] = cached
    else:
        cached.checked_at = time.monotonic()
    return cached.metadata


def refresh(datasette: Datasette) -> dict[str, Any]:
    """Rebuild the catalogue now (after setting up a review, in tests)."""
    _CACHE.pop(datasette, None)
    return current(datasette)


@hookimpl
def get_metadata(datasette, key, database, table):
    # Datasette merges local metadata (make_datasette's or ``-m``) over this,
    # so a caller can still override a title, or loosen a rule on purpose.
    return per_request(current(datasette))


def per_request(metadata: dict[str, Any]) -> dict[str, Any]:
    """``metadata`` with a fresh ``queries`` dict for each database, sharing everything else.

    Datasette 0.65's ``get_canned_queries`` updates the dict that ``metadata("queries")``
    returns with what the ``canned_queries`` hook gives for the asking actor (our coverage
    matrix, with the actor's review's strands). Handed the cached dict, one reader's queries
    stayed in the catalogue for the next request and for ``/-/metadata.json``: state crossing
    requests. A copy of the one dict Datasette writes to costs microseconds.
    """
    databases = {name: ({**config, "queries": dict(config["queries"])} if "queries" in config else config)
                 for name, config in (metadata.get("databases") or {}).items()}
    return {**metadata, "databases": databases}


@hookimpl
def startup(datasette):
    """Refuse to serve a private store (accounts, password hashes, identity keys),
    or a file that cannot be opened to check."""
    for name, database in list(datasette.databases.items()):
        if database.is_memory or not database.path:
            continue
        try:
            with contextlib.closing(_open_read_only(database.path)) as db:
                private = catalogue.is_private_store(db)
        except sqlite3.Error as error:
            # Fail closed: a file we cannot check might be the private store.
            datasette.remove_database(name)
            print(f"inspect_kit: not serving {database.path}: it could not be checked ({error}), so it might "
                  "hold accounts and identity keys.", file=sys.stderr)
            continue
        if private:
            datasette.remove_database(name)
            print(f"inspect_kit: not serving {database.path}: it holds accounts and identity keys "
                  "(private.db is never served).", file=sys.stderr)
    hide_whole_file_counts(datasette)
    refresh(datasette)
