"""The secret that signs session cookies, shared by Flask and Datasette.

Flask signs the login session with it and the Datasette plugin verifies the
same cookie (docs/architecture.md §2, "One login"), so both must get the same value.
It comes from ``$INSPECT_KIT_SECRET_KEY`` when set, otherwise from the
store's ``secret_key`` file, created on first use so that logins survive a
restart of ``inspect-kit serve``.
"""

from __future__ import annotations

import os
import secrets

from .file_modes import PRIVATE_FILE, make_private, make_private_folder
from .store import Store

SECRET_ENV = "INSPECT_KIT_SECRET_KEY"
SECRET_FILE = "secret_key"


def session_secret(store: Store) -> str:
    """Return the session-signing secret for ``store``, creating it if needed.

    The file is created readable by its owner only (0600 whatever the umask). Raises ``OSError`` when the
    store folder cannot be written.
    """
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        return from_env
    path = store.home / SECRET_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    if not store.home.exists():
        make_private_folder(store.home)
    value = secrets.token_hex(32)
    # O_EXCL: if two processes race, one creates the file and the other reads it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    make_private(fd)  # the mode given to os.open is filtered by the umask
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value
