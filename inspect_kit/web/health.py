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
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

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


@dataclass
class WriteFault:
    """One failed write: when (UTC, and a monotonic clock for ages) and its kind."""

    at: str
    monotonic: float
    kind: str
    path: str


class WriteHealth:
    """This server's last failed and last successful write, shared by its worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last_fault: WriteFault | None = None
        self.last_success: float | None = None

    def fault(self, fault: StorageFault, path: str) -> None:
        moment = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        with self._lock:
            self.last_fault = WriteFault(at=moment, monotonic=time.monotonic(), kind=fault.kind, path=path)

    def success(self) -> None:
        with self._lock:
            self.last_success = time.monotonic()

    def recent_fault(self) -> WriteFault | None:
        """The last fault if it is recent and no write has succeeded since."""
        with self._lock:
            fault, success = self.last_fault, self.last_success
        if fault is None or time.monotonic() - fault.monotonic > RECENT_FAULT_SECONDS:
            return None
        if success is not None and success > fault.monotonic:
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
        "at": last.at, "kind": last.kind, "seconds_ago": round(time.monotonic() - last.monotonic),
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
    """Keep this server's write health and note each successful write."""
    app.extensions[WRITE_HEALTH_EXTENSION] = WriteHealth()
    app.after_request(_note_success)
