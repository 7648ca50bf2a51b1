"""Restoring a backup into a new, empty store home.

A backup made by ``inspect-kit backup`` is itself a store. Restoring checks
it first with the checks ``inspect-kit check`` runs (both databases'
integrity and foreign keys, every attachment's size and sha256), refuses a
damaged or unfinished one, then copies it with the same verified copy
``backup`` makes (:func:`inspect_kit.maintenance.backup_store`: written to a
temporary folder, verified, renamed into place; nothing left on failure),
and finally brings the restored store's schema up to date (an older backup
may predate some migrations). The backup itself is only read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import StoreError
from .maintenance import BackupReport, Progress, backup_store, check_store
from .store import Store


class RestoreRefused(StoreError):
    """The backup is damaged, unfinished or missing, or the new home is not empty; nothing was written."""


@dataclass
class RestoreReport:
    """What was restored: the copy's report and the migrations applied after."""

    copy: BackupReport
    migrated: list[str] = field(default_factory=list)


def restore_store(backup: Path | str, home: Path | str, progress: Progress | None = None) -> RestoreReport:
    """Restore the backup folder ``backup`` into ``home`` (new or empty).

    :raises RestoreRefused: ``backup`` is not a store, fails its checks (the
        first fault is named), or ``home`` exists and is not empty.
    :raises BackupFailed: copying or verifying the copy failed (nothing is kept).
    """
    source = Store(Path(backup))
    home = Path(home)
    if not source.exists():
        raise RestoreRefused(f"{source.home} is not a backup of an evidence store (no evidence.db and private.db).")
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise RestoreRefused(f"{home} already exists and is not empty; restore into a new or empty folder.")
    report = check_store(source, progress)
    # A backup older than this version lacks the newest migrations: that is
    # expected (they are applied after the copy), not damage.
    faults = [fault for section in report.sections if not section.name.endswith(": migrations")
              for fault in section.faults]
    if faults:
        raise RestoreRefused(f"The backup at {source.home} does not pass its checks ({faults[0]}"
                             f"{'; and more' if len(faults) > 1 else ''}); nothing was restored. Run "
                             f"`inspect-kit check --home {source.home}` to see every problem.")
    copy = backup_store(source, home, progress)
    return RestoreReport(copy=copy, migrated=Store(home).init())
