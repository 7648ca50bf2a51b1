"""The audit trail: every write and every export leaves a row.

Rows are written inside the caller's transaction, so a change and its audit
row commit together or not at all.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from .actors import Actor
from .store import now


def record(
    db: Database,
    actor: Actor,
    action: str,
    *,
    table: str | None = None,
    row_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str | None = None,
) -> int:
    """Append one audit row and return its id.

    ``before``/``after`` are stored as JSON snapshots of the changed row.
    """
    cursor = db.execute(
        "INSERT INTO audit_log (at, actor, action, table_name, row_id, before, after, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            now(),
            actor.username,
            action,
            table,
            row_id,
            None if before is None else json.dumps(before, sort_keys=True, default=str),
            None if after is None else json.dumps(after, sort_keys=True, default=str),
            detail,
        ],
    )
    return cursor.lastrowid


def trail(db: Database, table: str, row_id: int) -> list[dict[str, Any]]:
    """The audit rows of one record, oldest first."""
    return list(db.query("SELECT * FROM audit_log WHERE table_name = ? AND row_id = ? ORDER BY id", [table, row_id]))
