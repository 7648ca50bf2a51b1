"""The audit trail: every write and every export leaves a row.

Rows are written inside the caller's transaction, so a change and its audit
row commit together or not at all.

The trail is tamper-evident (docs/architecture.md §8): each row's ``hash`` is the sha256 of
the previous row's hash and of what this row records (its id, time, actor,
action, table, row, before, after and detail). Changing, deleting or
re-ordering any row breaks every hash after it, which ``inspect-kit verify``
(:mod:`inspect_kit.verify`) reports. A chain does not stop someone who can
rewrite the whole file from recomputing it; the manifests handed out with
exports and reports carry the chain head of their moment, so a later rewrite
no longer matches them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlite_utils import Database

from .actors import Actor
from .audit_chain import GENESIS as GENESIS
from .audit_chain import HASHED_COLUMNS as HASHED_COLUMNS
from .audit_chain import row_hash as row_hash
from .store import insert_row, now, write_transaction

# What a redacted row keeps and its purge certificate vouches for (inspect_kit.purge).
REDACTION_OUTLINE = ("id", "at", "actor", "action", "table_name", "row_id", "hash")


def redaction_digest(rows: list[tuple[Any, ...]]) -> str:
    """The sha256 of redacted rows' :data:`REDACTION_OUTLINE` values, in id order: a purge
    certificate records it, and ``inspect-kit verify`` recomputes it."""
    return hashlib.sha256(json.dumps([list(row) for row in rows], separators=(",", ":")).encode()).hexdigest()


def head(db: Database) -> dict[str, Any]:
    """The chain's head: ``{"id", "hash"}`` of the last audit row (id 0 and :data:`GENESIS` when empty)."""
    row = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return {"id": 0, "hash": GENESIS}
    return {"id": row[0], "hash": row[1] or GENESIS}


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
    """Append one audit row, chained to the last, and return its id.

    ``before``/``after`` are stored as JSON snapshots of the changed row. The
    row is written in the caller's transaction, or in one of its own
    (``BEGIN IMMEDIATE``), so reading the chain's head and appending to it
    cannot interleave with another writer.
    """
    with write_transaction(db):
        last = head(db)
        row = {
            "id": last["id"] + 1,
            "at": now(),
            "actor": actor.username,
            "action": action,
            "table_name": table,
            "row_id": row_id,
            "before": None if before is None else json.dumps(before, sort_keys=True, default=str),
            "after": None if after is None else json.dumps(after, sort_keys=True, default=str),
            "detail": detail,
        }
        row["hash"] = row_hash(last["hash"], row)
        insert_row(db, "audit_log", row)
        return row["id"]


def trail(db: Database, table: str, row_id: int) -> list[dict[str, Any]]:
    """The audit rows of one record, oldest first."""
    return list(db.query("SELECT * FROM audit_log WHERE table_name = ? AND row_id = ? ORDER BY id", [table, row_id]))
