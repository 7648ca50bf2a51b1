"""Every failure becomes a page in the service's layout, never a traceback.

Domain exceptions (:mod:`inspect_kit.errors`, each with ``.status`` and
``.message``) and HTTP errors (``abort(403)``, a 413 from an oversized upload,
a CSRF failure) are rendered here, in one place. Requests under ``/api/`` get
the same information as JSON.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..attachments import human_size
from ..disk import storage_fault
from ..errors import InspectKitError, StorageFault, ValidationError
from ..lifecycle import EvidenceClosed

log = logging.getLogger(__name__)

TITLES = {
    400: "There is a problem with the request",
    401: "Sign in to continue",
    403: "You cannot see this page",
    404: "Page not found",
    405: "That action is not available here",
    409: "The record has changed",
    413: "What you sent is too large",
    422: "There is a problem",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
    503: "The service is not ready",
    507: "The evidence store's disk is full",
}

DEFAULT_MESSAGES = {
    400: "The request could not be understood. Go back, reload the page and try again.",
    403: "Your account does not give you access to this page. Ask your lead inspector if you think it should.",
    404: "If you typed the web address, check it is correct. If you followed a link, the record may not exist "
         "in this review.",
    405: "Go back and use the buttons on the page.",
    409: "Someone changed this record after you opened it. Go back, reload it and try again.",
    429: "Wait a few minutes and try again.",
    500: "Nothing you typed has been saved twice. Try again later; if it keeps happening, tell the review's "
         "administrator.",
}


# Free-text fields worth handing back when a form cannot be accepted at all.
RESCUED_FIELDS = ("evidence_text", "evaluation_text", "description", "concern", "comment", "reason", "response",
                  "note")
RESCUE_LIMIT = 20_000


def typed_text() -> dict[str, str]:
    """The free text of a refused form post, to hand back on the error page
    (a refusal never costs anyone their typed notes). Empty for
    anything but a page's form post, and when the body cannot be read."""
    if request.method != "POST" or is_api_request():
        return {}
    try:
        form = request.form
    except Exception:  # an unreadable or oversized body: nothing to hand back
        return {}
    return {name: form[name][:RESCUE_LIMIT] for name in RESCUED_FIELDS if form.get(name, "").strip()}


# A JSON caller has no page or buttons: its own words for the statuses that
# Werkzeug raises before any API view runs (routing, body size).
API_MESSAGES = {
    404: lambda headers: f"There is no API endpoint {request.path}; the OpenAPI document at /api/openapi.json "
                         "lists them.",
    405: lambda headers: f"{request.path} does not take {request.method}; it takes {headers.get('Allow', 'no method')}.",
}


def is_api_request() -> bool:
    """Whether the request is the JSON API's (``/api`` and everything under it)."""
    return request.path == "/api" or request.path.startswith("/api/")


def api_error(status: int, message: str, field_errors: dict[str, str] | None = None,
              headers: dict[str, str] | None = None):
    """The JSON API's one error shape, ``{"status", "message", "errors"}``, for every status
    (the OpenAPI document's ``Error``), with ``headers`` (``Allow``, ``WWW-Authenticate``)."""
    response = jsonify({"status": status, "message": message, "errors": field_errors or {}})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def render_error(status: int, message: str | None = None, *, field_errors: dict[str, str] | None = None,
                 rescued: dict[str, str] | None = None, headers: dict[str, str] | None = None):
    """The error page (or JSON under ``/api/``) for ``status``."""
    if is_api_request():
        default = API_MESSAGES.get(status, lambda headers: TITLES.get(status, "The request failed") + ".")
        return api_error(status, message or default(headers or {}), field_errors, headers)
    message = message or DEFAULT_MESSAGES.get(status) or TITLES.get(status, "Something went wrong.")
    title = TITLES.get(status, "There is a problem")
    return render_template("errors/error.html", status=status, title=title, message=message,
                           rescued=rescued or {}), status, headers or {}


def handle_domain_error(error: InspectKitError):
    # A 403, 404 or 409 on a form post (the record was withdrawn, or another
    # lead acted first, while this person typed) still hands back their text.
    return render_error(error.status, error.message, field_errors=error.field_errors, rescued=typed_text())


def handle_csrf_error(error: CSRFError):
    # Nothing is stored, but typed notes are handed back (escaped, as text) so a
    # session that ended while someone was typing never costs them their text.
    return render_error(400, "The form could not be checked (its security token was missing, wrong or from an "
                             "old session). Nothing was saved. Go back, reload the page and submit it again.",
                        rescued=typed_text())


def handle_too_large(error: HTTPException):
    limit = human_size(current_app.config.get("MAX_ATTACHMENT_BYTES") or request.max_content_length or 0)
    return render_error(413, f"Nothing was saved: the request was too large. Attach files smaller than {limit} "
                             "(split a long PDF, or save a photo at a lower resolution), and keep each text box "
                             "to the length its form allows.")


def handle_http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    # abort(403, "message") carries our own words; Werkzeug's stock descriptions are replaced.
    custom = error.description if error.description != type(error).description else None
    # A 405 names the methods that work (RFC 9110 §15.5.6), a 401 how to authenticate.
    headers = {k: v for k, v in error.get_headers() if k.lower() in ("allow", "www-authenticate")}
    return render_error(error.code, custom, rescued=typed_text(), headers=headers)


def handle_unexpected(error: InternalServerError):
    original = getattr(error, "original_exception", None)
    if isinstance(original, InspectKitError):
        return handle_domain_error(original)
    log.exception("Unhandled error on %s %s", request.method, request.path, exc_info=original or error)
    return render_error(500, rescued=typed_text())


# ----------------------------------------------------------------- disk faults
# A full or failing disk: 507 (full) or 503 (I/O error) with what
# happened and what to do, the typed text kept, and the fault noted for
# /healthz. Kept apart from the handlers above, which shape other errors.

KEPT_IN_FORM = (" What you typed is kept in the form below: save it again once the disk has been put right (it will be "
                "stored once).")
KEPT_TEXT = " Your text is kept below: copy it somewhere safe if you need to leave this page."
API_RETRY = (" Send the same request again (with the same client_uuid) once the disk has been put right: it will "
             "be stored once.")


def storage_fault_response(fault: StorageFault):
    """The answer to a disk fault: JSON ``{"status","message","errors"}`` under
    ``/api/``, else the error page with the typed text handed back. Notes the
    fault for ``/healthz``."""
    note_storage_fault(fault)
    if request.path.startswith("/api/"):
        response = jsonify({"status": fault.status, "message": fault.message + API_RETRY, "errors": {}})
        response.status_code = fault.status
        response.headers["Retry-After"] = "60"
        return response
    rescued = typed_text()
    return render_error(fault.status, fault.message + (KEPT_TEXT if rescued else ""), rescued=rescued,
                        headers={"Retry-After": "60"})


def note_storage_fault(fault: StorageFault) -> None:
    """Note a disk fault a view answered itself (a form re-rendered with the typed text)."""
    from .health import write_health

    write_health().fault(fault, request.path)
    log.error("Disk fault (%s) on %s %s: %s", fault.kind, request.method, request.path, fault.__cause__ or fault)


Saved = TypeVar("Saved")


def save_form(form: Any, write: Callable[[], Saved], *, field: str) -> tuple[Saved | None, int]:
    """Run a form's write and say how it went: ``(result, 200)``, or ``(None, status)``
    with the refusal shown on ``form`` and what was typed kept in it: the library's
    field errors (422; a message without fields goes next to ``field``), or a disk
    fault (507/503; the form's client uuid is unchanged, so saving again stores it once).
    Other errors (a conflict, a refusal) propagate to the caller or the error pages."""
    try:
        return write(), 200
    except ValidationError as error:
        form.show_errors(error.field_errors or {field: error.message})
        return None, 422
    except StorageFault as fault:
        note_storage_fault(fault)
        form.form_errors.append(fault.message + KEPT_IN_FORM)
        return None, fault.status
    except EvidenceClosed as closed:  # the review has moved past fieldwork: say so, keep the text
        form.form_errors.append(closed.message + KEPT_IN_FORM)
        return None, closed.status


def register_storage_handlers(scaffold, fallback: Callable) -> None:
    """Answer disk faults on ``scaffold`` (the app, or a blueprint with its own
    catch-all handler, which Flask would otherwise prefer): a
    :class:`StorageFault`, or an ``sqlite3.Error`` / ``OSError`` that is one.
    Any other ``sqlite3.Error`` / ``OSError`` goes to ``fallback``."""

    def handle(error: Exception):
        fault = storage_fault(error)
        if fault is None:
            return fallback(error)
        return storage_fault_response(fault)

    for kind in (StorageFault, sqlite3.Error, OSError):
        scaffold.register_error_handler(kind, handle)


def reraise(error: Exception):
    """Not a disk fault: leave it to Flask's unhandled-error path (logged, a
    500 page with the typed text, the request's connections discarded)."""
    raise error


def init_app(app: Flask) -> None:
    """Register the handlers."""
    register_storage_handlers(app, reraise)
    app.register_error_handler(InspectKitError, handle_domain_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(413, handle_too_large)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected)
