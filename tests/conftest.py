"""Shared fixtures: databases, the Flask app, a real server and a real browser.

- ``fresh_db``: an in-memory evidence database with the full schema.
- ``store``: an initialised store in ``tmp_path``.
- ``app`` / ``client`` / ``runner``: the Flask app on that store (flaskr style).
- ``live_server``: the real ``inspect-kit serve`` in a subprocess on a free
  port, with its own store; waits for ``/healthz``.
- ``chromium_path`` / ``browser_context`` / ``browser_page``: Debian's
  ``/usr/bin/chromium`` driven by Playwright with a new empty profile.
  Playwright's own browser downloads do not work here: never run
  ``playwright install``; ``make test`` installs the Debian package.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from inspect_kit.store import Store, memory_db

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


@pytest.fixture
def fresh_db():
    """An in-memory evidence database with every migration applied."""
    db = memory_db()
    yield db
    db.close()


@pytest.fixture
def store(tmp_path) -> Store:
    """An initialised, empty evidence store in a temporary folder."""
    store = Store(tmp_path / "evidence")
    store.init()
    return store


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
