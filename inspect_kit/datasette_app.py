"""The Datasette half of the one-process server.

Datasette gets ``evidence.db`` and nothing else: never ``private.db`` (a
table-level ``allow: false`` does not stop SQL from reading a table, so
personal data lives in a file Datasette never opens), never immutable (the
evidence DB is live: immutable mode gives stale counts and "no such
column"), never ``crossdb`` or ``memory`` (DESIGN.md §2).

This is the hook for the Datasette issue: its metadata, settings and plugin
are added in :func:`make_datasette`.
"""

from __future__ import annotations

from typing import Any

from datasette.app import Datasette

from .store import Store

BASE_URL = "/data/"
DATABASE_NAME = "evidence"


def default_metadata() -> dict[str, Any]:
    """Metadata used when the caller gives none: hide the migrations table."""
    return {
        "title": "inspect_kit evidence",
        "databases": {DATABASE_NAME: {"tables": {"_sqlite_migrations": {"hidden": True}}}},
    }


def make_datasette(
    store: Store,
    secret_key: str,
    *,
    metadata: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> Datasette:
    """A Datasette serving ``store``'s ``evidence.db`` (read-only) under ``/data/``.

    The server strips the ``/data`` prefix before Datasette sees a request and
    ``base_url`` puts it back on every link (keeping the prefix instead gives
    doubled ``/data/data/`` links, Datasette issue 2105).

    :raises StoreError: when the store has not been initialised.
    """
    # Open it once through the store so that a missing store fails with our
    # message rather than Datasette's.
    store.evidence().close()
    return Datasette(
        files=[str(store.evidence_path)],
        immutables=[],
        metadata=metadata if metadata is not None else default_metadata(),
        settings={"base_url": BASE_URL, **(settings or {})},
        secret=secret_key,
        memory=False,
        crossdb=False,
    )
