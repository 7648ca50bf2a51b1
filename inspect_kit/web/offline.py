"""The offline intake app: the service worker, the web app
manifest, the outbox page and the small JSON the worker and the outbox read.

Everything here is progressive enhancement: with no JavaScript the forms post
as they always did. With it, ``static/outbox.js`` keeps a finding or event that
cannot be sent in the browser's IndexedDB (one database per account) and
sends it through the JSON API when the connection returns; ``static/sw.js``
caches the pages an inspector needs on site, for the signed-in account only.

Only inspectors and leads linked to an inspector of the review (the roles
that write their own evidence) get the worker: administrators record nothing
and moderators only read and QA, and the worker caches an allow-list of pages (the dashboard,
the two forms, the case list and the outbox), never the QA, admin,
cross-reading or Datasette pages.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, g, jsonify, render_template, request, session, url_for
from flask.globals import request_ctx
from flask_wtf.csrf import generate_csrf

from .. import policy, reviews, vocab
from .auth import login_required, review_required
from .db import get_db

bp = Blueprint("offline", __name__)

#: Sent by the worker when it fetches pages to keep in the background: such a
#: page must not show (and so use up) a message meant for the page the
#: inspector opens next ("EF-… has been submitted for QA").
PREFETCH_HEADER = "X-Inspect-Kit-Prefetch"
#: Set on a page that showed a one-time message: the worker does not keep it,
#: or the message would show again on every offline visit.
FLASHED_HEADER = "X-Inspect-Kit-Flashed"
#: The response header that names the account a page was rendered for. The
#: worker caches a page only when it names the worker's own account, so a page
#: rendered for the next person on the same browser never lands in the last
#: person's cache (and a sign-in page after a session ends is never cached).
ACCOUNT_HEADER = "X-Inspect-Kit-Account"


def offline_account() -> str | None:
    """The signed-in account's username when it may use the offline app, else None."""
    actor = g.get("actor")
    # The access policy decides who records their own evidence (inspectors and leads linked to an inspector).
    if not policy.may_record_findings(actor) or g.get("review") is None:
        return None
    return actor.username


def require_offline_account() -> str:
    """:raise 403: the account does not record evidence (administrators, moderators)."""
    account = offline_account()
    if account is None:
        review_required()
        abort(403, "The offline outbox is for inspectors and leads who record evidence; this account does not.")
    return account


@bp.get("/sw.js")
def service_worker():
    """The service worker, from the site's root so its scope covers every page.

    It holds no evidence: the account it serves is in its URL
    (``/sw.js?account=NAME``), so another account installs another worker
    with its own caches. ``no-cache`` makes the browser check for a new
    version on every registration.
    """
    # Read whole (a few KB): no open file handle left to the WSGI server.
    script = (Path(current_app.static_folder) / "sw.js").read_bytes()
    response = Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: installs the intake app with the dashboard as its start page."""
    response = jsonify({
        "name": "inspect_kit – joint inspection evidence",
        "short_name": "inspect_kit",
        "start_url": url_for("dashboard.index"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d70b8",
        "icons": [
            {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    })
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/offline/outbox")
@login_required
def outbox():
    """The records waiting on this device; the list itself is drawn by outbox.js from IndexedDB."""
    require_offline_account()
    return render_template("offline/outbox.html")


@bp.get("/offline/reference.json")
@login_required
def reference():
    """The review's lists the offline forms and the outbox need, and the pages the worker caches.

    Cases, agencies, criteria and event types, as the forms offer them; ``pages``
    is what the worker fetches to keep for this account: the dashboard, the two
    forms (the event form once, for the first case), the case list and the outbox.
    """
    account = require_offline_account()
    review = review_required()
    db = get_db()
    cases = reviews.cases(db, review["id"])
    response = jsonify({
        "account": account,
        "review": {"slug": review["slug"], "title": review["title"]},
        "cases": [{"id": case["id"], "case_ref": case["case_ref"]} for case in cases],
        "agencies": [{"id": agency["id"], "name": agency["name"]}
                     for agency in reviews.agencies(db, review["id"], current_only=True)],
        "criteria": [{"code": criterion["code"], "title": criterion["title"]}
                     for area in reviews.criteria_by_area(db, review["id"]) for criterion in area["criteria"]],
        "event_types": [{"code": code, "label": label} for code, label in vocab.EVENT_TYPES.items()],
        # One event form serves every case offline (the worker keeps one copy; outbox.js
        # writes the case's reference into it): one per case was 184 pages, 3.3 MB and
        # about 5 s of server time for the demo's 180 cases on every refresh.
        "pages": [url_for("dashboard.index"), url_for("findings.new"), url_for("cases.index"), url_for("offline.outbox")]
                 + [url_for("cases.new_event", case_ref=case["case_ref"]) for case in cases[:1]],
    })
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/offline/session")
def session_state():
    """Who is signed in and a fresh CSRF token, for the outbox before it sends.

    The outbox sends an account's records only while that account is signed
    in (a 401 here, or another name, and it waits); a page kept in the cache
    may carry the token of an earlier session, so it asks for this one.
    """
    if g.get("actor") is None:
        response = jsonify({"status": 401, "message": "Not signed in.", "errors": {}})
        response.status_code = 401
    else:
        response = jsonify({"account": g.actor.username, "offline": offline_account() is not None,
                            "csrf_token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.before_app_request
def keep_messages_from_prefetches() -> None:
    if request.headers.get(PREFETCH_HEADER) and "_flashes" in session:
        g.kept_flashes = session.pop("_flashes")


@bp.after_app_request
def name_the_account(response):
    if response.mimetype in ("text/html", "application/json") and g.get("actor") is not None:
        response.headers[ACCOUNT_HEADER] = quote(g.actor.username, safe="")
    if g.get("kept_flashes"):
        session["_flashes"] = g.kept_flashes
    elif getattr(request_ctx, "flashes", None):
        response.headers[FLASHED_HEADER] = "1"
    if request.path.startswith("/offline/") and response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "private, no-cache")
    return response


@bp.app_context_processor
def offline_context() -> dict:
    return {"offline_account": offline_account()}
