"""Is a signed-in account still allowed in? (disabled, removed or re-roled accounts)

A signed cookie stays valid until it expires, so, like the intake app on every
request, the plugin checks the account in ``private.db`` (read only, never
served). Answers are cached for :data:`CACHE_SECONDS` per account, so a
disabled account loses access within seconds without a query per request.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

from .. import policy
from .config import read_only_uri

CACHE_SECONDS = 5.0

_cache: dict[tuple[str, str], tuple[float, dict[str, Any] | None]] = {}


def read_account(private_path: Path, username: str) -> dict[str, Any] | None:
    """The account's role, strand, inspector code and disabled flag, or None (no such account, no readable file)."""
    try:
        with contextlib.closing(sqlite3.connect(read_only_uri(private_path), uri=True, timeout=1)) as conn:
            row = conn.execute("SELECT role, strand, disabled, inspector_code FROM accounts WHERE username = ?",
                               [username]).fetchone()
    except sqlite3.Error:
        return None
    if row is None:
        return None
    return {"role": row[0], "strand": row[1] or None, "disabled": bool(row[2]), "inspector_code": row[3] or None}


def account(private_path: Path, username: str) -> dict[str, Any] | None:
    """:func:`read_account`, cached for :data:`CACHE_SECONDS`."""
    key = (str(private_path), username)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is None or now - cached[0] > CACHE_SECONDS:
        cached = (now, read_account(private_path, username))
        _cache[key] = cached
    return cached[1]


def account_allows(private_path: Path, actor: dict[str, Any]) -> bool:
    """True when ``actor``'s account exists, is enabled and still has the same role and strand."""
    return policy.session_still_valid(account(private_path, actor["id"]), actor["role"], actor["strand"])


def forget() -> None:
    """Drop every cached answer (tests, after disabling an account)."""
    _cache.clear()
