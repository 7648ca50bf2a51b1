"""Sign in and out, who is asking, and the decorators that guard views.

The session holds ``session["actor"] = {"id", "role", "strand", "inspector"}``:
a contract with the Datasette plugin, which reads the same signed cookie
(docs/architecture.md §2, "One login"). Each request re-reads the account, so a disabled
account is signed out at once.

Sign-in never sleeps in a worker: a guess over the throttle's limits
(:mod:`inspect_kit.login_throttle`) is refused with 429 and ``Retry-After``
before any password hash, and the hashes that do run share a few slots per
process (:class:`inspect_kit.accounts.PasswordCheckSlots`), so a burst of
wrong passwords cannot hold every thread that serves signed-in pages.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for

from .. import accounts, login_throttle, policy, reviews, roster
from ..errors import NotFound, StoreError
from .db import get_db, get_private_db
from .forms import LoginForm

bp = Blueprint("auth", __name__)

PASSWORD_CHECK_SLOTS = "inspect_kit.password_check_slots"


@bp.record_once
def _password_check_slots(state) -> None:
    # One set of slots per app, i.e. per worker process (each runs one app on
    # WSGI_WORKERS threads), by design: the slots keep one process's threads
    # free for signed-in pages, so `serve --workers N` hashes at most
    # N x PASSWORD_CHECK_CONCURRENCY passwords at once, one process's share per core.
    config = state.app.config
    state.app.extensions[PASSWORD_CHECK_SLOTS] = accounts.PasswordCheckSlots(
        config.get("PASSWORD_CHECK_CONCURRENCY", accounts.PASSWORD_CHECK_CONCURRENCY),
        config.get("PASSWORD_CHECK_WAIT", accounts.PASSWORD_CHECK_WAIT),
        config.get("PASSWORD_CHECK_WAITING", accounts.PASSWORD_CHECK_WAITING))


@bp.before_app_request
def load_actor() -> None:
    """Set ``g.actor`` (an :class:`~inspect_kit.actors.Actor` or None) and ``g.review``."""
    g.actor = None
    g.review = None
    # Unknown URLs (no endpoint) still load the actor, so their 404 page keeps the navigation.
    if request.endpoint == "static" or (request.endpoint or "").startswith("health."):
        return
    try:
        db = get_db()
        try:
            g.review = reviews.current_review(db)
        except NotFound:
            g.review = None
        signed_in = session.get("actor")
        if not signed_in:
            return
        try:
            account = accounts.get_account(get_private_db(), signed_in.get("id", ""))
        except NotFound:
            session.clear()
            return
    except StoreError:
        # No store yet: pages render their own "not ready" message.
        return
    if not policy.session_still_valid(account, signed_in.get("role"), signed_in.get("strand")):
        session.clear()
        return
    # The review chosen with the switcher (/reviews), or the latest this account
    # may open: every page, query and export then keeps to it.
    g.review = roster.chosen_review(db, account, session.get("review"))
    g.actor = accounts.actor_for(account, db, g.review["id"] if g.review else None)


def _here() -> str | None:
    """Where to come back to after signing in (GET pages only: a POST cannot be replayed)."""
    if request.method != "GET":
        return None
    return request.full_path.rstrip("?")


def login_required(view):
    """Send anonymous visitors to the sign-in page, then back here."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.get("actor") is None:
            return redirect(url_for("auth.login", next=_here()))
        return view(**kwargs)

    return wrapped


def permission_required(permission: str, message: str | None = None):
    """Allow only signed-in actors holding ``permission`` of :mod:`inspect_kit.policy`
    (anonymous visitors go to sign in; others get the 403 page with ``message``)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(**kwargs):
            if g.get("actor") is None:
                return redirect(url_for("auth.login", next=_here()))
            if not policy.may(g.actor, permission):
                abort(403, message)
            return view(**kwargs)

        return wrapped

    return decorator


def review_required() -> dict:
    """The current review, or the 404 page saying how to create one."""
    if g.get("review") is None:
        abort(404, "This evidence store has no review yet. An administrator can create one with "
                   "`inspect-kit review create` (or `inspect-kit demo` for the fictional demo).")
    return g.review


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never redirect to another host after sign-in.

    Browsers read a backslash as a slash and drop tabs and newlines, so a
    ``next`` of slash-backslash-host, or slash-tab-slash-host, would mean
    ``//host``. Werkzeug percent-encodes the backslash in ``Location`` today;
    this does not rely on it.
    """
    if not target:
        return None
    if "\\" in target or any(ch.isspace() or not ch.isprintable() for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target.rstrip("?") or None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    error = None
    headers = {}
    if form.validate_on_submit():
        try:
            account = accounts.authenticate(get_private_db(), form.username.data, form.password.data,
                                            address=request.remote_addr,
                                            slots=current_app.extensions[PASSWORD_CHECK_SLOTS])
        except (login_throttle.TooManyAttempts, accounts.PasswordCheckBusy) as refused:
            error, status = refused.message, refused.status
            headers["Retry-After"] = str(refused.retry_after)
        except accounts.LoginFailed as failed:
            error, status = failed.message, 401
        else:
            session.clear()
            session.permanent = True
            session["actor"] = {
                "id": account["username"],
                "role": account["role"],
                "strand": account["strand"] or None,
                "inspector": account["inspector_code"] or None,
            }
            return redirect(_safe_next(request.args.get("next")) or url_for("dashboard.index"))
    elif form.is_submitted():
        status = 422
    if error:
        # On the username field, where the error summary's link lands (GOV.UK:
        # the link and the message belong to the same field).
        form.username.errors = [error]
    if status != 200 and _wants_json():
        errors = {name: field.errors[0] for name, field in form._fields.items() if field.errors}
        response = jsonify({"status": status, "message": error or "Check the fields named in errors.",
                            "errors": errors})
        return response, status, headers
    return render_template("auth/login.html", form=form), status, headers


def _wants_json() -> bool:
    """A client that asks for JSON over HTML (``Accept: application/json``) gets the API's error shape."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


@bp.post("/logout")
def logout():
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.login"))
