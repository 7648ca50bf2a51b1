"""Files and folders the store writes are readable by their owner only.

``private.db`` holds password hashes and the keys from case references to the
local authority's identifiers, and ``evidence.db`` and the attachments hold
case evidence, so no other account on the machine may read them. Every file
the store writes (the databases and their ``-wal``/``-shm``, the session
secret, attachments, exported workbooks, backups) is made 0600 and every
folder it makes 0700, *whatever the umask*. SQLite creates a new database
0644 less the umask, so under the usual umask 022 (or 000) every local user
can read it; it gives ``-wal`` and ``-shm`` the mode of the database file
itself, so a database file created 0600 before SQLite opens it keeps its
journal private too. Modes are set with an explicit chmod, because the mode
given to ``mkdir``/``open`` is filtered by the umask.
"""

from __future__ import annotations

import errno
import os
import shlex
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
# Bits that let another account read, write or enter a file or folder.
SHARED_BITS = 0o077
# A filesystem without Unix modes (FAT or exFAT on a USB stick, some network
# shares) refuses a chmod it cannot represent (EPERM) or every chmod (ENOTSUP):
# there its mount options decide who may read, so the write goes ahead and
# `inspect-kit check` reports the modes as they really are.
NO_UNIX_MODES = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP})


def set_mode(target: Path | int, mode: int) -> None:
    """``chmod`` a path or open file, unless its filesystem cannot hold Unix modes.

    :raises OSError: any other failure.
    """
    try:
        os.chmod(target, mode)
    except OSError as error:
        if error.errno not in NO_UNIX_MODES:
            raise


def make_private_folder(path: Path) -> None:
    """Create ``path`` and any missing parents, each 0700; then make ``path`` itself 0700.

    Parents that already exist are left as they are (they are not ours).

    :raises OSError: a folder cannot be made or changed.
    """
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "Not a folder", str(path))
    missing = []
    folder = Path(path)
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:  # made by another process in between: it is still checked below
            continue
        set_mode(folder, PRIVATE_FOLDER)  # mkdir's mode is filtered by the umask
    set_mode(path, PRIVATE_FOLDER)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 if it does not exist (an existing file is untouched).

    SQLite then opens the empty file as a new database and keeps its mode.

    :raises OSError: the file cannot be made.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    try:
        set_mode(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def make_private(fd: int) -> None:
    """Make an open file 0600 (``mkstemp`` and ``os.open`` modes are filtered by the umask)."""
    set_mode(fd, PRIVATE_FILE)


def save_by_rename(path: Path, save: Callable[[str], None], *, prefix: str, suffix: str) -> None:
    """Call ``save`` with the name of a new 0600 file in ``path``'s folder, then rename
    that file onto ``path``, so a reader never sees half a document.

    :raises OSError: the folder cannot be written (a full disk, say); whatever
        ``save`` raises is raised too, and the temporary file is removed.
    """
    handle, temporary = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    make_private(handle)
    os.close(handle)
    try:
        save(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def loose_mode(path: Path) -> str | None:
    """``None`` when ``path`` is missing or owner-only; otherwise one line naming it,
    its mode, and the ``chmod`` that makes it private."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode) or not mode & SHARED_BITS:
        return None
    wanted = "700" if stat.S_ISDIR(mode) else "600"
    return (f"{path} is {stat.filemode(mode)} ({stat.S_IMODE(mode):04o}), open to other local users;"
            f" fix: chmod {wanted} {shlex.quote(str(path))}")
