"""Reading (and, for tests and benchmarks, writing) the intake app's login cookie.

The intake app (Flask) signs its session cookie with the store's secret using
Flask's default ``SecureCookieSessionInterface``; after login the session
holds ``actor = {"id", "role", "strand", "inspector"}``. We build the very
same serializer through Flask's own class, so the two sides cannot drift
(salt, key derivation, digest and JSON tags all come from Flask).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadData, URLSafeTimedSerializer

from .. import policy, session_contract

# The session contract (cookie name, lifetime, CSRF field and Flask-WTF's
# salt) lives in one Flask-free module that the intake app reads too.
DEFAULT_COOKIE_NAME = session_contract.COOKIE_NAME
ROLES = policy.ROLES
WTF_CSRF_SALT = session_contract.CSRF_SALT
WTF_CSRF_FIELD = session_contract.CSRF_FIELD


@dataclass(frozen=True)
class IntakeSession:
    """How to read the intake app's login: the shared secret, max age, cookie name and accounts."""

    secret: str
    max_age: timedelta
    cookie_name: str = DEFAULT_COOKIE_NAME
    # The store's private.db: when set, the account behind a cookie must still
    # exist, be enabled and have the same role (as the intake app checks).
    accounts_path: Path | None = None


def intake_defaults() -> tuple[str, timedelta]:
    """The intake app's session cookie name and lifetime (:mod:`inspect_kit.session_contract`)."""
    return session_contract.COOKIE_NAME, session_contract.LIFETIME


def serializer(secret: str) -> URLSafeTimedSerializer:
    """Flask's own session serializer for ``secret`` (what ``app.session_interface`` uses)."""
    stub_app = SimpleNamespace(secret_key=secret, config={"SECRET_KEY_FALLBACKS": None})
    return SecureCookieSessionInterface().get_signing_serializer(stub_app)  # type: ignore[arg-type]


def decode_session(cookie: str | None, intake: IntakeSession) -> dict[str, Any] | None:
    """The session in a cookie value, or None when missing, forged, damaged or expired. Never raises."""
    if not cookie:
        return None
    try:
        session = serializer(intake.secret).loads(cookie, max_age=int(intake.max_age.total_seconds()))
    except (BadData, ValueError, TypeError, UnicodeError):
        return None
    return session if isinstance(session, dict) else None


def actor_from_session(session: dict[str, Any] | None) -> dict[str, Any] | None:
    """The Datasette actor ``{"id", "role", "strand"}`` of a logged-in session, else None.

    ``strand`` is always present (None for leads, moderators and admins):
    Datasette's ``:_actor_strand`` falls back to a URL parameter of that name
    when the actor lacks the key, which would let anyone choose a strand.
    """
    if not session:
        return None
    actor = session.get("actor")
    if not isinstance(actor, dict):
        return None
    username, role, strand = actor.get("id"), actor.get("role"), actor.get("strand")
    if not isinstance(username, str) or not username or role not in ROLES:
        return None
    if strand is not None and not isinstance(strand, str):
        return None
    if role == "inspector" and not strand:
        return None
    return {"id": username, "role": role, "strand": strand}


def logout_csrf_token(session: dict[str, Any] | None, secret: str) -> str | None:
    """A CSRF token the intake app's ``POST /logout`` accepts, or None.

    Flask-WTF keeps a raw token in the session and puts it, signed, in forms;
    signing the session's raw token the same way gives Datasette's pages a
    working logout button without a round trip to Flask.
    """
    raw = (session or {}).get(WTF_CSRF_FIELD)
    if not isinstance(raw, str):
        return None
    return URLSafeTimedSerializer(secret, salt=WTF_CSRF_SALT).dumps(raw)


def sign_session(session: dict[str, Any], secret: str) -> str:
    """A cookie value for ``session`` exactly as Flask would set it (tests, benchmarks)."""
    return serializer(secret).dumps(session)


def login_session(username: str, role: str, strand: str | None = None, inspector: str | None = None) -> dict[str, Any]:
    """The session the intake app holds after a login (with a Flask-WTF CSRF token)."""
    return {
        "actor": {"id": username, "role": role, "strand": strand, "inspector": inspector},
        WTF_CSRF_FIELD: hashlib.sha1(os.urandom(64)).hexdigest(),
    }
