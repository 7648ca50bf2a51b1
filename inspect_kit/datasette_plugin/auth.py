"""``actor_from_request``: the user logged in to the intake app, or nobody."""

from __future__ import annotations

from datasette import hookimpl

from .config import intake_session
from .session import actor_from_session, decode_session
from .standing import account_allows


@hookimpl
def actor_from_request(datasette, request):
    """``{"id", "role", "strand"}`` from the intake session cookie; None if absent, bad or
    expired, or if the account was disabled, removed or given another role since."""
    intake = intake_session(datasette)
    if intake is None:
        return None
    actor = actor_from_session(decode_session(request.cookies.get(intake.cookie_name), intake))
    if actor is not None and intake.accounts_path is not None and not account_allows(intake.accounts_path, actor):
        return None
    return actor
