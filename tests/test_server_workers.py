"""``inspect-kit serve --workers 2``: two real worker processes share everything a user relies on.

Each check pins its requests to one worker: a keep-alive connection stays with
the process that accepted it, and ``/healthz`` says which process that is
(``worker_pid``). A sign-in made through one worker is a session on the other,
a throttle earned through one holds on the other, and SIGTERM / SIGHUP behave
as ``serve --help`` says.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from inspect_kit import accounts
from inspect_kit.web.health import WriteHealth

from .conftest import LiveServer, serving
from .web_fixtures import CSRF_RE, PASSWORD

# Every test here starts `inspect-kit serve --workers 2` in a subprocess.
pytestmark = pytest.mark.slow


ATTEMPTS_TO_REACH_A_WORKER = 60


class Workers:
    """Requests to a two-worker server, each sent on a connection held by a chosen worker process."""

    def __init__(self, server: LiveServer):
        self.server = server
        self.cookies = httpx.Cookies()
        self.pids: set[int] = set()

    def pid_of(self, client: httpx.Client) -> int:
        return client.get("/healthz").json()["worker_pid"]

    @contextlib.contextmanager
    def connection(self, pid: int | None = None, avoid: int | None = None) -> Iterator[tuple[int, httpx.Client]]:
        """A one-connection client whose connection is served by ``pid`` (or by any process but ``avoid``)."""
        for _ in range(ATTEMPTS_TO_REACH_A_WORKER):
            client = httpx.Client(base_url=self.server.url, cookies=self.cookies, timeout=20,
                                  limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
            found = self.pid_of(client)
            self.pids.add(found)
            if (pid is None or found == pid) and found != avoid:
                try:
                    yield found, client
                finally:
                    self.cookies.update(client.cookies)
                    client.close()
                return
            client.close()
        pytest.fail(f"no connection reached the worker wanted (pid {pid}, not {avoid}); saw {self.pids}")

    def two_pids(self) -> tuple[int, int]:
        with self.connection() as (first, _):
            pass
        with self.connection(avoid=first) as (second, _):
            pass
        return first, second

    def send(self, pid: int, method: str, path: str, **kwargs) -> httpx.Response:
        """One request on a connection of worker ``pid``, checked to be still that worker's afterwards."""
        with self.connection(pid) as (_, client):
            response = client.request(method, path, **kwargs)
            assert self.pid_of(client) == pid, "the connection moved to another worker mid-check"
            return response


@pytest.fixture
def two_workers(review_store, tmp_path) -> Iterator[Workers]:
    with serving(review_store, tmp_path / "server.log", ("--workers", "2")) as server:
        yield Workers(server)


def csrf(response: httpx.Response) -> str:
    match = CSRF_RE.search(response.text)
    assert match, response.text[:500]
    return match.group(1) or match.group(2)


def test_a_sign_in_through_one_worker_is_a_session_on_the_other(two_workers):
    a, b = two_workers.two_pids()
    assert a != b
    token = csrf(two_workers.send(a, "GET", "/login"))
    # The form came from worker a; worker b accepts its CSRF token and signs in.
    signed_in = two_workers.send(b, "POST", "/login", data={"csrf_token": token, "username": "lead",
                                                            "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.text[:500]
    for pid in (a, b):
        page = two_workers.send(pid, "GET", "/")
        assert page.status_code == 200 and "Sign out" in page.text, (pid, page.status_code)
        data = two_workers.send(pid, "GET", "/data/evidence.json")
        assert data.status_code == 200, (pid, data.text[:300])
    # Anonymous on either worker: no session, no data.
    two_workers.cookies.clear()
    for pid in (a, b):
        assert two_workers.send(pid, "GET", "/").status_code in (302, 303)
        assert two_workers.send(pid, "GET", "/data/evidence.json").status_code in (302, 403)


def test_a_throttle_earned_through_one_worker_holds_on_the_other(two_workers):
    a, b = two_workers.two_pids()
    for attempt in range(5):
        token = csrf(two_workers.send(a, "GET", "/login"))
        wrong = two_workers.send(a, "POST", "/login", data={"csrf_token": token, "username": "ofsted2",
                                                            "password": f"wrong guess {attempt}"})
        assert wrong.status_code == 401, (attempt, wrong.status_code)
    # Worker b never saw a guess, yet refuses even the right password, before any hash.
    token = csrf(two_workers.send(b, "GET", "/login"))
    refused = two_workers.send(b, "POST", "/login", data={"csrf_token": token, "username": "ofsted2",
                                                          "password": PASSWORD})
    assert refused.status_code == 429, refused.text[:300]
    assert int(refused.headers["Retry-After"]) > 0
    # Another account is not held up on either worker.
    for pid in (a, b):
        token = csrf(two_workers.send(pid, "GET", "/login"))
        other = two_workers.send(pid, "POST", "/login", data={"csrf_token": token, "username": "ofsted1",
                                                              "password": PASSWORD})
        assert other.status_code == 302, (pid, other.status_code)
        two_workers.cookies.clear()


def test_a_disabled_account_is_signed_out_on_both_workers(two_workers):
    a, b = two_workers.two_pids()
    token = csrf(two_workers.send(a, "GET", "/login"))
    assert two_workers.send(a, "POST", "/login", data={"csrf_token": token, "username": "police1",
                                                       "password": PASSWORD}).status_code == 302
    with contextlib.closing(two_workers.server.store.private()) as private:
        private.execute("UPDATE accounts SET disabled = 1 WHERE username = 'police1'")
    for pid in (a, b):
        assert two_workers.send(pid, "GET", "/").status_code in (302, 303), pid


def test_the_last_failed_write_is_one_record_for_every_worker(tmp_path):
    from inspect_kit.errors import StorageFault

    home = tmp_path / "store"
    home.mkdir()
    one, other = WriteHealth(home), WriteHealth(home)  # as two worker processes hold them
    assert other.last_fault is None
    one.fault(StorageFault("The disk is full.", kind="disk_full"), "/api/findings")
    assert other.last_fault.kind == "disk_full" and other.recent_fault() is not None
    other.success()
    assert one.recent_fault() is None and one.last_fault.kind == "disk_full"


def finding(ids, client_uuid: str) -> bytes:
    return json.dumps({
        "client_uuid": client_uuid, "agency_id": ids.agency_id, "case_id": ids.case_id,
        "activity": "case_file_review", "collected_on": "2026-11-03",
        "evidence_text": "Sent while the server was being stopped.", "finding_type": "strength",
        "impact_on_child": "positive", "criteria": {"2.1": "primary"}, "submit": False,
    }).encode()


def test_sigterm_lets_a_request_in_flight_finish(review_store, ids, tmp_path):
    with contextlib.closing(review_store.private()) as private:
        token = accounts.issue_token(private, "ofsted1")
    client_uuid = str(uuid.uuid4())
    body = finding(ids, client_uuid)
    with serving(review_store, tmp_path / "server.log", ("--workers", "2")) as server:
        host, port = server.url.split("//")[1].split(":")
        head = (f"POST /api/findings HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        with socket.create_connection((host, int(port)), timeout=20) as sock:
            sock.sendall(head + body[:40])
            time.sleep(0.5)  # the worker has the request and is waiting for the rest of its body
            server.process.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            assert server.process.poll() is None, "the server stopped with a request in flight"
            sock.sendall(body[40:])
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
        server.process.wait(timeout=30)
        assert server.process.returncode == 0, server.log()
    with contextlib.closing(review_store.evidence()) as db:
        assert db.execute("SELECT count(*) FROM findings WHERE client_uuid = ?", [client_uuid]).fetchone()[0] == 1


def test_sighup_replaces_every_worker_and_keeps_serving(two_workers):
    before = set(two_workers.two_pids())
    os.kill(two_workers.server.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + 60
    seen: set[int] = set()
    while time.monotonic() < deadline and len(seen - before) < 2:
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(two_workers.server.url + "/healthz", timeout=5)
            assert response.status_code == 200
            seen.add(response.json()["worker_pid"])
        time.sleep(0.05)
    new = seen - before
    assert len(new) == 2, f"before {before}, seen since {seen}"
    while time.monotonic() < deadline and any(_alive(pid) for pid in before):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in before), "an old worker is still running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_die_with_a_supervisor_killed_by_sigkill(two_workers):
    workers = set(two_workers.two_pids())
    os.kill(two_workers.server.process.pid, signal.SIGKILL)
    two_workers.server.process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "a worker outlived its supervisor"
    with pytest.raises(httpx.ConnectError):  # nobody holds the port any more
        httpx.get(two_workers.server.url + "/healthz", timeout=5)


def test_a_catalogue_change_in_the_database_reaches_both_workers(two_workers):
    a, b = two_workers.two_pids()
    token = csrf(two_workers.send(a, "GET", "/login"))
    assert two_workers.send(a, "POST", "/login", data={"csrf_token": token, "username": "lead",
                                                       "password": PASSWORD}).status_code == 302
    for pid in (a, b):  # both workers have built and cached the catalogue
        assert "Special review of Testbridge" in two_workers.send(pid, "GET", "/data/evidence").text
    with contextlib.closing(two_workers.server.store.evidence()) as db:
        db.execute("UPDATE reviews SET title = 'Renamed while serving' WHERE slug = 'testbridge'")
    for pid in (a, b):
        deadline = time.monotonic() + 3  # checked every second; a timed rebuild (10 s) would not do
        while "Renamed while serving" not in two_workers.send(pid, "GET", "/data/evidence").text:
            assert time.monotonic() < deadline, f"worker {pid} still shows the old catalogue"
            time.sleep(0.2)


def test_connections_from_a_listener_uvicorn_binds_get_tcp_nodelay():
    """With --workers uvicorn binds the socket itself (protocol 0), and asyncio then leaves Nagle on:
    NoDelayH11Protocol turns it off, or every keep-alive answer waited ~40 ms for a delayed ACK."""
    import asyncio

    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from inspect_kit.web.server_http import NoDelayH11Protocol

    async def app(scope, receive, send):  # never called: no request is sent
        raise AssertionError

    async def accept_one() -> tuple[int, int]:
        listener = socket.socket(socket.AF_INET)  # as uvicorn.config.Config.bind_socket makes it
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with listener, socket.create_connection(listener.getsockname()):
            accepted, _ = listener.accept()
            before = accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            config = Config(app=app, lifespan="off", log_level="warning")
            config.load()
            protocol = NoDelayH11Protocol(config=config, server_state=ServerState(), app_state={})
            transport, _ = await asyncio.get_running_loop().connect_accepted_socket(lambda: protocol, accepted)
            after = transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            transport.close()
            await asyncio.sleep(0)
            return before, after

    before, after = asyncio.run(accept_one())
    assert before == 0  # what asyncio leaves on a protocol-0 socket: the cause
    assert after != 0
