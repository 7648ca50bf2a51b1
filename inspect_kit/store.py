"""Where the evidence store lives and how to open it.

A store is a folder (``evidence/`` by default, or ``--home`` /
``INSPECT_KIT_HOME``) holding ``evidence.db`` (served read-only to Datasette),
``private.db`` (accounts and identity keys; never served) and ``attachments/``
(files named by their sha256).

Every connection: WAL (persisted in the file), ``foreign_keys=ON`` (SQLite
does not enforce declared keys otherwise), a busy timeout (0 gave 3–17 %
"database is locked" under load, docs/architecture.md §9) and ``synchronous=FULL``: a
write is on disk before it is acknowledged (see :data:`SYNCHRONOUS`).
Connections are never shared across threads: open one per request or command.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .disk import storage_fault
from .errors import Conflict, StoreError
from .file_modes import create_private_file, make_private_folder
from .fulltext import register as register_fulltext

HOME_ENV = "INSPECT_KIT_HOME"
BUSY_TIMEOUT_SECONDS = 5.0
# FULL: in WAL mode SQLite syncs the WAL file at every commit, so a record the
# app has acknowledged (201 to an API client, "saved" on a page) survives power
# loss or an OS crash. NORMAL syncs only at checkpoints: it survives a killed
# process, but a power cut can lose the last commits, which the inspector was
# told were saved and may no longer have on paper. Its cost is measured by
# bench/intake.py (our server at NORMAL and FULL in the same run).
SYNCHRONOUS = "FULL"


def default_home() -> Path:
    """The store folder: ``$INSPECT_KIT_HOME`` or ``./evidence``."""
    return Path(os.environ.get(HOME_ENV) or "evidence")


@dataclass(frozen=True)
class Store:
    """The paths of one evidence store."""

    home: Path

    @property
    def evidence_path(self) -> Path:
        return self.home / "evidence.db"

    @property
    def private_path(self) -> Path:
        return self.home / "private.db"

    @property
    def attachments_dir(self) -> Path:
        return self.home / "attachments"

    def exists(self) -> bool:
        return self.evidence_path.exists() and self.private_path.exists()

    def init(self) -> list[str]:
        """Create the folder and both databases, apply migrations.

        The store folder and ``attachments/`` are made 0700 and new databases
        0600, whatever the umask. Safe to run on an existing store: only
        pending migrations run. Returns the names of the migrations applied.
        """
        from .schema import migrate, migrate_private

        # Owner-only whatever the umask (file_modes.py says why); an existing
        # folder too, such as the checkout's evidence/ made by git with 0755.
        make_private_folder(self.home)
        make_private_folder(self.attachments_dir)
        applied = []
        with contextlib.closing(connect(self.evidence_path, create=True)) as db:
            applied += migrate(db)
        with contextlib.closing(connect(self.private_path, create=True)) as db:
            applied += migrate_private(db)
        return applied

    def evidence(self) -> Database:
        """Open ``evidence.db`` for reading and writing.

        :raises StoreError: when the store has not been initialised.
        """
        return connect(self.evidence_path)

    def private(self) -> Database:
        """Open ``private.db``. :raises StoreError: when missing."""
        return connect(self.private_path)


def connect(path: Path | str, *, create: bool = False, timeout: float = BUSY_TIMEOUT_SECONDS) -> Database:
    """Open one SQLite file as a ``Database`` with the store's pragmas.

    The connection is in autocommit mode; group writes with
    :func:`write_transaction`.

    :raises StoreError: if the file is missing and ``create`` is false.
    """
    path = Path(path)
    if path != Path(":memory:") and not path.exists():
        if not create:
            raise StoreError(
                f"No evidence store at {path.parent}. Run `inspect-kit init --home {path.parent}` "
                "(or `inspect-kit demo`) first."
            )
        # SQLite would make it 0644; an empty 0600 file is a new database it keeps private.
        create_private_file(path)
    conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    register_fulltext(conn)  # MATCH ik_fts_phrase(:search): typed words never an FTS5 syntax error
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    if path != Path(":memory:"):
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    return Database(conn)


def memory_db() -> Database:
    """An in-memory evidence database with the full schema (for tests)."""
    from .schema import migrate

    db = connect(":memory:")
    migrate(db)
    return db


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """Run a read-then-write as one ``BEGIN IMMEDIATE`` transaction.

    ``BEGIN IMMEDIATE`` takes the write lock before the first read, so two
    writers cannot both read the same state and then collide (plain ``BEGIN``
    lost 724 of 800 increments in docs/architecture.md §3). Nested use joins the outer
    transaction. Rolls back and re-raises on any exception, the COMMIT's own
    included.

    :raises StorageFault: the disk is full or failing (SQLite's ``SQLITE_FULL``
        / ``SQLITE_IOERR``); nothing of the transaction was written.
    """
    if db.conn.in_transaction:
        yield db
        return
    with _writer_turn(db):
        yield from _write_transaction(db)


def _write_transaction(db: Database) -> Iterator[Database]:
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
            # COMMIT is where WAL frames are written, so a full disk usually
            # fails here; SQLite may leave the transaction open (holding the
            # write lock) after SQLITE_FULL/IOERR, so it is rolled back too.
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as error:
        fault = storage_fault(error)
        if fault is None:
            raise
        raise fault from error


# One writer per database file per process at a time, queued on a Python lock
# rather than in SQLite's busy handler. A writer that finds the file locked
# sleeps in the busy handler (1, 2, 5 … up to 100 ms) and sees the lock free
# only when it next wakes, while a thread waiting on a Python lock runs as soon
# as it is released. With `serve --workers 2` and 8 threads each, 16 writers
# polled the handler: 16 API clients got ~310 findings/s and p99 375 ms; with
# the queue, only one writer per process polls (bench/intake.py).
_writer_locks: dict[str, threading.RLock] = {}
_writer_locks_guard = threading.Lock()


@contextlib.contextmanager
def _writer_turn(db: Database) -> Iterator[None]:
    row = db.conn.execute("PRAGMA database_list").fetchone()
    key = row[2] if row and row[2] else f"memory:{id(db.conn)}"
    with _writer_locks_guard:
        lock = _writer_locks.setdefault(key, threading.RLock())
    # Waiting longer than the busy timeout is left to SQLite's own answer.
    acquired = lock.acquire(timeout=BUSY_TIMEOUT_SECONDS)
    try:
        yield
    finally:
        if acquired:
            lock.release()


def insert_row(db: Database, table: str, row: Mapping[str, Any]) -> int:
    """Insert ``row`` (column → value) into ``table``; returns the new row's id.

    Table and column names are quoted, so a column named like a keyword
    (``action``, ``from``) is read as a name. The one way the library writes a
    new row: the statement is built from the row, never typed twice.
    """
    names = ", ".join(f'"{column}"' for column in row)
    marks = ", ".join("?" for _ in row)
    cursor = db.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', list(row.values()))
    return int(cursor.lastrowid)


@dataclass(frozen=True)
class RecordResult:
    """What a submission did: the stored record and whether it was created now."""

    record: dict[str, Any]
    created: bool


@dataclass(frozen=True)
class Written:
    """What an idempotent write did: the row's id, and whether it was created now
    (False: a replay of a request already stored)."""

    id: int
    created: bool

    @property
    def outcome(self) -> str:
        return "created" if self.created else "replayed"


def idempotent_write(db: Database, table: str, client_uuid: str, content: Mapping[str, Any],
                     write: Callable[[], int], *, conflict: str) -> Written:
    """Write a record once per client uuid: created, replayed or conflict.

    Call it inside :func:`write_transaction`, so that the look-up and the
    write are one ``BEGIN IMMEDIATE`` transaction (two retries racing cannot
    both create). When ``table`` already holds a row with ``client_uuid``,
    its ``content`` columns are compared with ``content`` (a ``content_hash``
    where the table keeps one): the same is a replay (nothing written), other
    content is a conflict. Otherwise ``write()`` makes the record and returns
    its id.

    :raises Conflict: the uuid was already used for other content; ``conflict`` is the message.
    """
    if not db.conn.in_transaction:
        raise RuntimeError("idempotent_write needs the caller's write_transaction")
    columns = ", ".join(f'"{column}"' for column in content)
    found = db.execute(f'SELECT id, {columns} FROM "{table}" WHERE client_uuid = ?', [client_uuid]).fetchone()
    if found is None:
        return Written(write(), created=True)
    if tuple(found[1:]) != tuple(content.values()):
        raise Conflict(conflict)
    return Written(found[0], created=False)


# Set only by :func:`clock_at`: lets the demo generator (and tests) record
# writes as if made during fieldwork, so ages and due dates read true.
_clock: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("inspect_kit_clock", default=None)


@contextlib.contextmanager
def clock_at(moment: dt.datetime) -> Iterator[None]:
    """Within the block, :func:`now` returns ``moment`` (a timezone-aware datetime)."""
    token = _clock.set(moment)
    try:
        yield
    finally:
        _clock.reset(token)


def now() -> str:
    """The current UTC time (or the :func:`clock_at` time) as an ISO 8601 string (seconds)."""
    moment = _clock.get() or dt.datetime.now(dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat()


def today() -> str:
    """Today's date (local) as ``YYYY-MM-DD``."""
    return dt.date.today().isoformat()
