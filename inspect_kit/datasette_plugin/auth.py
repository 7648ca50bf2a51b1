"""``actor_from_request``: the user logged in to the intake app, or nobody."""

from __future__ import annotations

from datasette import hookimpl

from .config import intake_session
from .session import actor_from_session, decode_session


@hookimpl
def actor_from_request(datasette, request):
    """``{"id", "role", "strand"}`` from the intake session cookie; None if absent, bad or expired."""
    intake = intake_session(datasette)
    if intake is None:
        return None
    return actor_from_session(decode_session(request.cookies.get(intake.cookie_name), intake))
