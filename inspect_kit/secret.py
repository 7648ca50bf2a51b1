"""The secret that signs session cookies, shared by Flask and Datasette.

Flask signs the login session with it and the Datasette plugin verifies the
same cookie (DESIGN.md §2, "One login"), so both must get the same value.
It comes from ``$INSPECT_KIT_SECRET_KEY`` when set, otherwise from the
store's ``secret_key`` file, created on first use so that logins survive a
restart of ``inspect-kit serve``.
"""

from __future__ import annotations

import os
import secrets

from .store import Store

SECRET_ENV = "INSPECT_KIT_SECRET_KEY"
SECRET_FILE = "secret_key"


def session_secret(store: Store) -> str:
    """Return the session-signing secret for ``store``, creating it if needed.

    The file is created readable by its owner only. Raises ``OSError`` when the
    store folder cannot be written.
    """
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        return from_env
    path = store.home / SECRET_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    store.home.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    # O_EXCL: if two processes race, one creates the file and the other reads it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value
