"""Acknowledged writes are durable: every store connection commits with synchronous=FULL
(the cost is measured by bench/intake.py)."""

from __future__ import annotations

import contextlib

from inspect_kit.store import connect

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def test_store_connections_commit_with_synchronous_full(store):
    for open_db in (store.evidence, store.private):
        with contextlib.closing(open_db()) as db:
            assert db.execute("PRAGMA synchronous").fetchone()[0] == FULL
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_new_database_file_is_full_too(tmp_path):
    with contextlib.closing(connect(tmp_path / "new.db", create=True)) as db:
        assert db.execute("PRAGMA synchronous").fetchone()[0] == FULL


def test_the_servers_kept_connections_are_full(store):
    # inspect-kit serve keeps one connection per worker thread (web/db.py).
    from inspect_kit.web.db import get_db, get_private_db
    from inspect_kit.web.server import build_app

    server = build_app(store, secret_key="synchronous-test-secret")
    with server.flask.test_request_context("/"):
        assert get_db().execute("PRAGMA synchronous").fetchone()[0] == FULL
        assert get_private_db().execute("PRAGMA synchronous").fetchone()[0] == FULL
