"""The one test layer: databases, the Flask app, a real server and a real browser.

Every shared fixture is defined here or in a plugin module registered below
(``pytest_plugins``), never in a test file or through ``pytest_plugins`` in one
(a fixture that serves one file only stays in that file); helpers a test calls
are imported from those modules (``tests.web_fixtures``, ``tests.pages`` for
reading HTML, ``tests.library_fixtures`` for the review built through the
library).

- ``close_databases`` (autouse): every ``sqlite_utils.Database`` made during a
  test, and every ``sqlite3.connect`` made by test code, is closed when the
  test ends, so tests need no ``try``/``finally: db.close()`` of their own.
- ``fresh_db``: an in-memory evidence database with the full schema.
- ``store``: an initialised store in ``tmp_path``.
- ``app`` / ``client`` / ``runner``: the Flask app on that store (flaskr style).
- ``live_server``: the real ``inspect-kit serve`` in a subprocess on a free
  port, with its own store; waits for ``/healthz``.
- ``chromium_path`` / ``browser_context`` / ``browser_page``: Debian's
  ``/usr/bin/chromium`` driven by Playwright with a new empty profile.
  Playwright's own browser downloads do not work here: never run
  ``playwright install``; ``make test`` installs the Debian package.
- ``demo_template``: the demo review built once per session (copy it with ``copy_store``).
- ``datasette_review``: ``store`` holding the Datasette tests' small review.
- ``run_bench``: a bench script run in miniature in a subprocess (the bench smoke tests).
- ``web_app`` / ``web`` / ``review_store`` / ``ids``: the intake app on a copy
  of a review with one account per role (``tests/web_fixtures.py``).

A test that uses ``live_server`` is marked ``slow`` here (it starts the real
server in a subprocess); a test that starts it another way carries the mark
itself. ``make test`` runs the suite on every core with pytest-xdist: fixtures
take free ports and ``tmp_path`` folders, so tests share no state.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlite_utils import Database

from inspect_kit import accounts
from inspect_kit.store import Store, connect, memory_db

pytest_plugins = ["tests.web_fixtures", "tests.access_walk"]

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "test-secret-not-for-production"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_SECONDS = 30
# Passwords made in test processes are hashed with scrypt at N = 2**10 instead of the production
# N = 2**15 (werkzeug's default, inspect_kit.accounts): the same code and the same checks at 1/32
# of the CPU. The suite makes and checks passwords thousands of times (the demo alone makes ten,
# about 1 s). A hash keeps its parameters, so a server started by a test checks these cheaply too;
# accounts it creates itself get the production cost. Nothing outside tests sets this.
accounts.PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
# Fixtures that start ``inspect-kit serve`` in a subprocess: a test using one is ``slow``.
LIVE_SERVER_FIXTURES = frozenset({"live_server"})


def pytest_configure(config):
    """Test stores live in memory (``/dev/shm``) unless ``--basetemp`` or ``$PYTEST_DEBUG_TEMPROOT``
    says otherwise. Every store commits with ``synchronous=FULL``, one fsync a commit: 6 ms a
    commit on this shared disk against 0.01 ms on tmpfs (measured, load average about 25), and
    the suite commits tens of thousands of times. The same SQLite and the same files; only the
    disk under them is memory. (xdist's workers inherit the variable, and their folders.)"""
    shm = Path("/dev/shm")
    if config.option.basetemp is None and shm.is_dir() and os.access(shm, os.W_OK):
        os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(shm))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark ``slow`` every test that starts the real server through a shared fixture.

    Runs before ``-m`` deselects, so ``-m "not slow"`` leaves these out.
    """
    for item in items:
        if LIVE_SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


@contextlib.contextmanager
def closing_databases() -> Iterator[list]:
    """Track the databases opened inside the block and close them all when it ends.

    Tracks each ``sqlite_utils.Database`` made (the store's ``evidence()`` and
    ``private()``, ``memory_db()``, any a test makes) and each
    ``sqlite3.connect`` called from the tests' own code. Connections that
    Datasette opens for itself are left alone: a module-scoped Datasette
    reuses them across tests. Closing twice is harmless; a connection made in
    another thread (check_same_thread) cannot be closed from here and is skipped.
    """
    opened: list = []
    original_init = Database.__init__
    original_connect = sqlite3.connect

    def tracking_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        opened.append(self)

    def tracking_connect(*args, **kwargs):
        connection = original_connect(*args, **kwargs)
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller == "tests" or caller.startswith("tests."):
            opened.append(connection)
        return connection

    Database.__init__ = tracking_init
    sqlite3.connect = tracking_connect
    try:
        yield opened
    finally:
        Database.__init__ = original_init
        sqlite3.connect = original_connect
        for database in reversed(opened):
            with contextlib.suppress(sqlite3.ProgrammingError):
                database.close()


@pytest.fixture(autouse=True)
def close_databases():
    """Close every database a test opened, when it ends (as sqlite-utils' own conftest does),
    so tests need no ``try``/``finally: db.close()`` of their own."""
    with closing_databases() as opened:
        yield opened


@pytest.fixture(scope="session")
def memory_template():
    """One in-memory database with every migration applied, copied by ``fresh_db`` (read-only)."""
    db = memory_db()
    yield db
    db.close()


@pytest.fixture
def fresh_db(memory_template):
    """An in-memory evidence database with every migration applied.

    A copy (SQLite's backup API) of a database migrated once per session:
    running every migration took 0.1 s a test.
    """
    db = connect(":memory:")
    memory_template.conn.backup(db.conn)
    return db


@pytest.fixture(scope="session")
def store_template(tmp_path_factory) -> Store:
    """One initialised, empty store per session (read-only: ``store`` copies it)."""
    store = Store(tmp_path_factory.mktemp("store-template") / "evidence")
    store.init()
    return store


@pytest.fixture
def store(store_template, tmp_path) -> Store:
    """An initialised, empty evidence store in a temporary folder.

    A copy of the session's ``store_template`` (its folder modes kept): running
    every migration on two new databases took 0.26 s a test.
    """
    home = tmp_path / "evidence"
    shutil.copytree(store_template.home, home)
    return Store(home)


@pytest.fixture(scope="session")
def datasette_review_template(store_template, tmp_path_factory):
    """The Datasette tests' small review (``tests/datasette_support.py``), built once per session (read-only)."""
    from .datasette_support import build_small_review

    home = tmp_path_factory.mktemp("datasette-review") / "evidence"
    shutil.copytree(store_template.home, home)
    template = Store(home)
    return template, build_small_review(template)


@pytest.fixture
def datasette_review(store, datasette_review_template):
    """``store`` holding the Datasette tests' small review: a copy of the session's build.

    Building it (accounts, two findings, a chronology) took about a second a
    test; copying the two database files takes a millisecond.
    """
    template, review = datasette_review_template
    shutil.copyfile(template.evidence_path, store.evidence_path)
    shutil.copyfile(template.private_path, store.private_path)
    return review


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """``demo_template(start)``: the demo review built once per session for each first fieldwork day
    (``None``: today is day 6), read-only. Building it took 3 to 5 s; modules copy it
    with :func:`copy_store` instead of building their own."""
    from inspect_kit.demo import create_demo

    built: dict = {}

    def template(start=None) -> Store:
        if start not in built:
            store = Store(tmp_path_factory.mktemp("demo-template") / "evidence")
            create_demo(store, start=start)
            built[start] = store
        return built[start]

    return template


def copy_store(template: Store, folder: Path) -> Store:
    """A private copy of ``template``'s store in ``folder``/evidence (modes kept)."""
    home = folder / "evidence"
    shutil.copytree(template.home, home)
    return Store(home)


@pytest.fixture
def app(store):
    """The Flask intake app on ``store``, in testing mode."""
    from inspect_kit.web import create_app

    return create_app({"TESTING": True, "INSPECT_KIT_HOME": str(store.home), "SECRET_KEY": TEST_SECRET})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def inspect_kit_command() -> list[str]:
    """The installed ``inspect-kit`` script next to this Python, else ``python -m inspect_kit``."""
    script = Path(sys.executable).parent / "inspect-kit"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "inspect_kit"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """A running ``inspect-kit serve``: its base URL (no trailing slash) and store."""

    url: str
    store: Store
    process: subprocess.Popen
    log_path: Path
    secret_key: str = TEST_SECRET

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def serving_demo(demo_template, tmp_path_factory, name: str) -> Iterator[LiveServer]:
    """The real server on a private copy of the demo review (for a module's shared server)."""
    folder = tmp_path_factory.mktemp(name)
    with serving(copy_store(demo_template(), folder), folder / "server.log") as server:
        yield server


@contextlib.contextmanager
def serving(store: Store, log_path: Path, serve_options: tuple[str, ...] = ()) -> Iterator[LiveServer]:
    """Run the real ``inspect-kit serve`` on ``store`` on a free port until the block ends.

    Waits for ``/healthz`` first; the server's output goes to ``log_path``;
    ``serve_options`` are added to the command line.
    """
    port = free_port()
    env = {**os.environ, "INSPECT_KIT_SECRET_KEY": TEST_SECRET}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*inspect_kit_command(), "serve", "--home", str(store.home), "--port", str(port), *serve_options],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    server = LiveServer(url=f"http://127.0.0.1:{port}", store=store, process=process, log_path=log_path)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def live_server(tmp_path) -> Iterator[LiveServer]:
    """The real server in a subprocess on a free port, with an initialised store.

    Add accounts or data through the library on ``live_server.store``: the
    store is live, the server sees writes at once.
    """
    store = Store(tmp_path / "live-store")
    store.init()
    with serving(store, tmp_path / "live-server.log") as server:
        yield server


def _wait_until_healthy(server: LiveServer) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"inspect-kit serve exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"inspect-kit serve did not answer /healthz within {SERVER_START_SECONDS} s:\n{server.log()}")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium; ``make test`` installs it when missing."""
    found = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if not found:
        pytest.fail("Chromium is not installed: run `make test` (it runs `apt-get install chromium`).")
    return Path(found)


@pytest.fixture
def browser_context(chromium_path, tmp_path):
    """A headless Chromium with a new, empty profile in ``tmp_path``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(chromium_path),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def browser_page(browser_context):
    """A page in ``browser_context``; navigate it to ``live_server.url``."""
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def run_bench(tmp_path):
    """Run ``bench/<script>`` in a fresh Python with the given (small) arguments, its work in
    ``tmp_path``; the finished process, output as text. The bench tests run each bench in
    miniature so that a script cannot rot; they judge its exit status and report themselves."""

    def run(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(ROOT / "bench" / script), *args, "--work-dir", str(tmp_path)],
                              capture_output=True, text=True, timeout=timeout, cwd=ROOT)

    return run
