"""``/healthz`` (JSON, for monitors and the test server) and ``/status`` (a page).

Both report the store's state from :func:`inspect_kit.maintenance.store_state`;
neither needs a login nor reveals where the store lives.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from .. import __version__
from ..maintenance import store_state
from .db import get_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 with the store's state when it is usable, 503 (same JSON) when it is not."""
    state = store_state(get_store())
    body = state.as_dict() | {"version": __version__}
    return jsonify(body), 200 if state.healthy else 503


@bp.get("/status")
def status():
    """The same state as a page a person can read."""
    state = store_state(get_store())
    return render_template("health/status.html", state=state, version=__version__), (
        200 if state.healthy else 503
    )
