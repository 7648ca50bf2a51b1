"""A full disk under the intake app: 507 with what to do, the typed text kept,
nothing half-written, /healthz degraded, and everything works once space is freed.

The store lives on a real 8 MiB tmpfs that a filler file fills up
(tests/disk_support.py), so SQLite and the attachment writer meet a real
``ENOSPC``; nothing is simulated.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import sqlite3
import uuid

import pytest

from inspect_kit import disk
from inspect_kit.errors import StorageFault
from inspect_kit.maintenance import check_store
from inspect_kit.store import Store

from .disk_support import copy_store, fill, small_disk
from .web_fixtures import csrf_token, finding_form, login_as, make_app, post

# Long enough that a few findings outgrow what SQLite's WAL already holds.
LONG_TEXT = "The strategy discussion did not include health. " * 380  # ~18 KB, under the 20,000 limit


@pytest.fixture
def full_store(review_template, tmp_path):
    """The review's store on a small tmpfs, with one connection held open (as
    the server's worker threads hold theirs, so the WAL and shared-memory files
    exist before the disk fills)."""
    template, _ = review_template
    with small_disk(tmp_path / "disk") as mount:
        store = Store(mount / "evidence")
        copy_store(template.home, store.home)
        keepers = [store.evidence(), store.private()]
        for keeper in keepers:
            keeper.execute("SELECT count(*) FROM sqlite_master").fetchone()
        try:
            yield store
        finally:
            for keeper in keepers:
                keeper.close()


def count(store: Store, sql: str = "SELECT count(*) FROM findings", params=()) -> int:
    with contextlib.closing(store.evidence()) as db:
        return db.execute(sql, params).fetchone()[0]


def signed_in(store: Store, username: str):
    """A test client of a new app on ``store``, signed in as ``username``."""
    client = make_app(store).test_client()
    login_as(client, username)
    return client


def api_finding(ids, **overrides) -> dict:
    return {"client_uuid": str(uuid.uuid4()), "case_id": ids.case_id, "agency_id": ids.agency_id,
            "activity": "case_file_review", "collected_on": "2026-11-03", "evidence_text": LONG_TEXT,
            "evaluation_text": "Health information was not available.", "finding_type": "area_for_improvement",
            "impact_on_child": "negative", **overrides}


def session_post_json(client, path, body):
    token = csrf_token(client, "/findings/new")
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       headers={"X-CSRFToken": token})


def first_refusal(send, attempts: int = 60):
    """Send new records until one is refused; returns (accepted bodies, refused body, response)."""
    accepted = []
    for _ in range(attempts):
        body, response = send()
        if response.status_code >= 500:
            return accepted, body, response
        assert response.status_code in (201, 302), response.get_data(as_text=True)[:500]
        accepted.append(body)
    pytest.fail(f"no write failed in {attempts} attempts on a full disk")


# ----------------------------------------------------------------- the library


@pytest.mark.parametrize(("error", "kind"), [
    (sqlite3.OperationalError("database or disk is full"), "disk_full"),
    (sqlite3.OperationalError("disk I/O error"), "io_error"),
    (OSError(errno.ENOSPC, "No space left on device"), "disk_full"),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), "disk_full"),
    (OSError(errno.EIO, "Input/output error"), "io_error"),
    (sqlite3.OperationalError("database is locked"), None),
    (sqlite3.OperationalError("no such table: findings"), None),
    (OSError(errno.ENOENT, "No such file"), None),
    (ValueError("disk full"), None),
])
def test_disk_faults_are_recognised_and_nothing_else(error, kind):
    assert disk.fault_kind(error) == kind
    fault = disk.storage_fault(error)
    if kind is None:
        assert fault is None
    else:
        assert isinstance(fault, StorageFault) and fault.status == (507 if kind == "disk_full" else 503)
        assert "administrator" in fault.message and "nothing was saved" in fault.message


def test_low_space_threshold_is_a_margin_of_the_disk():
    assert disk.DiskSpace(free=50 * 2**20, total=10 * 2**30).low  # 50 MiB free of 10 GiB
    assert not disk.DiskSpace(free=200 * 2**20, total=10 * 2**30).low
    assert disk.DiskSpace(free=300 * 1024, total=8 * 2**20).low  # under 5 % of a small disk
    assert not disk.DiskSpace(free=4 * 2**20, total=8 * 2**20).low


# ----------------------------------------------------------------- the API


def test_api_on_a_full_disk_is_507_then_stores_the_retry_once(full_store, ids):
    client = signed_in(full_store, "ofsted1")
    assert client.get("/healthz").status_code == 200
    filler = fill(full_store.home)

    def send():
        body = api_finding(ids)
        return body, session_post_json(client, "/api/findings", body)

    accepted, refused, response = first_refusal(send)
    assert response.status_code == 507, response.get_data(as_text=True)
    answer = response.get_json()
    assert set(answer) == {"status", "message", "errors"} and answer["status"] == 507
    assert "disk is full" in answer["message"] and "administrator" in answer["message"]
    assert "client_uuid" in answer["message"] and response.headers["Retry-After"]
    # Nothing half-written: no finding, version or audit row for the refused uuid.
    assert count(full_store, "SELECT count(*) FROM findings WHERE client_uuid = ?", [refused["client_uuid"]]) == 0
    assert check_store(full_store).ok

    health = client.get("/healthz")
    assert health.status_code == 507
    report = health.get_json()
    assert report["status"] == "degraded" and report["disk"]["low"]
    assert report["last_write_error"]["kind"] == "disk_full" and report["last_write_error"]["at"]
    assert any("free space" in reason for reason in report["degraded"])

    filler.unlink()
    # Space is back, but the last write failed and none has succeeded since: still degraded.
    health = client.get("/healthz")
    assert health.status_code == 507 and not health.get_json()["disk"]["low"]
    assert [reason for reason in health.get_json()["degraded"] if "a write failed" in reason]
    retried = session_post_json(client, "/api/findings", refused)
    assert retried.status_code == 201, retried.get_data(as_text=True)
    again = session_post_json(client, "/api/findings", refused)
    assert again.status_code == 200  # a replay: stored once
    stored = accepted + [refused]
    assert count(full_store) == len(stored)
    for body in stored:
        assert count(full_store, "SELECT count(*) FROM findings WHERE client_uuid = ?", [body["client_uuid"]]) == 1
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["status"] == "ok"
    assert health.get_json()["last_write_error"]["kind"] == "disk_full"  # still reported, no longer degrading
    assert check_store(full_store).ok


# ----------------------------------------------------------------- the forms


def test_finding_form_on_a_full_disk_keeps_the_typed_text(full_store, ids):
    client = signed_in(full_store, "ofsted1")
    fill(full_store.home)
    marker = "Typed during fieldwork: the health visitor was not invited"

    def send():
        form = finding_form(ids, evidence_text=f"{marker} {uuid.uuid4()}. {LONG_TEXT}"[:19_000])
        return form, post(client, "/findings/new", form, token_from="/findings/new")

    _, refused, response = first_refusal(send)
    page = response.get_data(as_text=True)
    assert response.status_code == 507, page[:2000]
    assert "disk is full" in page and "administrator" in page
    assert "kept in the form below" in page
    # The form itself comes back, filled in, with the same client_uuid (a retry stores it once).
    assert 'id="finding-form"' in page
    assert refused["evidence_text"][:200] in page
    assert f'name="client_uuid" type="hidden" value="{refused["client_uuid"]}"' in page
    assert count(full_store, "SELECT count(*) FROM findings WHERE client_uuid = ?", [refused["client_uuid"]]) == 0


def test_attachment_on_a_full_disk_leaves_no_file_behind(full_store, ids):
    client = signed_in(full_store, "ofsted1")
    created = post(client, "/findings/new", finding_form(ids), token_from="/findings/new")
    assert created.status_code == 302
    finding_page = created.headers["Location"]
    fill(full_store.home, leave=128 * 1024)
    # Larger than the free space, smaller than the test client's 500 KB spool
    # threshold (a bigger body leaves the client's own temporary file open).
    pdf = b"%PDF-1.4\n" + b"0" * (400 * 1024)
    token = csrf_token(client, finding_page)
    response = client.post(f"{finding_page}/attachments", data={"csrf_token": token, "file": (
        io.BytesIO(pdf), "scan.pdf")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 507, page[:2000]
    assert "disk is full" in page and "Nothing was attached" in page
    leftovers = list(full_store.attachments_dir.iterdir())
    assert leftovers == [], leftovers  # neither the partial upload nor a file without a row
    assert count(full_store, "SELECT count(*) FROM attachments") == 0


def test_other_forms_hand_back_the_text_on_the_error_page(full_store, ids):
    client = signed_in(full_store, "ofsted1")
    fill(full_store.home)
    marker = "Chronology note typed on a full disk"

    def send():
        form = {"client_uuid": str(uuid.uuid4()), "agency_id": str(ids.agency_id), "practitioner_role": "Social worker",
                "event_date": ["3", "3", "2026"], "date_precision": "day", "event_type": "strategy_discussion",
                "description": f"{marker} {uuid.uuid4()} {LONG_TEXT}"[:19_000]}
        return form, post(client, "/cases/C-017/events/new", form, token_from="/cases/C-017/events/new")

    _, refused, response = first_refusal(send)
    page = response.get_data(as_text=True)
    assert response.status_code == 507, page[:2000]
    assert "disk is full" in page and refused["description"][:200] in page


def test_an_export_on_a_full_disk_is_507_and_leaves_no_file(full_store, ids, monkeypatch):
    import tempfile

    client = signed_in(full_store, "lead")
    exports = full_store.home / "exports"
    exports.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(exports))  # the workbook is written to the full disk
    fill(full_store.home)
    response = client.get("/excel/evidence.xlsx")
    page = response.get_data(as_text=True)
    response.close()
    assert response.status_code == 507, page[:2000]
    assert "disk is full" in page and "administrator" in page
    assert list(exports.iterdir()) == []
    assert client.get("/healthz").get_json()["last_write_error"]["kind"] == "disk_full"
