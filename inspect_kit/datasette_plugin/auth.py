"""``actor_from_request``: the user logged in to the intake app, or nobody."""

from __future__ import annotations

from datasette import hookimpl
from werkzeug.http import parse_cookie

from . import standing
from .config import intake_session
from .scope import review_of
from .session import actor_from_session, decode_session

# Where the request guard (extras.py) leaves the actor it found, so that Datasette's own
# call finds the review once per request (an ASGI scope key: no client can set it).
SCOPE_KEY = "inspect_kit.actor"


@hookimpl
def actor_from_request(datasette, request):
    """``{"id", "role", "strand"}`` from the intake session cookie, with the review chosen there
    (``review``, ``review_id``, ``sql_role``: :func:`.scope.review_of`); None if absent, bad or
    expired, or if the account was disabled, removed or given another role since."""
    if SCOPE_KEY in request.scope:  # already found for this request by the guard (extras.py)
        return request.scope[SCOPE_KEY]
    intake = intake_session(datasette)
    if intake is None:
        return None
    # The first cookie of the name, as the intake app (Werkzeug) reads it: Datasette's
    # request.cookies keeps the last, so a request carrying two session cookies would be
    # one account to the intake app and another to Datasette.
    session = decode_session(parse_cookie(request.headers.get("cookie", "")).get(intake.cookie_name), intake)
    actor = actor_from_session(session)
    if actor is None:
        return None
    account = None
    if intake.accounts_path is not None:
        account = standing.account(intake.accounts_path, actor["id"])
        if not standing.account_allows(intake.accounts_path, actor):
            return None

    async def with_review():
        return {**actor, **await review_of(datasette, actor, account, session)}

    return with_review()
