"""The audit trail's hash chain: how one row's hash is made from the row before.

Pure functions with no imports from the store, so both :mod:`inspect_kit.audit`
(which stamps new rows) and the schema migration that back-fills old rows use
the same rule without importing each other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# The "previous hash" of the first row.
GENESIS = "0" * 64
# The columns a row's hash covers, in this order.
HASHED_COLUMNS = ("id", "at", "actor", "action", "table_name", "row_id", "before", "after", "detail")


def row_hash(previous: str, row: Mapping[str, Any]) -> str:
    """The hash of one audit row chained to ``previous`` (the row before's hash, or :data:`GENESIS`).

    The row's columns are serialised as a JSON list in :data:`HASHED_COLUMNS`
    order, so no choice of text in one column can imitate another column.
    """
    payload = json.dumps([row.get(column) for column in HASHED_COLUMNS], ensure_ascii=False,
                         separators=(",", ":"))
    return hashlib.sha256(f"{previous}\n{payload}".encode("utf-8", "surrogatepass")).hexdigest()
