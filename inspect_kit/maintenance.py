"""Look after a store: its state, a consistency check and a live backup.

These are library functions that take a :class:`~inspect_kit.store.Store`
and return report objects; the CLI (``inspect-kit check`` / ``backup``) and
``/healthz`` only format them.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from .errors import StoreError
from .schema import FTS_COLUMNS, evidence_migrations, private_migrations
from .store import Store, connect

# How many faults of one kind a report lists before summarising the rest.
MAX_LISTED = 20


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
    """One part of a check: its name and the faults found (empty when clean)."""

    name: str
    faults: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults


@dataclass
class CheckReport:
    """The outcome of :func:`check_store`; ``ok`` is true only when every section is clean."""

    home: Path
    sections: list[Section] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(section.ok for section in self.sections)

    @property
    def fault_count(self) -> int:
        return sum(len(section.faults) for section in self.sections)


def _listed(faults: list[str]) -> list[str]:
    if len(faults) <= MAX_LISTED:
        return faults
    return faults[:MAX_LISTED] + [f"… and {len(faults) - MAX_LISTED} more"]


def _check_database(path: Path, label: str, migrations) -> list[Section]:
    integrity = Section(f"{label}: integrity")
    keys = Section(f"{label}: foreign keys")
    schema = Section(f"{label}: migrations")
    sections = [integrity, keys, schema]
    if not path.exists():
        integrity.faults.append(f"{path} is missing")
        return sections
    try:
        # uri=True with mode=ro: a check must never create or change the file.
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
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


def _check_attachments(store: Store) -> Section:
    section = Section("attachments: files present")
    on_disk = (
        {path.name for path in store.attachments_dir.rglob("*") if path.is_file()}
        if store.attachments_dir.is_dir()
        else set()
    )
    try:
        with contextlib.closing(connect(store.evidence_path)) as db:
            if not db["attachments"].exists():
                return section
            missing = [
                f"{filename} ({sha256[:12]}…) of finding {finding_id} has no file"
                for sha256, filename, finding_id in db.execute(
                    "SELECT sha256, filename, finding_id FROM attachments ORDER BY id"
                )
                if sha256 not in on_disk
            ]
    except (sqlite3.Error, StoreError) as error:
        section.faults.append(f"cannot list attachments: {error}")
        return section
    section.faults.extend(_listed(missing))
    return section


def check_store(store: Store) -> CheckReport:
    """Check both databases and the attachments of a store.

    Runs ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` on
    ``evidence.db`` and ``private.db`` (opened read-only), checks every
    migration is applied, that the full-text triggers exist, and that every
    attachment row has its file. Never raises for a damaged store: each fault
    is a line in the report.
    """
    report = CheckReport(home=store.home)
    evidence_sections = _check_database(store.evidence_path, "evidence.db", evidence_migrations)
    report.sections += evidence_sections
    report.sections += _check_database(store.private_path, "private.db", private_migrations)
    integrity, _, migrations = evidence_sections
    if integrity.ok and migrations.ok:
        # Only meaningful on a readable, migrated evidence.db.
        report.sections.append(_check_search_index(store))
        report.sections.append(_check_attachments(store))
    return report


@dataclass
class BackupReport:
    """What :func:`backup_store` copied."""

    destination: Path
    databases: dict[str, int] = field(default_factory=dict)  # file name → bytes
    attachments: int = 0


@contextlib.contextmanager
def _plain_connection(path: Path, *, read_only: bool) -> Iterator[sqlite3.Connection]:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}?mode=rwc"
    conn = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def backup_store(store: Store, destination: Path | str) -> BackupReport:
    """Copy a store, live, into ``destination`` (which becomes a store itself).

    Each database is copied with SQLite's online backup API, which yields a
    consistent snapshot while the server keeps reading and writing. The
    attachments are copied afterwards: files are written before the rows that
    name them and are never changed, so every attachment row in the copied
    database has its file.

    :raises StoreError: when the store does not exist or ``destination`` exists
        and is not an empty folder (a backup never overwrites).
    """
    destination = Path(destination)
    if not store.exists():
        raise StoreError(f"No evidence store at {store.home}: nothing to back up.")
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise StoreError(f"{destination} already exists and is not empty; choose a new folder for the backup.")
    if destination.resolve() == store.home.resolve():
        raise StoreError("The backup folder must not be the store itself.")
    destination.mkdir(parents=True, exist_ok=True)
    report = BackupReport(destination=destination)
    for source in (store.evidence_path, store.private_path):
        target = destination / source.name
        with _plain_connection(source, read_only=True) as src, _plain_connection(target, read_only=False) as dst:
            src.backup(dst)
        report.databases[source.name] = target.stat().st_size
    attachments = destination / store.attachments_dir.name
    attachments.mkdir(exist_ok=True)
    if store.attachments_dir.is_dir():
        for path in sorted(store.attachments_dir.rglob("*")):
            target = attachments / path.relative_to(store.attachments_dir)
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            elif path.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                report.attachments += 1
    return report
