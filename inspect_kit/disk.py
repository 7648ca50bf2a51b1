"""The evidence store's disk: recognise a full or failing disk, and measure free space.

SQLite reports a full disk as ``sqlite3.OperationalError: database or disk is
full`` (``SQLITE_FULL``) and a failing one as ``disk I/O error``
(``SQLITE_IOERR_*``); writing a file reports ``OSError`` with ``ENOSPC`` /
``EDQUOT`` or ``EIO``. :func:`storage_fault` turns any of these into a
:class:`~inspect_kit.errors.StorageFault` whose message says what happened and
what to do, so every shell (form, API, CLI) can answer it plainly instead of
with a generic 500.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .errors import StorageFault

# sqlite3 primary result codes (the low byte of an extended code).
SQLITE_IOERR = 10
SQLITE_FULL = 13

DISK_FULL = "disk_full"
IO_ERROR = "io_error"

FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
IO_ERRNOS = {errno.EIO}

# Below this much free space /healthz says "degraded": a few hundred findings
# are a few hundred KB, but an attachment is up to 10 MB and SQLite's WAL grows
# by every page a transaction touches until a checkpoint, so 100 MiB is a
# margin an administrator can act on before writes start failing. On a small
# filesystem the margin is 5 % of its size instead (a test's 8 MiB tmpfs would
# otherwise always read as degraded).
LOW_SPACE_BYTES = 100 * 1024 * 1024
LOW_SPACE_FRACTION = 0.05

MESSAGES = {
    DISK_FULL: "The evidence store's disk is full, so nothing was saved.",
    IO_ERROR: "The evidence store's disk reported an error (a disk I/O error), so nothing was saved.",
}
REMEDIES = {
    DISK_FULL: "Tell the review's administrator: they need to free space on the disk that holds the evidence "
               "store (or move the store to a larger disk); then save again.",
    IO_ERROR: "Tell the review's administrator: the disk holding the evidence store may be failing (they should "
              "run `inspect-kit check` and look at the server's log); then save again.",
}


def fault_kind(error: BaseException) -> str | None:
    """``"disk_full"``, ``"io_error"`` or None (not a disk fault) for an exception."""
    if isinstance(error, StorageFault):
        return error.kind
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        if code is not None:
            primary = code & 0xFF
            if primary == SQLITE_FULL:
                return DISK_FULL
            if primary == SQLITE_IOERR:
                return IO_ERROR
        text = str(error).lower()
        if "database or disk is full" in text:
            return DISK_FULL
        if "disk i/o error" in text:
            return IO_ERROR
        return None
    if isinstance(error, OSError):
        if error.errno in FULL_ERRNOS:
            return DISK_FULL
        if error.errno in IO_ERRNOS:
            return IO_ERROR
    # openpyxl writes sheets through lxml when it is installed, and lxml reports
    # a full disk as its own SerialisationError("IO_ENOSPC"), not an OSError.
    if type(error).__name__ == "SerialisationError":
        text = str(error)
        if "ENOSPC" in text or "EDQUOT" in text:
            return DISK_FULL
        if "EIO" in text:
            return IO_ERROR
    return None


def storage_fault(error: BaseException) -> StorageFault | None:
    """A :class:`StorageFault` describing ``error``, or None when it is not a disk fault."""
    if isinstance(error, StorageFault):
        return error
    kind = fault_kind(error)
    if kind is None:
        return None
    return StorageFault(f"{MESSAGES[kind]} {REMEDIES[kind]}", kind=kind)


@dataclass(frozen=True)
class DiskSpace:
    """Free and total bytes of the filesystem holding a path."""

    free: int
    total: int

    @property
    def low_threshold(self) -> int:
        """The free space under which the store is reported as degraded."""
        return min(LOW_SPACE_BYTES, int(self.total * LOW_SPACE_FRACTION))

    @property
    def low(self) -> bool:
        return self.free < self.low_threshold


def disk_space(path: Path | str) -> DiskSpace | None:
    """Free space on the filesystem holding ``path`` (None when it cannot be measured)."""
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None
    return DiskSpace(free=usage.free, total=usage.total)
