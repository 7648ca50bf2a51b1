"""Litestream replication: the restore drill through the real
server, the supervisor, and a server killed outright taking Litestream with it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from inspect_kit import accounts
from inspect_kit.replication import ReplicaTarget, Replicator, configure, wait_until_replicated
from inspect_kit.store import Store
from inspect_kit.verify import verify_store

from .conftest import serving
from .library_fixtures import small_review

pytestmark = pytest.mark.slow


def replicated_store(tmp_path) -> tuple[Store, ReplicaTarget, str, dict]:
    store = Store(tmp_path / "evidence")
    store.init()
    with contextlib.closing(store.evidence()) as db:
        review = small_review(db)
        fields = {k: v for k, v in review.finding().items() if k not in ("review_id", "agency_id", "case_id")}
    fields |= {"case_ref": "C-017", "agency": "Emergency department", "criteria": ["2.1"]}
    target = ReplicaTarget.parse(str(tmp_path / "replica"))
    with contextlib.closing(store.private()) as private_db:
        accounts.add_account(private_db, username="health1", password="correct horse battery", role="inspector",
                             strand="health", inspector_code="HLT-01")
        token = accounts.issue_token(private_db, "health1")
        configure(private_db, target)
    return store, target, token, fields


def litestream_processes(store: Store) -> list[int]:
    config = str(store.home / ".litestream.yml")
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if config in cmdline.read().decode(errors="replace"):
                    found.append(int(pid))
    return found


def gone(store: Store, timeout: float = 15.0) -> bool:
    """Litestream has exited (it syncs first, so allow it a moment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not litestream_processes(store):
            return True
        time.sleep(0.1)
    return False


def test_restore_drill_every_acknowledged_record_comes_back(tmp_path):
    store, target, token, fields = replicated_store(tmp_path)
    acknowledged = []
    with serving(store, tmp_path / "server.log") as server:
        assert wait_until_replicated(target), server.log()
        assert litestream_processes(store), "inspect-kit serve did not start Litestream"
        headers = {"Authorization": f"Bearer {token}"}
        for number in range(40):
            response = httpx.post(server.url + "/api/findings", headers=headers, timeout=10,
                                  json={**fields, "client_uuid": str(uuid.uuid4()),
                                        "evidence_text": f"Drill record {number}."})
            assert response.status_code == 201, response.text
            acknowledged.append(response.json()["public_id"])
    # Stopping the server stopped Litestream, which synced what it had not sent.
    assert gone(store)
    shutil.rmtree(store.home)
    restored = tmp_path / "restored"
    result = subprocess.run([sys.executable, "-m", "inspect_kit", "replicate", "restore", str(target.location),
                             "--home", str(restored)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    with contextlib.closing(Store(restored).evidence()) as db, contextlib.closing(Store(restored).private()) as pdb:
        present = {public_id for (public_id,) in db.execute("SELECT public_id FROM findings")}
        assert set(acknowledged) <= present and len(acknowledged) == 40
        assert verify_store(db).ok
        assert accounts.account_for_token(pdb, token)["username"] == "health1"
        assert pdb.execute("SELECT count(*) FROM replication").fetchone()[0] == 0  # off until set again
    refused = subprocess.run([sys.executable, "-m", "inspect_kit", "replicate", "restore", str(target.location),
                              "--home", str(restored)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "not empty" in refused.stderr


def test_the_supervisor_restarts_litestream_and_stops_it(tmp_path):
    store, target, _token, _fields = replicated_store(tmp_path)
    replicator = Replicator(store, target)
    replicator.start()
    try:
        first = replicator.process.pid
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (replicator.running and replicator.process.pid != first):
            time.sleep(0.1)
        assert replicator.running and replicator.process.pid != first and replicator.restarts == 1
    finally:
        replicator.stop()
    assert not replicator.running and not litestream_processes(store)
    assert oct((store.home / ".litestream.yml").stat().st_mode & 0o777) == "0o600"


def test_litestream_dies_with_a_killed_server(tmp_path):
    store, target, _token, _fields = replicated_store(tmp_path)
    with serving(store, tmp_path / "server.log") as server:
        assert wait_until_replicated(target)
        assert litestream_processes(store)
        server.process.kill()
        server.process.wait()
        assert gone(store)
