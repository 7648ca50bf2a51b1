"""The login session contract shared by the intake app and the Datasette plugin.

One login serves both halves of the one port (docs/architecture.md): the Flask
intake app writes a signed session cookie, and the Datasette plugin
(``inspect_kit.datasette_plugin.session``) reads that same cookie to know the
actor, and signs the session's CSRF token so that Datasette's pages can offer
a logout button that the intake app's ``POST /logout`` accepts. The OpenAPI
document (``inspect_kit.web.openapi``) names the cookie for API clients.

Readers: ``inspect_kit.web.create_app`` (Flask config), the Datasette plugin's
session reader and config, and the OpenAPI security schemes. Keeping the
values here, in a module that imports neither Flask nor Datasette, means the
Datasette side no longer imports the Flask package for two constants and the
three sides cannot drift apart.
"""

from __future__ import annotations

from datetime import timedelta

# The session cookie's name (Flask's ``SESSION_COOKIE_NAME``).
COOKIE_NAME = "inspect_kit_session"
# One fieldwork day: a login lasts as long on both sides of the one port
# (Flask's ``PERMANENT_SESSION_LIFETIME``; the Datasette reader's max age).
LIFETIME = timedelta(hours=12)
# The session key and form field of Flask-WTF's CSRF token
# (``WTF_CSRF_FIELD_NAME``; Flask-WTF's default, set explicitly by the app).
CSRF_FIELD = "csrf_token"
# The salt Flask-WTF signs its CSRF token with. Flask-WTF hard-codes it in
# ``flask_wtf.csrf.generate_csrf``/``validate_csrf`` (it is not configurable),
# so this is a copy of a library constant; tests/test_session_contract.py
# signs a token with Flask-WTF and checks that this salt reads it.
CSRF_SALT = "wtf-csrf-token"
