"""No state crosses requests on one keep-alive connection.

A POST body over uvicorn's 64 KiB flow-control mark used to leave the Flask
request's context (its ``g``: the API caller, the worker thread's database
connections) on the connection, and the next request on that connection ran
inside it: an anonymous ``GET /api/findings`` answered 200 with another
caller's findings, a health inspector's token read police findings, other
requests failed with ``sqlite3.ProgrammingError``. These tests drive the real
``inspect-kit serve`` over ONE connection, checked to be reused, and require
every answer to be the one its own identity gets.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest

from inspect_kit import accounts

from .conftest import serving
from .pages import hidden
from .web_fixtures import PASSWORD, ReviewIds, record

# Over uvicorn's HIGH_WATER_LIMIT (64 KiB), under the API's 256 KiB cap.
LARGE_TEXT_CHARS = 18_000
ROUNDS = 3
# A client that reads its answer and waits a moment before the next request, as
# a person does: the leak needs the server to finish the response (and resume
# reading the socket) before the next request arrives. A client that fires the
# next request at once mostly hid it (0 of 6 requests leaked in a probe against
# the bare stack; with a 30 ms pause, 5 of 5).
THINK_SECONDS = 0.03


@dataclass
class Identity:
    """Who a request is sent as: headers (a bearer token) and cookies (a session)."""

    name: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class OneConnection:
    """One HTTP/1.1 connection to the server; every request checks it is still the same socket."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.http = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.http.connect()
        self.local_address = self.http.sock.getsockname()
        self.requests = 0

    def close(self) -> None:
        self.http.close()

    def send(self, who: Identity, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> Answer:
        all_headers = {**who.headers, **(headers or {})}
        if who.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in who.cookies.items())
        self.http.request(method, path, body=body, headers=all_headers)
        response = self.http.getresponse()
        data = response.read()
        # http.client closes the socket when the server answers "Connection: close",
        # and opens a new one (a new local port) on the next request: either means
        # the connection was not reused.
        assert self.http.sock is not None, f"the server closed the connection after {method} {path}"
        assert self.http.sock.getsockname() == self.local_address, "a new connection was opened"
        self.requests += 1
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    who.cookies[name] = morsel.value
                else:
                    who.cookies.pop(name, None)
        time.sleep(THINK_SECONDS)
        return Answer(response.status, response.headers, data)


def csrf_from(answer: Answer) -> str:
    return hidden(answer.text, "csrf_token")


def finding_body(ids: ReviewIds, *, large: bool) -> bytes:
    """A valid API finding; ``large`` makes it ~220 KiB (each é is 6 bytes of JSON escape)."""
    text = ("Strategy discussion minutes reviewed. " + "é" * LARGE_TEXT_CHARS) if large else "Minutes reviewed."
    body = json.dumps({
        "client_uuid": str(uuid.uuid4()), "case_id": ids.case_id, "agency_id": ids.agency_id,
        "activity": "case_file_review", "collected_on": "2026-11-04", "evidence_text": text,
        "evaluation_text": text, "finding_type": "area_for_improvement", "impact_on_child": "negative",
        "criteria": {"2.3": "primary"}, "submit": True,
    }).encode()
    assert not large or 64 * 1024 < len(body) < 256 * 1024, len(body)
    return body


def multipart(fields: dict[str, str], filename: str, content: bytes, media_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: {media_type}\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def pdf(size: int) -> bytes:
    """A distinct PDF-looking file of ``size`` bytes (content-addressed storage must not dedupe it)."""
    head = b"%PDF-1.7\n%" + os.urandom(16).hex().encode() + b"\n"
    return head + b"0" * (size - len(head) - 6) + b"%%EOF\n"


@pytest.fixture
def keepalive_server(review_store, ids, tmp_path):
    """The real server on a copy of the test review, with a health token and findings in two strands."""
    police_finding = record(review_store, "police1", ids, submit=True)["public_id"]
    health_finding = record(review_store, "health1", ids, submit=True)["public_id"]
    with contextlib.closing(review_store.private()) as private:
        health_token = accounts.issue_token(private, "health1")
    with serving(review_store, tmp_path / "server.log") as server:
        yield server, health_token, police_finding, health_finding


def strands_seen(answer: Answer) -> set[str]:
    return {finding["strand"] for finding in answer.json()["findings"]}


@pytest.mark.slow
def test_no_identity_crosses_requests_on_one_keepalive_connection(keepalive_server, ids):
    server, health_token, police_finding, health_finding = keepalive_server
    anonymous = Identity("anonymous")
    health = Identity("health token", headers={"Authorization": f"Bearer {health_token}"})
    police = Identity("police session")
    connection = OneConnection(server.url)
    try:
        # The police inspector signs in through the form, on this same connection.
        login_page = connection.send(police, "GET", "/login")
        assert login_page.status == 200
        signed_in = connection.send(police, "POST", "/login", urlencode(
            {"username": "police1", "password": PASSWORD, "csrf_token": csrf_from(login_page)}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
        assert signed_in.status == 302, signed_in.text[:500]

        def anonymous_is_refused():
            answer = connection.send(anonymous, "GET", "/api/findings")
            assert answer.status == 401, (answer.status, answer.text[:300])
            page = connection.send(anonymous, "GET", "/")
            assert page.status == 302 and "/login" in page.headers["Location"], page.status
            finding_page = connection.send(anonymous, "GET", f"/findings/{police_finding}")
            assert finding_page.status == 302 and "/login" in finding_page.headers["Location"]
            # Datasette, in the same process, on the same connection.
            assert connection.send(anonymous, "GET", "/data/-/actor.json").status == 403

        def health_sees_health_only():
            answer = connection.send(health, "GET", "/api/findings")
            assert answer.status == 200, (answer.status, answer.text[:300])
            assert strands_seen(answer) == {"health"}
            assert connection.send(health, "GET", f"/api/findings/{police_finding}").status in (403, 404)
            assert connection.send(health, "GET", f"/api/findings/{health_finding}").status == 200
            # A bearer token is the API's alone: to Datasette the caller is anonymous.
            assert connection.send(health, "GET", "/data/-/actor.json").status == 403

        def police_sees_police():
            answer = connection.send(police, "GET", "/api/findings")
            assert answer.status == 200, (answer.status, answer.text[:300])
            assert strands_seen(answer) == {"police"}
            page = connection.send(police, "GET", f"/findings/{police_finding}")
            assert page.status == 200 and police_finding in page.text
            actor = connection.send(police, "GET", "/data/-/actor.json").json()["actor"]
            assert (actor["id"], actor["strand"]) == ("police1", "police")
            return csrf_from(page)

        def health_posts_large():
            answer = connection.send(health, "POST", "/api/findings", finding_body(ids, large=True),
                                     {"Content-Type": "application/json"})
            assert answer.status == 201, (answer.status, answer.text[:300])
            assert answer.json()["strand"] == "health"

        def police_posts_large(token: str):
            answer = connection.send(police, "POST", "/api/findings", finding_body(ids, large=True),
                                     {"Content-Type": "application/json", "X-CSRFToken": token})
            assert answer.status == 201, (answer.status, answer.text[:300])
            assert answer.json()["strand"] == "police"

        def police_uploads(token: str):
            body, content_type = multipart({"csrf_token": token, "client_uuid": str(uuid.uuid4())},
                                           "minutes.pdf", pdf(150 * 1024), "application/pdf")
            answer = connection.send(police, "POST", f"/findings/{police_finding}/attachments", body,
                                     {"Content-Type": content_type})
            assert answer.status == 302, (answer.status, answer.text[:300])
            assert answer.headers["Location"].endswith(f"/findings/{police_finding}#attachments")

        def anonymous_posts_large():
            answer = connection.send(anonymous, "POST", "/api/findings", finding_body(ids, large=True),
                                     {"Content-Type": "application/json"})
            assert answer.status == 401, (answer.status, answer.text[:300])

        token = police_sees_police()
        for _ in range(ROUNDS):
            health_posts_large()
            anonymous_is_refused()
            police_posts_large(token)
            health_sees_health_only()
            anonymous_is_refused()
            police_uploads(token)
            anonymous_is_refused()
            health_sees_health_only()
            token = police_sees_police()
            health_posts_large()
            police_sees_police()
            anonymous_posts_large()
            health_sees_health_only()
            anonymous_is_refused()
        assert connection.requests > 60
    finally:
        connection.close()
    log = server.log()
    assert "Traceback" not in log and "ProgrammingError" not in log, log[-3000:]


# ------------------------------------------------ each layer of the fix, in-process


async def test_flask_starts_with_an_empty_g_even_inside_a_leaked_context(store):
    """The context that leaked is simulated: the ASGI app is called with a Flask
    app context (and a cached API actor) already current, as the next request on
    the connection used to be. Flask must not reuse it."""
    import httpx
    from flask import g, jsonify

    from inspect_kit.web.server import build_app

    server = build_app(store, secret_key="keepalive-test-secret")
    server.flask.add_url_rule("/probe", "probe", lambda: jsonify(api_actor=g.get("api_actor"), keys=list(g)))
    leaked = server.flask.app_context()
    leaked.push()
    g.api_actor = "police inspector from the previous request"
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=server), base_url="http://test") as client:
            answer = (await client.get("/probe")).json()
    finally:
        leaked.pop()
    assert answer["api_actor"] is None
    assert "api_actor" not in answer["keys"]


async def test_the_servers_receive_never_runs_in_a_flask_context(store):
    """uvicorn's receive() is awaited by the event loop for the request, never on
    behalf of a Flask worker: a2wsgi's body reader ran it (through
    run_coroutine_threadsafe) in a copy of the worker's context, Flask request
    pushed, and whatever receive() scheduled kept that context (the leak)."""
    import asyncio
    import threading

    from flask import has_app_context, request

    from inspect_kit.web.server import build_app

    server = build_app(store, secret_key="keepalive-test-secret")
    server.flask.add_url_rule("/echo", "echo", lambda: str(len(request.get_data())), methods=["POST"])
    server.flask.config["WTF_CSRF_ENABLED"] = False
    chunks = [b"x" * 70_000, b"y" * 70_000, b"z" * 10]
    callers: list[tuple[str, bool]] = []

    async def receive():
        callers.append((threading.current_thread().name, has_app_context()))
        await asyncio.sleep(0)
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/echo", "raw_path": b"/echo", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"test"), (b"content-length", b"140010")], "server": ("test", 80),
             "client": ("127.0.0.1", 5000)}
    await server(scope, receive, send)
    assert sent[0]["status"] == 200
    assert b"".join(message.get("body", b"") for message in sent[1:]) == b"140010"
    assert callers == [(threading.current_thread().name, False)] * 3
