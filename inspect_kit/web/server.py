"""The ASGI app behind ``inspect-kit serve``, one per worker process.

``inspect-kit serve --workers N`` runs N processes under uvicorn's own
supervisor, each building this app through :func:`app_factory` from the
settings the command puts in :data:`SERVE_CONFIG_ENV`. Nothing a user relies
on lives in one process: sessions are signed cookies, sign-in throttling and
lock-outs are rows in ``private.db``, the last failed write is a record in the
store folder (``web/health.py``), and Datasette's catalogue is rebuilt when
the database says it changed (``datasette_plugin/metadata.py``). What stays
per process is bounded per process: :data:`WSGI_WORKERS` threads and the
password-check slots (``web/auth.py``).

``/data/*`` goes to Datasette with the ``/data`` prefix stripped from both
``path`` and ``raw_path`` (Datasette puts it back on links through its
``base_url`` setting); everything else goes to the Flask intake app through
``a2wsgi.WSGIMiddleware``, which runs WSGI requests on a thread pool
(``asgiref.WsgiToAsgi`` ran every request on one thread: 4 concurrent 0.5 s
requests took 2.0 s). Lifespan events go to Datasette.

Two rules keep one request from affecting another:

- **A Flask request's body is read here, in the event loop, before a worker
  thread is taken.** A client that sends its body slowly then holds a socket,
  not one of the :data:`WSGI_WORKERS` threads (8 clients trickling uploads at
  2 kB/s used to hold all 8 and every page timed out). The body is refused
  with 413 as soon as its declared length, or the bytes read, pass the limit
  (``MAX_CONTENT_LENGTH``; the API's 256 KiB under ``/api/``), and with 408
  when it arrives too slowly (:class:`BodyLimits`). Flask gets the buffered
  body; a refusal reaches Flask with an empty body so the answer is its usual
  error page or API error.

- **Every Flask request runs in a new, empty ``contextvars.Context``.** Flask
  keeps ``g`` and the app context in context variables. a2wsgi used to read
  the body from the worker thread by calling uvicorn's ``receive()`` through
  ``run_coroutine_threadsafe``, so ``receive()`` ran in a copy of the worker's
  context with the Flask request pushed. For a body over uvicorn's 64 KiB
  flow-control mark, ``receive()`` resumes reading the socket, and asyncio's
  reader callback keeps the context current at that moment (CPython issue
  140947, uvicorn issue 2167): every later request on that keep-alive
  connection was started inside the earlier request's context, and Flask,
  finding an app context already there, reused it, ``g.api_actor`` and the
  other thread's database connections included. Reading the body here means
  the worker never calls ``receive()``; the empty context means Flask could not
  inherit one even if something else leaked it; and ``serve`` also turns on
  uvicorn's ``reset_contextvars`` so Datasette's requests start clean too.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..attachments import human_size
from .openapi import MAX_BODY_BYTES

if TYPE_CHECKING:  # Flask, Datasette and a2wsgi are imported when a server is built, not by the CLI
    from datasette.app import Datasette
    from flask import Flask

    from ..store import Store

PREFIX = "/data"
# How ``inspect-kit serve`` tells each worker process what to serve: a JSON
# object (home, secure_cookies, body_timeout, body_min_rate) in the
# environment, which uvicorn's spawned workers inherit.
SERVE_CONFIG_ENV = "INSPECT_KIT_SERVE_CONFIG"
API_PREFIX = "/api/"
# Threads for Flask requests. SQLite writes serialise anyway, and every extra
# thread competes for the GIL and polls SQLite's busy handler, whose sleeps grow
# to 100 ms: with 16 threads, 16 API clients saw p99 ~1 s (p90 ~0.4 s, p50 ~40 ms);
# with 8, p99 0.22-0.29 s at the same throughput (bench/intake.py). Slow uploads
# no longer hold a thread (their bodies are read in the event loop).
WSGI_WORKERS = 8
# A buffered body stays in memory up to this size, then moves to a temporary file:
# 10 MB attachments from many clients at once would otherwise all sit in memory.
SPOOL_BYTES = 1024 * 1024
# After a refusal, keep reading (and dropping) what the client still sends, for
# at most LINGER_SECONDS and while it keeps sending (LINGER_IDLE_SECONDS), before
# closing: closing a socket with unread data sends a TCP reset, and a browser
# that is still uploading may then show "connection reset" instead of the
# answer. nginx's lingering_time and lingering_timeout are 30 s and 5 s.
LINGER_SECONDS = 30.0
LINGER_IDLE_SECONDS = 5.0
# Keys through which the event loop hands the buffered body (or a refusal) to
# the worker thread: the ASGI scope is the WSGI environ's "asgi.scope".
BODY_SCOPE_KEY = "inspect_kit.body"
# The CSP nonce of the Datasette response being made. Datasette's templates read
# it through the ik_csp_nonce() Jinja global (templates/datasette/_ik_csp.html):
# its error pages are rendered without the request, so the scope cannot carry it.
_datasette_csp_nonce: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "inspect_kit_datasette_csp_nonce", default=None)
REFUSAL_ENVIRON_KEY = "inspect_kit.body_refusal"


@dataclass(frozen=True)
class BodyLimits:
    """How long a request body may take to arrive (Apache mod_reqtimeout's rule).

    The body has ``timeout`` seconds, extended by one second for every
    ``min_rate`` bytes received, and no gap between bytes may last longer than
    ``idle_factor`` × ``timeout``. The defaults are mod_reqtimeout's (20 s,
    500 bytes/s): a tablet on a poor connection sending a 10 MB photo at 50 kB/s
    is never cut off; a client trickling 100 bytes a second is answered 408
    after about 25 s. A slow body costs a socket and its buffer, never a worker
    thread, so the limit is about tidying up, not about protecting the app.
    """

    timeout: float = 20.0
    min_rate: float = 500.0
    idle_factor: float = 3.0

    @property
    def idle(self) -> float:
        return self.timeout * self.idle_factor


class BodyRefused(Exception):
    """A request body that will not be read to the end: ``status`` is 408 or 413."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class InspectKitServer:
    """An ASGI callable that dispatches between Datasette and Flask.

    ``flask`` and ``datasette`` are the two apps, for tests and plugins;
    ``body_limits`` bounds how slowly a Flask request's body may arrive.
    """

    def __init__(self, flask: Flask, datasette: Datasette, *, body_limits: BodyLimits | None = None):
        from a2wsgi import WSGIMiddleware

        self.flask = flask
        self.datasette = datasette
        self.body_limits = body_limits or BodyLimits()
        self._datasette_asgi = datasette.app()
        # send_queue_size=0: an unbounded queue between the worker and the event
        # loop, so a client that reads its answer slowly (a 10 MB attachment on a
        # poor connection) does not keep the worker blocked on a full queue (with
        # a2wsgi's 10 messages, 12 slow readers of a 4 MB file starved every page,
        # tests/test_server_bodies.py). The cost is memory: up to one whole answer
        # per slow reader, at most an attachment's 10 MB.
        self._flask_asgi = WSGIMiddleware(FreshContextWSGI(flask), workers=WSGI_WORKERS, send_queue_size=0)
        first_hooks = flask.before_request_funcs.setdefault(None, [])
        if _refuse_unread_body not in first_hooks:  # first, before CSRFProtect reads the (empty) form
            first_hooks.insert(0, _refuse_unread_body)

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._datasette_asgi(scope, receive, send)
            return
        path = scope.get("path", "")
        if scope["type"] == "http" and path == PREFIX:
            await _redirect(send, PREFIX + "/")
            return
        if path.startswith(PREFIX + "/"):
            raw_path = scope.get("raw_path") or path.encode()
            stripped = dict(scope)
            stripped["path"] = path[len(PREFIX) :]
            stripped["raw_path"] = raw_path[len(PREFIX) :] if raw_path.startswith(PREFIX.encode()) else raw_path
            from .security import new_nonce  # here, not at the top: the CLI imports this module, not Flask

            nonce = new_nonce()
            token = _datasette_csp_nonce.set(nonce)
            try:
                await self._datasette_asgi(stripped, receive, _with_security_headers(send, nonce))
            finally:
                _datasette_csp_nonce.reset(token)
            return
        if scope["type"] != "http":
            await self._flask_asgi(scope, receive, send)
            return
        await self._to_flask(scope, receive, send)

    def body_limit(self, path: str) -> int:
        """The largest body, in bytes, that a request to ``path`` may send."""
        if path.startswith(API_PREFIX):
            return MAX_BODY_BYTES
        return int(self.flask.config["MAX_CONTENT_LENGTH"])

    async def _to_flask(self, scope: dict[str, Any], receive, send) -> None:
        body: IO[bytes] | None = None
        inner = dict(scope)
        try:
            try:
                body, size = await read_body(scope, receive, self.body_limit(scope.get("path", "")),
                                             self.body_limits)
            except BodyRefused as refusal:
                inner[REFUSAL_ENVIRON_KEY] = (refusal.status, refusal.message)
                inner[BODY_SCOPE_KEY] = (io.BytesIO(), 0)
                send = _closing_send(send, receive)
            else:
                inner[BODY_SCOPE_KEY] = (body, size)
            await self._flask_asgi(inner, _body_already_read, send)
        except ClientGone:
            return
        finally:
            if body is not None:
                body.close()


class ClientGone(Exception):
    """The client disconnected before its request body arrived: nothing to answer."""


async def read_body(scope: dict[str, Any], receive, limit: int, limits: BodyLimits) -> tuple[IO[bytes], int]:
    """Read the whole request body from ``receive`` (in the event loop).

    Returns the body (a file positioned at its start) and its size.

    :raises BodyRefused: 413 when the declared length or the bytes read pass
        ``limit`` (a declared length is refused before anything is read); 408
        when the body arrives more slowly than ``limits`` allow.
    :raises ClientGone: the client disconnected first.
    """
    headers = dict(scope.get("headers") or [])
    declared = headers.get(b"content-length")
    if declared is None and b"transfer-encoding" not in headers:
        return io.BytesIO(), 0  # no body (RFC 9112 §6.3): nothing to wait for
    try:
        declared_size = None if declared is None else int(declared)
    except ValueError:
        raise BodyRefused(400, "The Content-Length header is not a number.") from None
    if declared_size is not None and declared_size > limit:
        raise BodyRefused(413, f"The request body is too large: this address accepts at most {human_size(limit)}.")
    loop = asyncio.get_running_loop()
    started = loop.time()
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    size = 0
    try:
        while True:
            deadline = started + limits.timeout + size / limits.min_rate
            wait = min(deadline - loop.time(), limits.idle)
            try:
                if wait <= 0:
                    raise TimeoutError
                async with asyncio.timeout(wait):
                    message = await receive()
            except TimeoutError:
                raise BodyRefused(408, "The request body arrived too slowly and was not read to the end. "
                                       "Nothing was saved: try again when the connection is better.") from None
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyRefused(413, "The request body is too large: this address accepts at most "
                                       f"{human_size(limit)}.")
            body.write(chunk)
            if not message.get("more_body", False):
                break
    except BaseException:
        body.close()
        raise
    body.seek(0)
    return body, size


async def _body_already_read() -> dict[str, Any]:
    # a2wsgi's own body reader is never used (FreshContextWSGI replaces
    # wsgi.input), so nothing in a worker thread calls uvicorn's receive().
    return {"type": "http.request", "body": b"", "more_body": False}


class FreshContextWSGI:
    """The Flask app as a WSGI callable that runs each request in a new, empty
    ``contextvars.Context``, with the body read by :func:`read_body`.

    Whatever context the calling thread or task carries (a2wsgi runs each call
    in a copy of the request task's), Flask starts with no app context, so it
    pushes a new one with an empty ``g`` for every request.
    """

    def __init__(self, app: Flask):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response):
        scope = environ.get("asgi.scope") or {}
        buffered = scope.get(BODY_SCOPE_KEY)
        if buffered is not None:
            body, size = buffered
            environ["wsgi.input"] = body
            environ["CONTENT_LENGTH"] = str(size)
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        if REFUSAL_ENVIRON_KEY in scope:
            environ[REFUSAL_ENVIRON_KEY] = scope[REFUSAL_ENVIRON_KEY]
        return contextvars.Context().run(self.app, environ, start_response)


def _refuse_unread_body() -> None:
    """Flask's first before-request hook: answer a refused body with its status,
    through the app's own error pages (and the API's JSON errors)."""
    from flask import abort, request

    refusal = request.environ.get(REFUSAL_ENVIRON_KEY)
    if refusal is not None:
        status, message = refusal
        abort(status, description=message)


def _closing_send(send, receive):
    """``send`` for a refusal: ``Connection: close`` (the rest of the body is
    never read), and a lingering read before the last message (see LINGER_SECONDS)."""

    async def closing_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
            message = {**message, "headers": [*headers, (b"connection", b"close")]}
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            await _drain(receive)
        await send(message)

    return closing_send


async def _drain(receive) -> None:
    loop = asyncio.get_running_loop()
    until = loop.time() + LINGER_SECONDS
    try:
        while (left := until - loop.time()) > 0:
            async with asyncio.timeout(min(left, LINGER_IDLE_SECONDS)):
                message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return
    except TimeoutError:
        return


def _with_security_headers(send, nonce: str):
    """``send`` for Datasette: the intake app's security headers on every
    response (web/security.py), the CSP on HTML with this request's nonce.

    They replace Datasette's own values: its ``Referrer-Policy: no-referrer``
    would strip the Referer from the header's sign-out form, which Flask-WTF
    requires on an https post to the intake app's ``/logout``.
    """
    from .security import security_headers

    async def send_with_headers(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
            ours = {name.lower().encode(): value.encode() for name, value in
                    security_headers(content_type.decode("latin-1"), nonce, inline_styles=True).items()}
            headers = [(name, value) for name, value in headers if name.lower() not in ours]
            message = {**message, "headers": [*headers, *ours.items()]}
        await send(message)

    return send_with_headers


async def _redirect(send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 302,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def build_app(
    store: Store,
    *,
    secret_key: str | None = None,
    flask_config: dict[str, Any] | None = None,
    datasette_metadata: dict[str, Any] | None = None,
    body_limits: BodyLimits | None = None,
) -> InspectKitServer:
    """Build the whole server for ``store``: Flask and Datasette sharing one secret.

    :raises StoreError: when the store has not been initialised.
    """
    from ..datasette_plugin.app import make_datasette
    from ..secret import session_secret
    from . import create_app

    secret_key = secret_key or session_secret(store)
    # REUSE_DB_CONNECTIONS: each of the WSGI_WORKERS threads keeps its connections (see web/db.py).
    flask = create_app({"INSPECT_KIT_HOME": str(store.home), "SECRET_KEY": secret_key,
                        "REUSE_DB_CONNECTIONS": True, **(flask_config or {})})
    datasette = make_datasette(store, secret_key, metadata=datasette_metadata)
    datasette.jinja_env.globals["ik_csp_nonce"] = _datasette_csp_nonce.get
    return InspectKitServer(flask, datasette, body_limits=body_limits)


def serve_config(home: str, *, secure_cookies: bool, body_limits: BodyLimits) -> str:
    """The value of :data:`SERVE_CONFIG_ENV` that :func:`app_factory` reads."""
    return json.dumps({"home": home, "secure_cookies": secure_cookies, "body_timeout": body_limits.timeout,
                       "body_min_rate": body_limits.min_rate, "supervisor_pid": os.getpid()})


def app_factory() -> InspectKitServer:
    """Build one worker's app from :data:`SERVE_CONFIG_ENV` (uvicorn calls this
    in every worker process: ``inspect_kit.web.server:app_factory``, ``factory=True``).

    :raises RuntimeError: when the variable is missing (not started by ``serve``).
    :raises StoreError: when the store has not been initialised.
    """
    from ..store import Store

    raw = os.environ.get(SERVE_CONFIG_ENV)
    if not raw:
        raise RuntimeError(f"${SERVE_CONFIG_ENV} is not set: start the server with `inspect-kit serve`.")
    config = json.loads(raw)
    _die_with_supervisor(config.get("supervisor_pid"))
    return build_app(Store(Path(config["home"])),
                     flask_config={"SECURE_COOKIES": True} if config["secure_cookies"] else None,
                     body_limits=BodyLimits(timeout=config["body_timeout"], min_rate=config["body_min_rate"]))


def _die_with_supervisor(supervisor_pid: int | None) -> None:
    """In a worker process, ask Linux to kill it when the supervisor dies.

    uvicorn's workers outlive a supervisor killed with SIGKILL (or by the OOM
    killer): they would keep the port and go on serving with nobody to restart
    or stop them, and a new ``serve`` could not bind. SIGKILL, not SIGTERM, so
    the whole server stops as one, as it did with one process; SQLite keeps
    every acknowledged write (synchronous=FULL). Nothing to do when the worker
    is the serving process itself (``--workers 1``) or off Linux.
    """
    import ctypes
    import signal
    import sys

    if not supervisor_pid or os.getpid() == supervisor_pid or not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != supervisor_pid:  # it died before the request above took effect
        os.kill(os.getpid(), signal.SIGKILL)
