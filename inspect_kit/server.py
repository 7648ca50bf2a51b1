"""The one-process ASGI app behind ``inspect-kit serve`` (DESIGN.md §2).

``/data/*`` goes to Datasette with the ``/data`` prefix stripped from both
``path`` and ``raw_path`` (Datasette puts it back on links through its
``base_url`` setting); everything else goes to the Flask intake app through
``a2wsgi.WSGIMiddleware``, which runs WSGI requests on a thread pool
(``asgiref.WsgiToAsgi`` ran every request on one thread: 4 concurrent 0.5 s
requests took 2.0 s). Lifespan events go to Datasette.
"""

from __future__ import annotations

from typing import Any

from a2wsgi import WSGIMiddleware
from datasette.app import Datasette
from flask import Flask

from .datasette_app import make_datasette
from .secret import session_secret
from .store import Store
from .web import create_app

PREFIX = "/data"
# Threads for Flask requests. SQLite writes serialise anyway, and every extra
# thread competes for the GIL and polls SQLite's busy handler, whose sleeps grow
# to 100 ms: with 16 threads, 16 API clients saw p99 ~1 s (p90 ~0.4 s, p50 ~40 ms);
# with 8, p99 0.22-0.29 s at the same throughput (bench/intake.py; 4-6 threads
# did better still, but a slow upload holds a thread for as long as it takes).
WSGI_WORKERS = 8


class InspectKitServer:
    """An ASGI callable that dispatches between Datasette and Flask.

    ``flask`` and ``datasette`` are the two apps, for tests and plugins.
    """

    def __init__(self, flask: Flask, datasette: Datasette):
        self.flask = flask
        self.datasette = datasette
        self._datasette_asgi = datasette.app()
        self._flask_asgi = WSGIMiddleware(flask, workers=WSGI_WORKERS)

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
            await self._datasette_asgi(stripped, receive, send)
            return
        await self._flask_asgi(scope, receive, send)


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
) -> InspectKitServer:
    """Build the whole server for ``store``: Flask and Datasette sharing one secret.

    :raises StoreError: when the store has not been initialised.
    """
    secret_key = secret_key or session_secret(store)
    # REUSE_DB_CONNECTIONS: each of the WSGI_WORKERS threads keeps its connections (see web/db.py).
    flask = create_app({"INSPECT_KIT_HOME": str(store.home), "SECRET_KEY": secret_key,
                        "REUSE_DB_CONNECTIONS": True, **(flask_config or {})})
    datasette = make_datasette(store, secret_key, metadata=datasette_metadata)
    return InspectKitServer(flask, datasette)
