"""The Datasette half of the one-process server.

Datasette gets ``evidence.db`` and nothing else: never ``private.db`` (a
table-level ``allow: false`` does not stop SQL from reading a table, so
personal data lives in a file Datasette never opens), never immutable (the
evidence DB is live: immutable mode gives stale counts and "no such
column"), never ``crossdb`` or ``memory`` (docs/architecture.md §2).

The catalogue (titles, descriptions, facets, canned queries and every access
rule) comes from our plugin (:mod:`inspect_kit.datasette_plugin`), generated
from the store by :mod:`inspect_kit.datasette_plugin.catalogue`; this module tells the plugin
the intake app's session secret and picks the settings for large stores.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from datasette.app import Datasette
from datasette.plugins import pm

from ..store import Store

BASE_URL = "/data/"
DATABASE_NAME = "evidence"

# Settings for stores of up to ~1,000,000 findings, measured by
# bench/datasette.py (figures in its docstring and the issue):
SETTINGS: dict[str, Any] = {
    # Facet *suggestions* cost ~1.5 s of a 1.7 s findings page on 1,000,000
    # findings (docs/architecture.md §3); the default facets are set in the catalogue.
    "suggest_facets": False,
    # The default 200 ms silently drops facets on a large filtered page
    # (HTTP 200, empty facet results, docs/architecture.md §9).
    "facet_time_limit_ms": 3_000,
    # The whole-review aggregates (coverage matrix, balance check) join every
    # finding to its criteria: 2–5 s at a million findings, p95 9.5 s with the
    # machine's load average at 5. The default 1 s would cut them off; the
    # readers are a handful of trusted leads, not the public.
    "sql_time_limit_ms": 30_000,
    # A case chronology is ~60–300 rows; the balance check ~100. 1,000 is
    # Datasette's default and keeps a runaway query's page small.
    "max_returned_rows": 1_000,
    # Datasette only offers downloads of immutable databases; ours is live,
    # but say so rather than rely on it.
    "allow_download": False,
}


def default_metadata() -> dict[str, Any]:
    """Local metadata used when the caller gives none: nothing.

    Everything comes from the plugin's generated catalogue. Local metadata
    would override it (Datasette merges local over plugin metadata), so keep
    it empty unless a test means to override something.
    """
    return {}


def ensure_plugin_registered() -> None:
    """Register our plugin even when the package's entry point is not installed
    (running from a plain checkout on ``PYTHONPATH``)."""
    from .. import datasette_plugin

    if not pm.is_registered(datasette_plugin) and pm.get_plugin("inspect_kit") is None:
        pm.register(datasette_plugin, name="inspect_kit")


def make_datasette(
    store: Store,
    secret_key: str,
    *,
    metadata: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    session_max_age: timedelta | None = None,
    check_accounts: bool = True,
) -> Datasette:
    """A Datasette serving ``store``'s ``evidence.db`` (read-only) under ``/data/``.

    Users logged in to the intake app are recognised from its session cookie,
    signed with ``secret_key`` (the same secret Flask uses) and valid for
    ``session_max_age`` (default: the intake app's ``SESSION_LIFETIME``);
    with ``check_accounts`` their account in ``private.db`` (read, never
    served) must still be enabled and hold the same role.

    The server strips the ``/data`` prefix before Datasette sees a request and
    ``base_url`` puts it back on every link (keeping the prefix instead gives
    doubled ``/data/data/`` links, Datasette issue 2105).

    :raises StoreError: when the store has not been initialised.
    """
    from . import configure

    # Open it once through the store so that a missing store fails with our
    # message rather than Datasette's.
    store.evidence().close()
    ensure_plugin_registered()
    datasette = Datasette(
        files=[str(store.evidence_path)],
        immutables=[],
        metadata=metadata if metadata is not None else default_metadata(),
        settings={"base_url": BASE_URL, **SETTINGS, **(settings or {})},
        secret=secret_key,
        memory=False,
        crossdb=False,
    )
    configure(datasette, secret=secret_key, max_age=session_max_age,
              accounts_path=store.private_path if check_accounts else None)
    return datasette
