"""Attachments: type from the content, a size cap with a friendly 413, stored
by sha256, downloaded as an attachment only by those who may see the finding."""

from __future__ import annotations

import hashlib
import io

import pytest

from inspect_kit import attachments

from .web_fixtures import csrf_token, login_as, make_app, new_uuid, record

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
WINDOWS_EXE = b"MZ\x90\x00" + b"\x00" * 64


def upload(client, content, filename, content_type="application/pdf"):
    token = csrf_token(client, "/findings/EF-OFS-01-0001")
    return client.post("/findings/EF-OFS-01-0001/attachments", content_type="multipart/form-data",
                       data={"csrf_token": token, "client_uuid": new_uuid(),
                             "file": (io.BytesIO(content), filename, content_type)})


def stored(store):
    db = store.evidence()
    return list(db.query("SELECT * FROM attachments"))


@pytest.fixture
def author(web, review_store, ids):
    record(review_store, "ofsted1", ids)
    login_as(web, "ofsted1")
    return web


@pytest.mark.parametrize(("content", "filename", "media_type"), [
    (PDF, "minutes.pdf", "application/pdf"),
    (PNG, "whiteboard.png", "image/png"),
    (JPEG, "photo.JPG", "image/jpeg"),
    (PDF, "no-extension", "application/pdf"),  # the content decides, not the name
])
def test_accepted_files_are_stored_by_sha256(author, review_store, content, filename, media_type):
    response = upload(author, content, filename, content_type="application/octet-stream")
    assert response.status_code == 302
    [row] = stored(review_store)
    assert row["media_type"] == media_type
    assert row["sha256"] == hashlib.sha256(content).hexdigest()
    assert (review_store.attachments_dir / row["sha256"]).read_bytes() == content
    page = author.get("/findings/EF-OFS-01-0001").get_data(as_text=True)
    assert filename in page


@pytest.mark.parametrize(("content", "filename", "content_type"), [
    (ELF, "report.pdf", "application/pdf"),
    (WINDOWS_EXE, "scan.pdf", "application/pdf"),
    (b"<html><script>alert(1)</script>", "page.png", "image/png"),
    (b"", "empty.pdf", "application/pdf"),
])
def test_other_content_is_refused_whatever_its_name(author, review_store, content, filename, content_type):
    response = upload(author, content, filename, content_type)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#file"' in page
    assert "must be a PDF, PNG or JPEG" in page or "is empty" in page
    assert stored(review_store) == []
    assert [p for p in review_store.attachments_dir.iterdir() if not p.name.startswith(".")] == []


def test_no_file_chosen_is_a_field_error(author):
    token = csrf_token(author, "/findings/EF-OFS-01-0001")
    response = author.post("/findings/EF-OFS-01-0001/attachments", data={"csrf_token": token})
    assert response.status_code == 422
    assert "Select a file to attach" in response.get_data(as_text=True)


# Small caps keep the test client's request bodies in memory (Werkzeug spools
# bodies over 500 kB to a temporary file it does not close).
SMALL_CAP = 100 * 1024


def test_an_oversized_upload_gets_a_friendly_413_and_nothing_is_stored(review_store, ids):
    record(review_store, "ofsted1", ids)
    client = make_app(review_store, MAX_ATTACHMENT_BYTES=SMALL_CAP).test_client()
    login_as(client, "ofsted1")
    response = upload(client, PDF + b"0" * (400 * 1024), "big.pdf")
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "What you sent is too large" in page and "govuk-template" in page
    assert "smaller than 100 KB" in page
    assert stored(review_store) == []


def test_a_file_over_the_cap_but_under_the_request_limit_is_a_field_error(review_store, ids):
    record(review_store, "ofsted1", ids)
    client = make_app(review_store, MAX_ATTACHMENT_BYTES=SMALL_CAP).test_client()
    login_as(client, "ofsted1")
    response = upload(client, PDF + b"0" * (150 * 1024), "slightly-big.pdf")
    assert response.status_code == 422
    assert "smaller than 100 KB" in response.get_data(as_text=True)
    assert stored(review_store) == []


def test_the_default_cap_is_10_mb(web_app):
    assert web_app.config["MAX_ATTACHMENT_BYTES"] == 10 * 1024 * 1024
    assert attachments.human_size(web_app.config["MAX_ATTACHMENT_BYTES"]) == "10 MB"
    assert web_app.config["MAX_CONTENT_LENGTH"] > 10 * 1024 * 1024


def test_uploading_the_same_file_twice_keeps_one(author, review_store):
    upload(author, PDF, "minutes.pdf")
    upload(author, PDF, "minutes.pdf")
    assert len(stored(review_store)) == 1


def test_download_is_an_attachment_for_readers_only(author, web, review_store):
    upload(author, PDF, 'min"utes\r\n.pdf')
    [row] = stored(review_store)
    response = author.get(f"/attachments/{row['id']}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "\n" not in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == PDF
    response.close()
    login_as(web, "police1")
    assert web.get(f"/attachments/{row['id']}").status_code == 403
    assert web.get("/attachments/999").status_code in (403, 404)
    db = review_store.evidence()
    assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'attachment.download'").fetchone()[0] == 1


def test_same_strand_readers_cannot_attach_to_someone_elses_finding(author, web):
    login_as(web, "ofsted2")
    assert upload(web, PDF, "x.pdf").status_code == 403


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\x\\report.pdf", "report.pdf"), ("a\x00b.pdf", "ab.pdf"),
    ("", "attachment"),
])
def test_clean_filename(name, expected):
    assert attachments.clean_filename(name) == expected


def test_a_withdrawn_finding_takes_no_more_files(author, review_store):
    from .web_fixtures import post

    assert post(author, "/findings/EF-OFS-01-0001/qa", {"action": "withdraw", "comment": "Duplicate", "expected_version": "1"},
                token_from="/findings/EF-OFS-01-0001").status_code == 302
    assert 'action="/findings/EF-OFS-01-0001/attachments"' not in author.get("/findings/EF-OFS-01-0001").get_data(
        as_text=True)
    response = upload(author, PDF, "late.pdf")
    assert response.status_code == 409
    assert "withdrawn" in response.get_data(as_text=True)
    assert stored(review_store) == []
