"""What ``make_datasette`` tells the plugin: how to read the intake app's login.

Kept on the Datasette instance rather than in metadata, because metadata is
readable by every logged-in user at ``/-/metadata.json`` and the secret must
not be. A Datasette started without :func:`configure` (by hand) has none, so
nobody is recognised.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from .session import IntakeSession, intake_defaults

if TYPE_CHECKING:  # datasette.app imports this module while loading plugins
    from datasette.app import Datasette

ATTRIBUTE = "_inspect_kit_intake"


def read_only_uri(path: str | Path) -> str:
    """A SQLite URI opening ``path`` read-only. The path is quoted: unquoted, a
    ``#`` or ``?`` in a folder name cut the path short and SQLite opened some
    other file (or none), so a private store was not recognised."""
    return f"file:{quote(str(path))}?mode=ro"


def configure(datasette: Datasette, *, secret: str, max_age: timedelta | None = None,
              cookie_name: str | None = None, accounts_path: Path | None = None) -> IntakeSession:
    """Let ``datasette`` recognise users logged in to the intake app signed with ``secret``
    (and, given the store's ``private.db`` as ``accounts_path``, whose account is still enabled)."""
    default_name, default_age = intake_defaults()
    intake = IntakeSession(secret=secret, max_age=max_age or default_age, cookie_name=cookie_name or default_name,
                           accounts_path=accounts_path)
    setattr(datasette, ATTRIBUTE, intake)
    return intake


def intake_session(datasette: Datasette) -> IntakeSession | None:
    """The intake login settings of ``datasette``, or None when not configured (fail closed)."""
    return getattr(datasette, ATTRIBUTE, None)
