"""Request bodies are read in the event loop, not by a worker thread.

Against the real ``inspect-kit serve``: 12 clients trickling uploads do not
hold up pages or the API (8 trickling clients used to hold all 8 Flask worker
threads until they left); an oversized declared body is refused before any of
it is sent; a body that arrives too slowly is answered 408. The reading rules
themselves (:func:`inspect_kit.web.server.read_body`) are checked in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from inspect_kit import accounts
from inspect_kit.web.server import BodyLimits, BodyRefused, ClientGone, read_body

from .conftest import serving
from .pages import hidden
from .test_server_keepalive import finding_body, multipart, pdf
from .web_fixtures import PASSWORD, record

TRICKLERS = 12
# Generous: these requests answer in milliseconds when nothing is starved; a
# starved server does not answer until the trickling clients leave.
ANSWER_WITHIN_SECONDS = 10


class RawRequest:
    """One request over a plain socket, so the test controls when each byte is sent."""

    def __init__(self, url: str, method: str, path: str, headers: dict[str, str]):
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}",
                 *(f"{name}: {value}" for name, value in headers.items()), "", ""]
        self.sock.sendall("\r\n".join(lines).encode())

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
        """The status, headers (lower-case names) and body of the answer."""
        self.sock.settimeout(timeout)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed before an answer: {data!r}"
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", 0))
        while len(body) < length:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed in the middle of the answer"
            body += chunk
        return int(status_line.split()[1]), headers, body

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def review_server(review_store, ids, tmp_path):
    """The real server on the test review: a police finding, a health token, a police session."""
    police_finding = record(review_store, "police1", ids, submit=True)["public_id"]
    with contextlib.closing(review_store.private()) as private:
        health_token = accounts.issue_token(private, "health1")
    with serving(review_store, tmp_path / "server.log") as server:
        police = httpx.Client(base_url=server.url, timeout=ANSWER_WITHIN_SECONDS)
        login_page = police.get("/login")
        token = _csrf(login_page.text)
        assert police.post("/login", data={"username": "police1", "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
        csrf = _csrf(police.get(f"/findings/{police_finding}").text)
        try:
            yield server, police, csrf, police_finding, health_token
        finally:
            police.close()


def _csrf(html: str) -> str:
    return hidden(html, "csrf_token")


def _cookie_header(client: httpx.Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


@pytest.mark.slow
def test_trickling_uploads_do_not_starve_pages_or_the_api(review_server, ids):
    server, police, csrf, police_finding, health_token = review_server
    uploads = []
    for _ in range(TRICKLERS):
        body, content_type = multipart({"csrf_token": csrf, "client_uuid": str(uuid.uuid4())},
                                       "minutes.pdf", pdf(20 * 1024), "application/pdf")
        request = RawRequest(server.url, "POST", f"/findings/{police_finding}/attachments", {
            "Content-Type": content_type, "Content-Length": str(len(body)), "Cookie": _cookie_header(police)})
        uploads.append((request, body))
    stop = threading.Event()
    sent = [0] * TRICKLERS

    def trickle(index: int) -> None:
        request, body = uploads[index]
        while not stop.is_set() and sent[index] < len(body) // 2:  # 100 bytes every 0.25 s: 400 B/s
            request.send(body[sent[index]:sent[index] + 100])
            sent[index] += 100
            stop.wait(0.25)

    threads = [threading.Thread(target=trickle, args=(index,)) for index in range(TRICKLERS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)  # every upload is now part-way through its body
        health = {"Authorization": f"Bearer {health_token}"}
        with httpx.Client(base_url=server.url, timeout=ANSWER_WITHIN_SECONDS) as client:
            for _ in range(3):
                assert client.get("/login").status_code == 200
                assert client.get("/healthz").status_code == 200
                listing = client.get("/api/findings", headers=health)
                assert listing.status_code == 200
                assert {finding["strand"] for finding in listing.json()["findings"]} <= {"health"}
                created = client.post("/api/findings", content=finding_body(ids, large=False),
                                      headers={**health, "Content-Type": "application/json"})
                assert created.status_code == 201, created.text
            assert police.get(f"/findings/{police_finding}").status_code == 200
        assert all(0 < count < len(body) for count, (_, body) in zip(sent, uploads, strict=True)), "the uploads ended early"
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    # The slow uploads were not refused: sent to the end, each is stored.
    for (request, body), count in zip(uploads, sent, strict=True):
        request.send(body[count:])
    for request, _ in uploads:
        status, headers, _ = request.response()
        request.close()
        assert status == 302 and headers["location"].endswith("#attachments"), status
    with contextlib.closing(server.store.evidence()) as db:
        assert db.execute("SELECT count(*) FROM attachments").fetchone()[0] == TRICKLERS


@pytest.mark.slow
def test_oversized_declared_bodies_are_refused_before_they_are_sent(review_server):
    server, police, csrf, police_finding, health_token = review_server
    # An attachment form post declaring 50 MB (the cap is 10 MB plus the form): no body byte is sent.
    upload = RawRequest(server.url, "POST", f"/findings/{police_finding}/attachments", {
        "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(50_000_000),
        "Cookie": _cookie_header(police)})
    status, headers, body = upload.response(timeout=ANSWER_WITHIN_SECONDS)
    upload.close()
    assert status == 413 and headers["connection"] == "close"
    assert headers["content-type"].startswith("text/html") and b"too large" in body
    # The API's cap is 256 KiB: a declared 300 KiB is refused with its JSON error.
    api = RawRequest(server.url, "POST", "/api/findings", {
        "Authorization": f"Bearer {health_token}", "Content-Type": "application/json",
        "Content-Length": str(300 * 1024)})
    status, headers, body = api.response(timeout=ANSWER_WITHIN_SECONDS)
    api.close()
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(body)["status"] == 413
    # A chunked body has no declared length: it is refused once the bytes read pass the cap.
    chunked = RawRequest(server.url, "POST", "/api/findings", {
        "Authorization": f"Bearer {health_token}", "Content-Type": "application/json",
        "Transfer-Encoding": "chunked"})
    for _ in range(5):
        chunked.send(b"10000\r\n" + b" " * 0x10000 + b"\r\n")  # 5 × 64 KiB
    status, headers, body = chunked.response(timeout=ANSWER_WITHIN_SECONDS)
    chunked.close()
    assert status == 413 and json.loads(body)["status"] == 413
    # The server is still up and answers on a new connection.
    assert httpx.get(server.url + "/healthz", timeout=ANSWER_WITHIN_SECONDS).status_code == 200


@pytest.mark.slow
def test_a_body_that_arrives_too_slowly_is_answered_408(review_store, ids, tmp_path):
    with contextlib.closing(review_store.private()) as private:
        health_token = accounts.issue_token(private, "health1")
    options = ("--body-timeout", "1", "--body-min-rate", "1000")  # idle limit: 3 s
    with serving(review_store, tmp_path / "server.log", options) as server:
        headers = {"Authorization": f"Bearer {health_token}", "Content-Type": "application/json"}
        body = finding_body(ids, large=False)
        # 20 bytes every 0.2 s (100 B/s) falls behind 1 s + 1 s per 1000 bytes.
        slow = RawRequest(server.url, "POST", "/api/findings", {**headers, "Content-Length": str(len(body))})
        stop = threading.Event()

        def trickle():
            with contextlib.suppress(OSError):  # the server may close the socket once it has answered
                for offset in range(0, len(body), 20):
                    if stop.is_set():
                        return
                    slow.send(body[offset:offset + 20])
                    stop.wait(0.2)

        thread = threading.Thread(target=trickle)
        started = time.monotonic()
        thread.start()
        try:
            status, answer_headers, answer = slow.response(timeout=10)
            waited = time.monotonic() - started
        finally:
            stop.set()
            thread.join()
            slow.close()
        assert status == 408 and answer_headers["connection"] == "close"
        assert json.loads(answer)["status"] == 408
        assert waited < len(body) / 100, "answered only after the whole body arrived"
        # A body that stops part-way is answered 408 after the idle limit (the
        # ~110 KB sent at once put the rate deadline ~110 s away).
        large = finding_body(ids, large=True)
        stalled = RawRequest(server.url, "POST", "/api/findings", {**headers, "Content-Length": str(len(large))})
        stalled.send(large[: len(large) // 2])
        started = time.monotonic()
        status, _, _ = stalled.response(timeout=15)
        stalled.close()
        assert status == 408 and 2.5 < time.monotonic() - started < 10
        # The same limits let an ordinary client through.
        fast = httpx.post(server.url + "/api/findings", content=body, headers=headers, timeout=10)
        assert fast.status_code == 201, fast.text


@pytest.mark.slow
def test_clients_that_read_slowly_do_not_starve_the_app(review_server, ids):
    """12 clients ask for a 4 MB attachment and read none of it: a worker
    thread writes the answer into the server's queue and is free again (with
    a2wsgi's 10-message queue it waited for the client to read)."""
    server, police, csrf, police_finding, health_token = review_server
    from inspect_kit import attachments

    with contextlib.closing(server.store.evidence()) as db, contextlib.closing(server.store.private()) as private:
        actor = accounts.actor_for(accounts.get_account(private, "police1"), db, ids.review_id)
        attachment = attachments.add_attachment(db, server.store, actor, police_finding, filename="scan.pdf",
                                                content=pdf(4 * 1024 * 1024))
    downloads = []
    for _ in range(TRICKLERS):
        request = RawRequest(server.url, "GET", f"/attachments/{attachment['id']}", {"Cookie": _cookie_header(police)})
        request.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        downloads.append(request)
    try:
        time.sleep(1.0)
        with httpx.Client(base_url=server.url, timeout=ANSWER_WITHIN_SECONDS) as client:
            for _ in range(3):
                assert client.get("/login").status_code == 200
                answer = client.get("/api/findings", headers={"Authorization": f"Bearer {health_token}"})
                assert answer.status_code == 200
        # The slow readers' answers are on their way.
        for request in downloads:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = request.sock.recv(4096)
                assert chunk, "the server closed a slow reader's connection"
                head += chunk
            assert head.startswith(b"HTTP/1.1 200 ") and b"content-length: 4194304" in head.lower()
    finally:
        for request in downloads:
            request.close()


# ---------------------------------------------------------------- read_body, in-process


def _scope(headers: dict[str, str]) -> dict:
    return {"type": "http", "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}


def _receiver(chunks: list[bytes], delay: float = 0.0):
    calls = []

    async def receive():
        calls.append(len(calls))
        if delay:
            await asyncio.sleep(delay)
        index = len(calls) - 1
        if index >= len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[index], "more_body": index < len(chunks) - 1}

    return receive, calls


async def test_read_body_buffers_every_chunk():
    receive, calls = _receiver([b"a" * 70_000, b"b" * 70_000, b"c"])
    body, size = await read_body(_scope({"content-length": "140001"}), receive, 200_000, BodyLimits())
    with body:
        assert size == 140_001 and body.read() == b"a" * 70_000 + b"b" * 70_000 + b"c"
    assert len(calls) == 3


async def test_read_body_refuses_a_declared_oversize_without_receiving():
    receive, calls = _receiver([b"x" * 10])
    with pytest.raises(BodyRefused) as refused:
        await read_body(_scope({"content-length": "1001"}), receive, 1000, BodyLimits())
    assert refused.value.status == 413 and calls == []


async def test_read_body_refuses_once_the_bytes_read_pass_the_limit():
    receive, calls = _receiver([b"x" * 600, b"x" * 600, b"x" * 600])
    with pytest.raises(BodyRefused) as refused:
        await read_body(_scope({"transfer-encoding": "chunked"}), receive, 1000, BodyLimits())
    assert refused.value.status == 413 and len(calls) == 2


async def test_read_body_without_a_body_does_not_wait():
    receive, calls = _receiver([], delay=60)
    body, size = await read_body(_scope({}), receive, 1000, BodyLimits())
    with body:
        assert (size, body.read(), calls) == (0, b"", [])


async def test_read_body_answers_a_slow_body_408():
    receive, _ = _receiver([b"x"] * 100, delay=0.05)  # 20 bytes a second
    with pytest.raises(BodyRefused) as refused:
        await read_body(_scope({"content-length": "100"}), receive, 1000, BodyLimits(timeout=0.3, min_rate=100))
    assert refused.value.status == 408


async def test_read_body_lets_a_slow_body_through_at_the_minimum_rate():
    receive, _ = _receiver([b"x" * 50] * 8, delay=0.05)  # 1,000 bytes a second
    body, size = await read_body(_scope({"content-length": "400"}), receive, 1000,
                                 BodyLimits(timeout=0.2, min_rate=500))
    with body:
        assert size == 400 and body.read() == b"x" * 400


async def test_read_body_reports_a_client_that_left():
    chunks = iter([{"type": "http.request", "body": b"x", "more_body": True}, {"type": "http.disconnect"}])

    async def leaving():
        return next(chunks)

    with pytest.raises(ClientGone):
        await read_body(_scope({"content-length": "10"}), leaving, 1000, BodyLimits())
