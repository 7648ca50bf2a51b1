"""The Flask intake app: an application factory in the flaskr style.

Nothing is created at import time. ``create_app`` builds the app, reads its
configuration and registers the blueprints; each area of the app (health,
auth, findings, api, …) is a blueprint registered in :func:`register_blueprints`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.routing import IntegerConverter

from .. import paths, session_contract
from ..attachments import DEFAULT_MAX_BYTES
from ..secret import session_secret
from ..store import Store, default_home
from .db import STORE_EXTENSION

# The session contract with the Datasette plugin (cookie name, lifetime, CSRF
# field): one Flask-free module, see inspect_kit.session_contract.
SESSION_LIFETIME = session_contract.LIFETIME
SESSION_COOKIE_NAME = session_contract.COOKIE_NAME
GOVUK_CSS = Path("govuk-frontend") / "govuk-frontend.min.css"
VEGA_EMBED_JS = Path("vega") / "vega-embed.min.js"
# Room for the other fields of an upload form on top of the file itself.
FORM_OVERHEAD_BYTES = 256 * 1024

log = logging.getLogger(__name__)


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in our URLs is a SQLite row id: a number past SQLite's
    INTEGER range (``/alerts/99999999999999999999``) is a 404, not an
    OverflowError from the driver and a 500 page."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the intake app for one evidence store.

    Configuration: ``INSPECT_KIT_HOME`` (the store folder; default
    ``$INSPECT_KIT_HOME`` or ``./evidence``), ``SECRET_KEY`` (default: the
    store's shared session secret, see :mod:`inspect_kit.secret`),
    ``PERMANENT_SESSION_LIFETIME``, ``MAX_ATTACHMENT_BYTES`` (default 10 MB),
    ``SECURE_COOKIES`` (mark the session cookie Secure; implied by
    ``PREFERRED_URL_SCHEME = "https"``), ``PASSWORD_CHECK_CONCURRENCY``,
    ``PASSWORD_CHECK_WAIT`` and ``PASSWORD_CHECK_WAITING`` (password hashes at
    once, how long a sign-in waits for one and how many may wait; see
    :class:`inspect_kit.accounts.PasswordCheckSlots`).
    ``test_config`` overrides any of them.
    The store is not opened here: each request opens its own connection.
    """
    app = Flask(
        __name__,
        template_folder=str(paths.templates_dir()),
        static_folder=str(paths.static_dir()),
    )
    app.config.from_mapping(
        INSPECT_KIT_HOME=str(default_home()),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        SESSION_COOKIE_NAME=SESSION_COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SECURE_COOKIES=False,
        MAX_ATTACHMENT_BYTES=DEFAULT_MAX_BYTES,
        # A CSRF token lives as long as the login: an inspector may type for
        # more than Flask-WTF's default hour before saving, and
        # typed text is never lost.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_FIELD_NAME=session_contract.CSRF_FIELD,
        # Werkzeug refuses form fields over 500 kB with a bare 413; let long
        # pastes through to the domain's length checks, which name the field
        # and keep the text.
        MAX_FORM_MEMORY_SIZE=2 * 1024 * 1024,
    )
    if test_config:
        app.config.from_mapping(test_config)
    app.config["SESSION_COOKIE_SECURE"] = bool(
        app.config.get("SECURE_COOKIES") or app.config.get("PREFERRED_URL_SCHEME") == "https"
    )
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_ATTACHMENT_BYTES"] + FORM_OVERHEAD_BYTES
    app.url_map.converters["int"] = RowIdConverter
    store = Store(Path(app.config["INSPECT_KIT_HOME"]))
    app.extensions[STORE_EXTENSION] = store
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = session_secret(store)

    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(paths.templates_dir())),
        PrefixLoader({
            "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
            "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
        }),
    ])
    WTFormsHelpers(app)
    from . import encoding

    encoding.init_app(app)  # before CSRFProtect: an undecodable form is not a missing token
    CSRFProtect(app)
    app.config.setdefault("GOVUK_ASSETS_READY", (paths.static_dir() / GOVUK_CSS).is_file())
    if not app.config["GOVUK_ASSETS_READY"]:
        log.warning("govuk-frontend styles are missing from %s: run `make assets`; pages will be unstyled.",
                    paths.static_dir() / GOVUK_CSS)
    # Without the chart library every chart's table stays open in its place.
    app.config.setdefault("CHARTS_READY", (paths.static_dir() / VEGA_EMBED_JS).is_file())
    if not app.config["CHARTS_READY"]:
        log.warning("The chart library is missing from %s: run `make assets`; charts show as tables.",
                    paths.static_dir() / VEGA_EMBED_JS)

    from . import db, errors, health, security, templating

    db.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    register_blueprints(app)
    return app


def register_blueprints(app: Flask) -> None:
    """Register every area of the app. Add a new blueprint's module to the import and to the loop."""
    from . import (
        admin,
        alerts,
        api,
        attachments,
        auth,
        cases,
        coverage,
        dashboard,
        findings,
        health,
        imports,
        judgements,
        judgements_api,  # noqa: F401  (nests itself in api.bp, before api.bp is registered)
        offline,
        qa,
    )

    for area in (health, auth, dashboard, findings, attachments, qa, cases, coverage, alerts, api, imports, offline, judgements,
                 admin):
        app.register_blueprint(area.bp)
