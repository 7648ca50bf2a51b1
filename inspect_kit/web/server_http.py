"""uvicorn's h11 protocol with Nagle's algorithm off on every connection.

With ``--workers`` above 1, uvicorn binds the listening socket itself with
``socket.socket(family)``, whose protocol number is 0, and asyncio turns on
``TCP_NODELAY`` only for sockets whose protocol is ``IPPROTO_TCP``; with one
worker uvicorn lets asyncio bind, and it is on. Without it a response written
in two parts (headers, then body) waits for the client's delayed ACK: every
request on a keep-alive connection took 40-50 ms more (an empty Datasette page
3 ms with one worker, 50 ms with two; bench/datasette.py, bench/intake.py).
``serve`` passes this class to uvicorn (``http=``) in every worker.
"""

from __future__ import annotations

import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's ``H11Protocol``; each accepted TCP connection gets ``TCP_NODELAY``."""

    def connection_made(self, transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        super().connection_made(transport)
