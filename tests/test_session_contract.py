"""The session contract: the Flask app and the Datasette reader take their
cookie name, lifetime, CSRF field and salt from one Flask-free module."""

from __future__ import annotations

import subprocess
import sys

from flask import session
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import URLSafeTimedSerializer

from inspect_kit import session_contract
from inspect_kit.datasette_plugin.app import make_datasette
from inspect_kit.datasette_plugin.config import intake_session
from inspect_kit.datasette_plugin.session import login_session, logout_csrf_token
from inspect_kit.web import openapi

from .conftest import TEST_SECRET


def test_flask_app_and_datasette_reader_use_the_contract(app, store):
    assert app.config["SESSION_COOKIE_NAME"] == session_contract.COOKIE_NAME == "inspect_kit_session"
    assert app.config["PERMANENT_SESSION_LIFETIME"] == session_contract.LIFETIME
    assert app.config["WTF_CSRF_FIELD_NAME"] == session_contract.CSRF_FIELD == "csrf_token"
    intake = intake_session(make_datasette(store, TEST_SECRET))
    assert intake is not None
    assert (intake.cookie_name, intake.max_age) == (app.config["SESSION_COOKIE_NAME"],
                                                     app.config["PERMANENT_SESSION_LIFETIME"])
    assert openapi.SESSION_COOKIE == session_contract.COOKIE_NAME


def test_flask_wtf_tokens_and_the_datasette_logout_token_agree(app):
    """Flask-WTF hard-codes its salt: a token it makes reads with the contract's
    salt, and the token Datasette's logout button carries passes Flask-WTF."""
    with app.test_request_context("/"):
        token = generate_csrf()
        raw = session[session_contract.CSRF_FIELD]
        assert URLSafeTimedSerializer(TEST_SECRET, salt=session_contract.CSRF_SALT).loads(token) == raw
        ours = logout_csrf_token(dict(session), TEST_SECRET)
        assert ours is not None
        validate_csrf(ours)  # raises ValidationError when the salt or field drifts
    with app.test_request_context("/"):
        session.update(login_session("lead", "lead"))
        validate_csrf(logout_csrf_token(dict(session), TEST_SECRET))


def test_datasette_reader_does_not_import_the_flask_app():
    """The reader used to import ``inspect_kit.web`` (and every blueprint) for two constants."""
    code = ("import sys; from inspect_kit.datasette_plugin import session; session.intake_defaults(); "
            "print('inspect_kit.web' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
