"""``/healthz`` (JSON, for monitors and the test server) and ``/status`` (a page).

Both report the store's state from :func:`inspect_kit.maintenance.store_state`,
the free space on the store's filesystem and this server's last failed write;
neither needs a login nor reveals where the store lives.

The status, in ``status`` and in the HTTP code:

- ``ok`` (200): the store is usable and writes are expected to succeed;
- ``degraded`` (507 Insufficient Storage): the store can be read, but free
  space is under the threshold (:class:`inspect_kit.disk.DiskSpace`) or a
  write failed with a disk fault in the last :data:`RECENT_FAULT_SECONDS` and
  none has succeeded since. 507, not 503, because the server still answers
  every read: a monitor should alert on it, but nothing needs restarting;
  freeing space is the cure;
- ``unavailable`` (503): the store is missing, unreadable or not migrated.

The last failed and last successful write are shared by every worker process
of one ``inspect-kit serve`` (a monitor's request may reach any of them)
through a small file in the store folder, :data:`WRITE_HEALTH_FILE`, not
through ``private.db``: the fault to record is usually a full disk, where a
database write fails too. The file is written in full (two fixed slots) when
the server starts, so recording a fault later only overwrites bytes the
filesystem already holds and needs no free space. ``/healthz`` also says which
worker process answered (``worker_pid``).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify, render_template, request

from .. import __version__
from ..disk import disk_space
from ..errors import StorageFault
from ..maintenance import store_state
from .db import get_store

bp = Blueprint("health", __name__)

WRITE_HEALTH_EXTENSION = "inspect_kit.write_health"
# How long a failed write keeps /healthz degraded when no write has succeeded
# since: long enough for a monitor polling every minute or two to see it.
RECENT_FAULT_SECONDS = 600
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
WRITE_HEALTH_FILE = "write-health"
# Two slots: the last fault at 0, the last success after a fault at SLOT_BYTES.
SLOT_BYTES = 128


@dataclass
class WriteFault:
    """One failed write: when (UTC text, and Unix time for ages) and its kind."""

    at: str
    unix_time: float
    kind: str
    path: str


def reset_write_health(home: Path) -> None:
    """Start a server's record of failed writes afresh: both slots blank.

    Never raises: without the file (a read-only or full disk at start) each
    process keeps its own record in memory.
    """
    try:
        _blank(home / WRITE_HEALTH_FILE)
    except OSError:
        pass


def _blank(path: Path) -> None:
    from ..file_modes import PRIVATE_FILE, make_private

    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        make_private(fd)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.pwrite(fd, b" " * (2 * SLOT_BYTES), 0)
        os.fsync(fd)
    finally:
        os.close(fd)


class WriteHealth:
    """The server's last failed write and last successful write after it.

    Kept in :data:`WRITE_HEALTH_FILE` under ``home`` so that every worker
    process of the server sees the same (see the module docstring); in this
    process's memory when there is no such file and it cannot be made.
    """

    def __init__(self, home: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._memory: list[dict | None] = [None, None]
        self.path: Path | None = None
        if home is not None and home.is_dir():
            path = home / WRITE_HEALTH_FILE
            try:
                if not path.exists() or path.stat().st_size < 2 * SLOT_BYTES:
                    _blank(path)
                self.path = path
            except OSError:
                self.path = None

    def _read(self, slot: int) -> dict | None:
        if self.path is None:
            with self._lock:
                return self._memory[slot]
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            raw = os.pread(fd, SLOT_BYTES, slot * SLOT_BYTES).strip()
        finally:
            os.close(fd)
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def _write(self, slot: int, record: dict) -> None:
        with self._lock:
            self._memory[slot] = record
        if self.path is None:
            return
        data = json.dumps(record, separators=(",", ":")).encode()[:SLOT_BYTES].ljust(SLOT_BYTES)
        try:
            fd = os.open(self.path, os.O_WRONLY)
        except OSError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.pwrite(fd, data, slot * SLOT_BYTES)  # in place: no new space needed
        except OSError:
            pass
        finally:
            os.close(fd)

    def fault(self, fault: StorageFault, path: str) -> None:
        moment = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        self._write(0, {"at": moment, "t": time.time(), "kind": fault.kind, "path": path[:40]})

    def success(self) -> None:
        # Only a success after a fault matters, so most writes cost one read.
        fault = self._read(0)
        if fault is not None:
            self._write(1, {"t": time.time()})

    @property
    def last_fault(self) -> WriteFault | None:
        record = self._read(0)
        if record is None:
            return None
        return WriteFault(at=record["at"], unix_time=record["t"], kind=record["kind"], path=record["path"])

    def recent_fault(self) -> WriteFault | None:
        """The last fault if it is recent and no write has succeeded since."""
        fault = self.last_fault
        if fault is None or time.time() - fault.unix_time > RECENT_FAULT_SECONDS:
            return None
        success = self._read(1)
        if success is not None and success["t"] >= fault.unix_time:
            return None
        return fault


def write_health() -> WriteHealth:
    """The current app's :class:`WriteHealth`."""
    return current_app.extensions[WRITE_HEALTH_EXTENSION]


def _note_success(response):
    # A state-changing request that was answered without an error wrote what it
    # had to write, so a disk fault before it is no longer "the last write".
    if request.method in STATE_CHANGING and response.status_code < 400:
        write_health().success()
    return response


def health_report() -> tuple[dict, int]:
    """The ``/healthz`` body and its HTTP status (see the module docstring)."""
    store = get_store()
    state = store_state(store)
    body = state.as_dict() | {"version": __version__}
    space = disk_space(store.home) if store.home.exists() else None
    body["disk"] = None if space is None else {
        "free_bytes": space.free, "total_bytes": space.total, "low_threshold_bytes": space.low_threshold,
        "low": space.low,
    }
    health = write_health()
    last = health.last_fault
    body["last_write_error"] = None if last is None else {
        "at": last.at, "kind": last.kind, "seconds_ago": round(time.time() - last.unix_time),
    }
    recent = health.recent_fault()
    reasons = []
    if space is not None and space.low:
        reasons.append(f"free space on the store's disk is {space.free / 2**20:.1f} MiB, under the "
                       f"{space.low_threshold / 2**20:.1f} MiB threshold: free space or move the store")
    if recent is not None:
        reasons.append(f"a write failed at {recent.at} ({recent.kind.replace('_', ' ')}) and none has succeeded "
                       "since")
    body["degraded"] = reasons
    body["worker_pid"] = os.getpid()  # which worker process answered (tests, and a monitor's log)
    if not state.healthy:
        return body, 503
    if reasons:
        body["status"] = "degraded"
        return body, 507
    return body, 200


@bp.get("/healthz")
def healthz():
    """200 ``ok``, 507 ``degraded`` (low space, recent failed write) or 503 ``unavailable``."""
    body, status = health_report()
    return jsonify(body), status


@bp.get("/status")
def status():
    """The same state as a page a person can read."""
    body, code = health_report()
    state = store_state(get_store())
    return render_template("health/status.html", state=state, report=body, version=__version__), code


def init_app(app: Flask) -> None:
    """Keep this server's write health (shared with its other worker processes) and note each successful write."""
    app.extensions[WRITE_HEALTH_EXTENSION] = WriteHealth(Path(app.config["INSPECT_KIT_HOME"]))
    app.after_request(_note_success)
