"""Reading the intake app's login cookie: the pure helpers, without HTTP."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import Flask, session
from itsdangerous import URLSafeTimedSerializer

from inspect_kit.datasette_plugin.session import (
    IntakeSession,
    actor_from_session,
    decode_session,
    login_session,
    logout_csrf_token,
    sign_session,
)
from inspect_kit.web import SESSION_COOKIE_NAME, SESSION_LIFETIME

SECRET = "session-test-secret"
INTAKE = IntakeSession(secret=SECRET, max_age=timedelta(hours=12))


def flask_cookie(actor: dict, secret: str = SECRET) -> str:
    """The cookie a real Flask app sets after ``session["actor"] = actor``."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret, SESSION_COOKIE_NAME=SESSION_COOKIE_NAME)

    @app.post("/login")
    def login():
        session["actor"] = actor
        return "ok"

    response = app.test_client().post("/login")
    header = response.headers["Set-Cookie"]
    assert header.startswith(SESSION_COOKIE_NAME + "=")
    return header.split(";", 1)[0].split("=", 1)[1]


def test_cookie_set_by_flask_is_read():
    cookie = flask_cookie({"id": "pol01", "role": "inspector", "strand": "police", "inspector": "POL-01"})
    assert actor_from_session(decode_session(cookie, INTAKE)) == {"id": "pol01", "role": "inspector",
                                                                  "strand": "police"}


def test_our_signed_cookie_is_what_flask_reads():
    """sign_session (used by tests and the benchmark) makes what Flask itself would accept."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, SESSION_COOKIE_NAME=SESSION_COOKIE_NAME)
    seen = {}

    @app.get("/")
    def index():
        seen.update(session)
        return "ok"

    client = app.test_client()
    client.set_cookie(SESSION_COOKIE_NAME, sign_session(login_session("lead", "lead"), SECRET))
    client.get("/")
    assert seen["actor"]["id"] == "lead"


def test_session_contract_with_the_intake_app():
    assert SESSION_COOKIE_NAME == "inspect_kit_session"
    assert SESSION_LIFETIME >= timedelta(hours=1)


@pytest.mark.parametrize(
    "actor, expected",
    [
        ({"id": "lead", "role": "lead", "strand": None}, {"id": "lead", "role": "lead", "strand": None}),
        ({"id": "lead", "role": "lead"}, {"id": "lead", "role": "lead", "strand": None}),
        ({"id": "m", "role": "moderator", "strand": None, "inspector": "MOD-01"},
         {"id": "m", "role": "moderator", "strand": None}),
        ({"id": "x", "role": "root"}, None),
        ({"id": "", "role": "lead"}, None),
        ({"id": 7, "role": "lead"}, None),
        ({"id": "i", "role": "inspector", "strand": None}, None),
        ({"id": "i", "role": "inspector", "strand": ["police"]}, None),
        ("lead", None),
        (None, None),
    ],
)
def test_actor_from_session(actor, expected):
    assert actor_from_session({"actor": actor}) == expected


def test_no_actor_in_a_session_without_login():
    assert actor_from_session({"csrf_token": "x"}) is None
    assert actor_from_session(None) is None


@pytest.mark.parametrize("cookie", [None, "", "garbage", "a.b.c", "é.ü.ß", "." * 5000])
def test_damaged_cookies_never_raise(cookie):
    assert decode_session(cookie, INTAKE) is None


def test_wrong_secret_is_rejected():
    cookie = sign_session(login_session("lead", "lead"), "another-secret")
    assert decode_session(cookie, INTAKE) is None


def test_tampered_cookie_is_rejected():
    cookie = sign_session(login_session("pol", "inspector", "police"), SECRET)
    payload, _, signature = cookie.rpartition(".")
    assert decode_session(payload + "." + signature[::-1], INTAKE) is None


def test_expired_cookie_is_rejected(monkeypatch):
    cookie = sign_session(login_session("lead", "lead"), SECRET)
    short = IntakeSession(secret=SECRET, max_age=timedelta(seconds=60))
    assert decode_session(cookie, short) is not None
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert decode_session(cookie, short) is None


def test_logout_token_is_a_flask_wtf_token():
    session_data = login_session("lead", "lead")
    token = logout_csrf_token(session_data, SECRET)
    raw = URLSafeTimedSerializer(SECRET, salt="wtf-csrf-token").loads(token, max_age=3600)
    assert raw == session_data["csrf_token"]
    assert logout_csrf_token({"actor": {}}, SECRET) is None
