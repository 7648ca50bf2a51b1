"""The Flask intake app: an application factory in the flaskr style.

Nothing is created at import time. ``create_app`` builds the app, reads its
configuration and registers the blueprints; each area of the app (health,
auth, findings, api, …) is a blueprint registered in :func:`register_blueprints`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from .. import paths
from ..secret import session_secret
from ..store import Store, default_home

# One fieldwork day. The Datasette plugin reads the same value so that one
# login lasts as long on both sides of the one port.
SESSION_LIFETIME = timedelta(hours=12)
STORE_EXTENSION = "inspect_kit.store"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the intake app for one evidence store.

    Configuration: ``INSPECT_KIT_HOME`` (the store folder; default
    ``$INSPECT_KIT_HOME`` or ``./evidence``), ``SECRET_KEY`` (default: the
    store's shared session secret, see :mod:`inspect_kit.secret`) and
    ``PERMANENT_SESSION_LIFETIME``. ``test_config`` overrides any of them.
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
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if test_config:
        app.config.from_mapping(test_config)
    store = Store(Path(app.config["INSPECT_KIT_HOME"]))
    app.extensions[STORE_EXTENSION] = store
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = session_secret(store)

    from . import db

    db.init_app(app)
    register_blueprints(app)
    return app


def register_blueprints(app: Flask) -> None:
    """Register every area of the app. Add new blueprints here."""
    from . import api, health

    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
