"""The real ``inspect-kit serve`` under faults.

64 API clients post findings, each with its own client uuid, retrying the
same body on a connection error or a 5xx until it is acknowledged:

- the server is killed with SIGKILL mid-run and started again: every
  acknowledged record is stored exactly once, and so is every attempted one;
- the store sits on a nearly full 8 MiB tmpfs: writes that do not fit are
  refused with a clear 507, nothing is half-written (``inspect-kit check``
  passes while the disk is full), the server is killed while the disk is full,
  and once the filler file is deleted and the server is back, every retried
  record is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from inspect_kit import accounts
from inspect_kit.store import Store

from .conftest import inspect_kit_command, serving
from .disk_support import fill, small_disk
from .library_fixtures import small_review
from .pages import hidden

pytestmark = pytest.mark.slow

CLIENTS = 64
RECORDS_PER_CLIENT = 3
DEADLINE_SECONDS = 50


def build_store(home: Path) -> tuple[Store, str, dict]:
    """A store with the small review and an API token for its health inspector."""
    store = Store(home)
    store.init()
    with contextlib.closing(store.evidence()) as db:
        review = small_review(db)
        ids = {"agency_id": review.ed, "case_id": review.infant}
    with contextlib.closing(store.private()) as db:
        accounts.add_account(db, username="health1", password="correct horse battery", role="inspector",
                             strand="health", inspector_code="HLT-01")
        token = accounts.issue_token(db, "health1")
    return store, token, ids


@dataclass
class Run:
    """What the clients saw: the uuids they tried and those the server acknowledged."""

    url: str
    token: str
    ids: dict
    text: str
    attempted: set[str] = field(default_factory=set)
    acknowledged: dict[str, str] = field(default_factory=dict)  # uuid -> public_id
    statuses: Counter = field(default_factory=Counter)
    refusals: list[dict] = field(default_factory=list)
    connection_errors: int = 0
    stop: bool = False

    def body(self, client_uuid: str) -> dict:
        return {"client_uuid": client_uuid, "activity": "case_file_review", "collected_on": "2008-11-20",
                "evidence_text": f"{self.text} ({client_uuid})", "evaluation_text": "Prompt referral.",
                "finding_type": "strength", "impact_on_child": "positive", **self.ids}


async def client_loop(run: Run, http: httpx.AsyncClient) -> None:
    for _ in range(RECORDS_PER_CLIENT):
        client_uuid = str(uuid.uuid4())
        body = run.body(client_uuid)
        run.attempted.add(client_uuid)
        while not run.stop:
            try:
                response = await http.post(run.url + "/api/findings", json=body,
                                            headers={"Authorization": f"Bearer {run.token}"}, timeout=15)
            except httpx.HTTPError:
                run.connection_errors += 1
                await asyncio.sleep(0.1)
                continue
            run.statuses[response.status_code] += 1
            if response.status_code in (200, 201):
                run.acknowledged[client_uuid] = response.json()["public_id"]
                break
            assert response.status_code >= 500, response.text  # a 4xx would be a bug in this test's body
            run.refusals.append(response.json())
            await asyncio.sleep(0.2)


def run_clients(run: Run) -> threading.Thread:
    """The 64 clients, on an event loop in a thread (so the test can kill and restart the server)."""

    async def main():
        limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
        async with httpx.AsyncClient(limits=limits) as http:
            await asyncio.gather(*(client_loop(run, http) for _ in range(CLIENTS)))

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    return thread


def wait_for(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def kill_hard(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stored(store: Store) -> Counter:
    """client_uuid -> how many findings carry it, read with plain sqlite3."""
    conn = sqlite3.connect(f"file:{store.evidence_path}?mode=ro", uri=True)
    return Counter(row[0] for row in conn.execute("SELECT client_uuid FROM findings"))


def assert_exactly_once(run: Run, store: Store) -> None:
    counts = stored(store)
    assert set(run.acknowledged) <= run.attempted
    assert len(run.attempted) == CLIENTS * RECORDS_PER_CLIENT
    missing = [u for u in run.attempted if counts[u] != 1]
    assert not missing, f"{len(missing)} attempted records not stored exactly once, e.g. {missing[:3]}"
    assert sum(counts.values()) == len(run.attempted), "a record was stored that no client attempted"
    conn = sqlite3.connect(f"file:{store.evidence_path}?mode=ro", uri=True)
    for client_uuid, public_id in run.acknowledged.items():
        assert conn.execute("SELECT public_id FROM findings WHERE client_uuid = ?",
                            [client_uuid]).fetchone()[0] == public_id


def check_passes(store: Store) -> str:
    result = subprocess.run([*inspect_kit_command(), "check", "--home", str(store.home)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_kill_9_during_64_concurrent_writers_loses_and_doubles_nothing(tmp_path):
    store, token, ids = build_store(tmp_path / "evidence")
    with serving(store, tmp_path / "server-1.log") as server:
        run = Run(url=server.url, token=token, ids=ids, text="Referral made the same day.")
        clients = run_clients(run)
        # Kill while writes are in flight: some acknowledged, most not yet sent.
        wait_for(lambda: len(run.acknowledged) >= CLIENTS // 2, "the first acknowledgements")
        kill_hard(server.process)
        killed_at = len(run.acknowledged)
    with serving(store, tmp_path / "server-2.log") as server:
        run.url = server.url
        clients.join(DEADLINE_SECONDS)
        run.stop = True
        assert not clients.is_alive(), f"clients did not finish: {len(run.acknowledged)} acknowledged"
    assert killed_at < CLIENTS * RECORDS_PER_CLIENT, "the kill came after every record was acknowledged"
    assert run.connection_errors > 0, "no client saw the kill"
    assert len(run.acknowledged) == len(run.attempted)
    print(f"killed after {killed_at} acknowledgements; {run.connection_errors} connection errors; {run.statuses}")
    assert_exactly_once(run, store)
    check_passes(store)


def test_nearly_full_disk_refuses_with_507_and_keeps_every_retried_record_once(tmp_path):
    with small_disk(tmp_path / "disk") as mount:
        store, token, ids = build_store(mount / "evidence")
        with serving(store, tmp_path / "server-1.log") as server:
            # ~2 KB of text a record: the disk runs out after a few dozen.
            run = Run(url=server.url, token=token, ids=ids, text="The referral was made the same day. " * 60)
            filler = fill(mount, leave=192 * 1024)
            clients = run_clients(run)
            wait_for(lambda: run.statuses[507] >= CLIENTS, "507 answers from the full disk")
            health = httpx.get(server.url + "/healthz", timeout=10)
            assert health.status_code == 507 and health.json()["status"] == "degraded"
            assert health.json()["last_write_error"]["kind"] == "disk_full"
            # Nothing half-written while the disk is still full.
            check_passes(store)
            kill_hard(server.process)
        refusals = list(run.refusals)
        filler.unlink()
        with serving(store, tmp_path / "server-2.log") as server:
            run.url = server.url
            clients.join(DEADLINE_SECONDS)
            run.stop = True
            assert not clients.is_alive(), f"clients did not finish: {len(run.acknowledged)} acknowledged"
        assert set(run.statuses) <= {200, 201, 507}, run.statuses  # clear 507s, never a generic 500
        assert refusals
        print(f"{len(refusals)} refusals; {run.connection_errors} connection errors; {run.statuses}")
        for refusal in refusals:
            assert set(refusal) == {"status", "message", "errors"} and refusal["status"] == 507
            assert "disk is full" in refusal["message"] and "client_uuid" in refusal["message"]
        assert_exactly_once(run, store)
        check_passes(store)




def test_finding_form_on_a_full_disk_comes_back_with_the_507_message_and_the_typed_text(tmp_path):
    with small_disk(tmp_path / "disk") as mount:
        store, _, ids = build_store(mount / "evidence")
        with serving(store, tmp_path / "server.log") as server, httpx.Client(base_url=server.url) as browser:
            page = browser.get("/login").text
            signed_in = browser.post("/login", data={"csrf_token": hidden(page, "csrf_token"),
                                                     "username": "health1", "password": "correct horse battery"})
            assert signed_in.status_code == 302, signed_in.text[:500]
            filler = fill(mount)
            typed = "Health visitor not invited to the strategy discussion; typed on a full disk. " * 200
            for attempt in range(40):  # SQLite's WAL may hold the first few
                form = browser.get("/findings/new").text
                client_uuid = hidden(form, "client_uuid")
                assert re.fullmatch(r"[0-9a-f-]{36}", client_uuid), client_uuid
                response = browser.post("/findings/new", data={
                    "csrf_token": hidden(form, "csrf_token"), "client_uuid": client_uuid,
                    "case_id": str(ids["case_id"]), "agency_id": str(ids["agency_id"]),
                    "activity": "case_file_review", "collected_on": ["20", "11", "2008"],
                    "evidence_text": f"{attempt} {typed}", "evaluation_text": "Kept, not lost.",
                    "finding_type": "strength", "impact_on_child": "positive", "criteria": ["2.1"],
                    "relevance-2.1": "primary", "action": "draft"})
                if response.status_code != 302:
                    break
            assert response.status_code == 507, response.text[:2000]
            assert "disk is full" in response.text and "administrator" in response.text
            assert 'id="finding-form"' in response.text  # the form itself, not a bare error page
            assert html.escape(f"{attempt} {typed}", quote=False)[:3000] in response.text
            assert f'value="{client_uuid}"' in response.text  # saving again stores it once
            filler.unlink()
            again = browser.post("/findings/new", data={
                "csrf_token": hidden(response.text, "csrf_token"), "client_uuid": client_uuid,
                "case_id": str(ids["case_id"]), "agency_id": str(ids["agency_id"]),
                "activity": "case_file_review", "collected_on": ["20", "11", "2008"],
                "evidence_text": f"{attempt} {typed}", "evaluation_text": "Kept, not lost.",
                "finding_type": "strength", "impact_on_child": "positive", "criteria": ["2.1"],
                "relevance-2.1": "primary", "action": "draft"})
            assert again.status_code == 302, again.text[:2000]
        assert stored(store)[client_uuid] == 1
        check_passes(store)
