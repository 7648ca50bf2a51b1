"""Look after a store: its state, a consistency check and a live backup.

These are library functions that take a :class:`~inspect_kit.store.Store`
and return report objects; the CLI (``inspect-kit check`` / ``backup``) and
``/healthz`` only format them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shlex
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from .errors import StoreError
from .file_modes import create_private_file, loose_mode, make_private_folder, set_mode
from .schema import FTS_COLUMNS, evidence_migrations, private_migrations
from .secret import SECRET_FILE
from .store import Store, connect

# How many faults of one kind a report lists before summarising the rest.
MAX_LISTED = 20
# An attachment's file name: the sha256 of its content (attachments.blob_path).
BLOB_NAME = re.compile(r"^[0-9a-f]{64}$")
# Written first into a backup being made and removed once it is verified and
# in place: a folder left by a killed backup fails `inspect-kit check`.
UNFINISHED_MARKER = ".backup-unfinished"
CHUNK_BYTES = 1024 * 1024

# Called with (bytes done, bytes in all) while attachments are read.
Progress = Callable[[int, int], None]


@dataclass
class StoreState:
    """What ``/healthz`` reports: files present, migrations, a few counts."""

    evidence_db: bool
    private_db: bool
    pending_migrations: list[str] = field(default_factory=list)
    reviews: int | None = None
    findings: int | None = None
    error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.evidence_db and self.private_db and not self.pending_migrations and self.error is None

    def as_dict(self) -> dict:
        return {
            "status": "ok" if self.healthy else "unavailable",
            "databases": {"evidence": self.evidence_db, "private": self.private_db},
            "migrations": {"applied": not self.pending_migrations, "pending": self.pending_migrations},
            "counts": {"reviews": self.reviews, "findings": self.findings},
            "error": self.error,
        }


def store_state(store: Store) -> StoreState:
    """Describe the store without changing it (never creates a file).

    Never raises for a missing or unreadable store: the fault is in ``error``.
    """
    state = StoreState(evidence_db=store.evidence_path.exists(), private_db=store.private_path.exists())
    if not (state.evidence_db and state.private_db):
        state.error = "The evidence store has not been initialised: run `inspect-kit init`."
        return state
    try:
        with contextlib.closing(connect(store.evidence_path)) as db:
            state.pending_migrations = [m.name for m in evidence_migrations.pending(db)]
            if not state.pending_migrations:
                state.reviews = db.execute("SELECT count(*) FROM reviews").fetchone()[0]
                state.findings = db.execute("SELECT count(*) FROM findings").fetchone()[0]
        with contextlib.closing(connect(store.private_path)) as db:
            state.pending_migrations += [m.name for m in private_migrations.pending(db)]
    except sqlite3.Error as error:
        state.error = f"The evidence store could not be read: {error}"
    if state.pending_migrations and state.error is None:
        state.error = "Migrations are pending: run `inspect-kit init`."
    return state


@dataclass
class Section:
    """One part of a check: its name, the faults found (empty when clean) and
    warnings (things to put right that leave the store consistent)."""

    name: str
    faults: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    hint: str | None = None  # printed after the faults and warnings; not one of them

    @property
    def ok(self) -> bool:
        return not self.faults


@dataclass
class CheckReport:
    """The outcome of :func:`check_store`; ``ok`` is true only when no section has a fault."""

    home: Path
    sections: list[Section] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(section.ok for section in self.sections)

    @property
    def fault_count(self) -> int:
        return sum(len(section.faults) for section in self.sections)

    @property
    def warning_count(self) -> int:
        return sum(len(section.warnings) for section in self.sections)


def _listed(faults: list[str]) -> list[str]:
    if len(faults) <= MAX_LISTED:
        return faults
    return faults[:MAX_LISTED] + [f"… and {len(faults) - MAX_LISTED} more"]


def _check_database(path: Path, label: str, migrations, *, read_only: bool = True) -> list[Section]:
    integrity = Section(f"{label}: integrity")
    keys = Section(f"{label}: foreign keys")
    schema = Section(f"{label}: migrations")
    sections = [integrity, keys, schema]
    if not path.exists():
        integrity.faults.append(f"{path} is missing")
        return sections
    try:
        # uri=True with mode=ro: a check must never create or change the file.
        # (A backup checks its own new copy read-write, so that closing it
        # removes the -wal and -shm a read-only reader would leave behind.)
        conn = sqlite3.connect(f"file:{path}?mode={'ro' if read_only else 'rw'}", uri=True, timeout=5)
    except sqlite3.Error as error:
        integrity.faults.append(f"cannot open {path.name}: {error}")
        return sections
    try:
        rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if rows != ["ok"]:
            integrity.faults.extend(_listed(rows))
        violations = conn.execute("PRAGMA foreign_key_check").fetchall()
        keys.faults.extend(
            _listed([f"{table} row {rowid} points at a missing {parent} row" for table, rowid, parent, _ in violations])
        )
        pending = [m.name for m in migrations.pending(Database(conn))]
        if pending:
            schema.faults.append(f"not applied: {', '.join(pending)} (run `inspect-kit init`)")
    except sqlite3.Error as error:
        integrity.faults.append(f"{path.name} is unreadable: {error}")
    finally:
        conn.close()
    return sections


def _check_search_index(store: Store) -> Section:
    section = Section("evidence.db: full-text search triggers")
    try:
        with contextlib.closing(connect(store.evidence_path)) as db:
            triggers = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
            for table in FTS_COLUMNS:
                if not db[table].exists():
                    continue
                missing = sorted({f"{table}_a{op}" for op in ("i", "d", "u")} - triggers)
                if missing or not db[f"{table}_fts"].exists():
                    section.faults.append(
                        f"the search index of {table} is not kept up to date (missing {', '.join(missing) or 'table'});"
                        " run `inspect-kit init` to rebuild it"
                    )
    except (sqlite3.Error, StoreError) as error:
        section.faults.append(f"cannot inspect the search index: {error}")
    return section


def _sha256_of(path: Path, on_chunk: Callable[[int], None]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            on_chunk(len(chunk))
    return digest.hexdigest()


def _blob_files(folder: Path) -> dict[str, Path]:
    """The attachment files in ``folder``, by name (a sha256). Uploads still
    being written (``.upload-*``) and anything else are not attachments."""
    if not folder.is_dir():
        return {}
    return {path.name: path for path in folder.iterdir() if BLOB_NAME.match(path.name) and path.is_file()}


def verify_attachments(evidence_path: Path, attachments_dir: Path, progress: Progress | None = None, *,
                       read_only: bool = True) -> list[str]:
    """Read every attachment file and return one line per fault (empty when all are sound).

    Each row of ``attachments`` must have its file, of the size the row
    records, and every file's sha256 must be its name: a file cut short by a
    full disk, or changed on disk, is named with its finding and what to do.
    Files without a row are checked too, because a later upload of the same
    content would reuse the file as it is. ``progress`` is called with
    (bytes read, bytes in all) as files are read. ``read_only`` as in
    :func:`_check_database`.

    :raises sqlite3.Error: the attachment rows cannot be read.
    """
    with _plain_connection(evidence_path, read_only=read_only) as conn:
        rows = conn.execute("SELECT sha256, filename, finding_id, size_bytes FROM attachments ORDER BY id").fetchall()
    files = _blob_files(attachments_dir)
    named: dict[str, str] = {}
    faults: list[str] = []
    for sha256, filename, finding_id, size_bytes in rows:
        label = f"{filename} ({sha256[:12]}…) of finding {finding_id}"
        named.setdefault(sha256, label)
        path = files.get(sha256)
        if path is None:
            faults.append(f"{label} has no file; restore it from a backup")
            continue
        size = path.stat().st_size
        if size != size_bytes:
            faults.append(f"{label} is {size:,} bytes, not the {size_bytes:,} uploaded (cut short or changed);"
                          " restore it from a backup")
    sizes = {name: path.stat().st_size for name, path in files.items()}
    total, done = sum(sizes.values()), 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    for name, path in sorted(files.items()):
        start = done
        try:
            digest = _sha256_of(path, advance)
        except OSError as error:
            faults.append(f"{named.get(name, name)} cannot be read: {error.strerror or error}")
            advance(start + sizes[name] - done)
            continue
        if digest != name:
            label = named.get(name, f"the file {name[:12]}… (no attachment row)")
            faults.append(f"{label} is corrupted: its content no longer matches its sha256; restore it from a backup")
    return faults


def _check_attachments(store: Store, progress: Progress | None) -> Section:
    section = Section("attachments: files present, sizes and sha256 match")
    try:
        section.faults.extend(_listed(verify_attachments(store.evidence_path, store.attachments_dir, progress)))
    except (sqlite3.Error, OSError) as error:
        section.faults.append(f"cannot read the attachments: {error}")
    return section


def _check_file_modes(store: Store) -> Section:
    """Warn about store files and folders other local users can read (file_modes.py says why)."""
    section = Section("file permissions: owner only")
    paths = [store.home, store.attachments_dir, store.home / SECRET_FILE]
    for database in (store.evidence_path, store.private_path):
        paths += [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]
    paths += sorted(_blob_files(store.attachments_dir).values())
    loose = [line for line in map(loose_mode, paths) if line]
    section.warnings.extend(_listed(loose))
    if len(loose) > 1:
        section.hint = f"to fix them all at once: chmod -R go= {shlex.quote(str(store.home))}"
    return section


def check_store(store: Store, progress: Progress | None = None) -> CheckReport:
    """Check both databases, the attachments and the file modes of a store.

    Runs ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` on
    ``evidence.db`` and ``private.db`` (opened read-only), checks every
    migration is applied, that the full-text triggers exist, and reads every
    attachment to compare its size and sha256 with its row and name
    (``progress`` is called as in :func:`verify_attachments`). A folder left by
    an interrupted backup is a fault. Files or folders that other local users
    can read are warnings (with the ``chmod`` that fixes each), not faults.
    Never raises for a damaged store: each fault is a line in the report.
    """
    report = CheckReport(home=store.home)
    if (store.home / UNFINISHED_MARKER).exists():
        report.sections.append(Section("backup: complete", [
            f"{store.home} is an unfinished backup (the copy was interrupted): delete it and run"
            " `inspect-kit backup` again"]))
    evidence_sections = _check_database(store.evidence_path, "evidence.db", evidence_migrations)
    report.sections += evidence_sections
    report.sections += _check_database(store.private_path, "private.db", private_migrations)
    integrity, _, migrations = evidence_sections
    if integrity.ok and migrations.ok:
        # Only meaningful on a readable, migrated evidence.db.
        report.sections.append(_check_search_index(store))
        report.sections.append(_check_attachments(store, progress))
    if store.home.is_dir():
        report.sections.append(_check_file_modes(store))
    return report


@dataclass
class BackupReport:
    """What :func:`backup_store` copied and verified."""

    destination: Path
    databases: dict[str, int] = field(default_factory=dict)  # file name → bytes
    attachments: int = 0


class BackupFailed(StoreError):
    """A backup could not be made; nothing that looks like a backup was left."""


@contextlib.contextmanager
def _plain_connection(path: Path, *, read_only: bool) -> Iterator[sqlite3.Connection]:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}?mode=rwc"
    conn = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def _store_bytes(store: Store) -> int:
    files = [store.evidence_path, store.private_path, *_blob_files(store.attachments_dir).values()]
    return sum(path.stat().st_size for path in files if path.exists())


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def _failure_line(error: BaseException, place: Path, store: Store, destination: Path) -> str:
    """One line saying what went wrong writing the backup to ``place`` and what to do."""
    code = getattr(error, "errno", None)
    sqlite_code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    nothing = "Nothing was kept"
    filename = getattr(error, "filename", None)
    # A copy's error names both files (filename2 is the target): only an error
    # naming a store file alone is a failure to read the store.
    if filename and not getattr(error, "filename2", None) and code not in (errno.ENOSPC, errno.EDQUOT) \
            and Path(filename).resolve().is_relative_to(store.home.resolve()):
        return (f"Backup failed: {filename} could not be read ({getattr(error, 'strerror', None) or error}). "
                f"{nothing}; run `inspect-kit check` on the store.")
    if code in (errno.EEXIST, errno.ENOTEMPTY):
        return f"Backup failed: {destination} was made by something else while the backup ran. {nothing}; run it again."
    if code in (errno.ENOSPC, errno.EDQUOT) or sqlite_code == sqlite3.SQLITE_FULL:
        try:
            free = _megabytes(shutil.disk_usage(place).free)
        except OSError:
            free = "unknown"
        return (f"Backup failed: the disk of {place} is full (the store needs about {_megabytes(_store_bytes(store))},"
                f" {free} free). {nothing}; free some space or choose another disk, then run the backup again.")
    if code in (errno.EACCES, errno.EPERM) or sqlite_code in (sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY):
        return (f"Backup failed: permission denied writing to {place} ({error}). {nothing};"
                " choose a folder you can write to, then run the backup again.")
    if code == errno.EROFS:
        return f"Backup failed: {place} is on a read-only disk. {nothing}; choose another place for the backup."
    if code == errno.EIO or sqlite_code == sqlite3.SQLITE_IOERR:
        return (f"Backup failed: an input/output error writing to {place} ({error}). {nothing};"
                " check the disk (is it unplugged or failing?) and run the backup again.")
    reason = getattr(error, "strerror", None) or str(error)
    return f"Backup failed writing to {place}: {reason}. {nothing}; put it right and run the backup again."


def _copy_blob(source: Path, target: Path) -> None:
    """Copy one attachment to ``target``, 0600 and flushed to the disk."""
    create_private_file(target)
    # copyfile uses sendfile(2): for 300 MB, 0.2 s against 1.4 s of Python
    # writes plus 1.4 s hashing each chunk on the way (measured on a busy
    # 2-core machine); the copy is read back and verified afterwards anyway.
    shutil.copyfile(source, target)
    fd = os.open(target, os.O_RDONLY)
    try:
        # Some filesystems (NFS, full USB sticks) only report a failed write here.
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_store(store: Store, staging: Path, report: BackupReport, progress: Progress | None) -> None:
    """Copy and verify the store into ``staging``. :raises BackupFailed: the copy or the store is unsound.
    :raises OSError, sqlite3.Error: writing failed."""
    for source in (store.evidence_path, store.private_path):
        target = staging / source.name
        create_private_file(target)  # SQLite would make it 0644
        with _plain_connection(source, read_only=True) as src, _plain_connection(target, read_only=False) as dst:
            src.backup(dst)
        report.databases[source.name] = target.stat().st_size
    attachments = staging / store.attachments_dir.name
    make_private_folder(attachments)
    # Files are written before the rows that name them and are never changed,
    # so every attachment row in the snapshot just taken has its file here.
    sources = _blob_files(store.attachments_dir)
    sizes = {name: path.stat().st_size for name, path in sources.items()}
    total = 2 * sum(sizes.values())  # written once, read once to verify
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(min(done, total), total)

    for name, path in sorted(sources.items()):
        _copy_blob(path, attachments / name)
        report.attachments += 1
        advance(sizes[name])
    _fsync_folder(attachments)
    copied = done
    faults = [fault for label, migrations in (("evidence.db", evidence_migrations), ("private.db", private_migrations))
              for section in _check_database(staging / label, label, migrations, read_only=False)[:2]
              for fault in section.faults]
    faults += verify_attachments(staging / store.evidence_path.name, attachments,
                                 lambda read, _: advance(copied + read - done), read_only=False)
    if not faults:
        return
    # Tell a store already damaged from a copy damaged on its way to the disk.
    damaged = [name for name, path in sorted(sources.items()) if _sha256_of(path, lambda _: None) != name]
    if damaged:
        raise BackupFailed(
            f"Backup failed: {len(damaged)} attachment file(s) in the store itself no longer match their sha256"
            f" (first: {damaged[0][:12]}…). Nothing was kept; run `inspect-kit check` to see which, restore them"
            " from an earlier backup, then run the backup again.")
    raise BackupFailed(
        f"Backup failed: the copy did not verify ({faults[0]}{'; and more' if len(faults) > 1 else ''})."
        " Nothing was kept; the store may be damaged (run `inspect-kit check`) or the backup disk failing.")


def backup_store(store: Store, destination: Path | str, progress: Progress | None = None) -> BackupReport:
    """Copy a store, live, into ``destination`` (which becomes a store itself).

    Each database is copied with SQLite's online backup API, which yields a
    consistent snapshot while the server keeps reading and writing; then the
    attachments. The copy is made in a temporary folder beside
    ``destination`` (inside it, when it is an existing empty folder such as a
    disk's mount point), verified — integrity and foreign-key checks on both
    databases, every attachment's size and sha256 against its name and its
    row — and only then renamed into place. Files are 0600 and folders 0700.
    ``progress`` is called with (bytes done, bytes in all) while attachments
    are copied and verified.

    :raises StoreError: when the store does not exist or ``destination`` exists
        and is not an empty folder (a backup never overwrites).
    :raises BackupFailed: writing or verifying failed (a full disk, an I/O or
        permission error, a damaged attachment); the message is one line
        saying what happened and what to do, the temporary folder is gone and
        a retry starts afresh.
    """
    destination = Path(destination)
    if not store.exists():
        raise StoreError(f"No evidence store at {store.home}: nothing to back up.")
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise StoreError(f"{destination} already exists and is not empty; choose a new folder for the backup.")
    if destination.resolve().is_relative_to(store.home.resolve()):
        raise StoreError("The backup folder must not be the store itself or inside it.")
    report = BackupReport(destination=destination)
    inside = destination.is_dir()
    staging: Path | None = None
    placed: list[Path] = []
    try:
        if inside:
            staging = Path(tempfile.mkdtemp(prefix=".backup-", dir=destination))
        else:
            if not destination.parent.is_dir():
                make_private_folder(destination.parent)
            staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.backup-", dir=destination.parent))
        set_mode(staging, 0o700)
        create_private_file(staging / UNFINISHED_MARKER)
        _copy_store(store, staging, report, progress)
        _fsync_folder(staging)
        if inside:
            # The marker first, so that a folder half filled by a killed backup fails the check.
            for entry in sorted(staging.iterdir(), key=lambda entry: entry.name != UNFINISHED_MARKER):
                os.rename(entry, destination / entry.name)
                placed.append(destination / entry.name)
            staging.rmdir()
            set_mode(destination, 0o700)  # the folder of a store, like the store's own
        else:
            os.rename(staging, destination)
            placed.append(destination)
        staging = None
        _fsync_folder(destination.parent if not inside else destination)
        (destination / UNFINISHED_MARKER).unlink()
    except (OSError, sqlite3.Error, BackupFailed) as error:
        _discard(staging, placed)
        if isinstance(error, BackupFailed):
            raise
        place = destination if inside else destination.parent
        raise BackupFailed(_failure_line(error, place, store, destination)) from None
    except BaseException:
        _discard(staging, placed)
        raise
    return report


def _discard(staging: Path | None, placed: list[Path]) -> None:
    """Remove a backup that failed, so that nothing which looks like a backup is left."""
    for path in [*placed, *([staging] if staging else [])]:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
