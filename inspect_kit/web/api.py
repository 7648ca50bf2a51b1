"""The JSON API under ``/api``: findings, QA actions and chronology events.

A thin shell like the forms: every view parses JSON, calls the domain library
(the same validation and the same ``client_uuid`` idempotency) and turns its
exceptions into JSON with the library's status (:mod:`inspect_kit.errors`).
Callers authenticate with ``Authorization: Bearer TOKEN`` or the intake
session; a session needs the CSRF token in ``X-CSRFToken`` for changes, which
this blueprint checks itself because it is exempt from ``CSRFProtect`` (token
callers have no CSRF token to send). The OpenAPI document describing all of
this is :mod:`inspect_kit.web.openapi`.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, session, url_for
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import HTTPException
from wtforms import ValidationError as CsrfRefused

from .. import (
    accounts,
    chronology,
    fields,
    finding_queries,
    findings,
    judgements,
    policy,
    qa,
    references,
    reviews,
    roster,
    validation,
    vocab,
)
from ..actors import Actor
from ..errors import Forbidden, InspectKitError, NotFound, ValidationError
from .db import get_db, get_private_db
from .errors import api_error, register_storage_handlers
from .openapi import MAX_BODY_BYTES, MAX_PAGE_SIZE, PAGE_SIZE, ReviewLists, openapi_document

bp = Blueprint("api", __name__, url_prefix="/api")

REALM = 'Bearer realm="inspect_kit"'
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# A record's fields as the registry lists them, each reference with its name beside its id.
FINDING_OUT = (
    "public_id", "client_uuid", "review_id", "strand", "inspector",
    *(name for spec in fields.FINDING for name in (spec.name, *((spec.typed_column,) if spec.column else ()))),
    "criteria", "qa_status", "version", "created_at", "updated_at", "submitted_at",
)
SUMMARY_OUT = (
    "public_id", "qa_status", "finding_type", "activity", "collected_on", "version", "updated_at",
    "evidence_text", "strand", "inspector", "agency", "case_ref",
)
EVENT_OUT = (
    "id", "client_uuid", "case_id", "case_ref", "agency_id", "agency", "agency_type", *chronology.FIELDS[2:],
    "created_at",
)
FLAGS = tuple(spec.name for spec in fields.CHRONOLOGY_EVENT if spec.kind == fields.FLAG)
CHRONOLOGY_READERS = ("Case chronologies are for inspectors, leads and moderators; administrators run the system "
                      "and see no case content.")


class ApiError(InspectKitError):
    """A refusal at the HTTP level (bad JSON, no credentials, bad CSRF token) with its status."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None,
                 field_errors: dict[str, str] | None = None):
        super().__init__(message, field_errors=field_errors)
        self.status = status
        self.headers = headers or {}


# ----------------------------------------------------------------- plumbing


def exempt_from_csrf_protect(blueprint: Blueprint) -> None:
    """Leave ``blueprint``'s requests to our own CSRF check (:func:`current_actor`).

    CSRFProtect reads forms; API callers send JSON and (with a token) no CSRF
    token, so the API checks X-CSRFToken itself for sessions. If CSRFProtect
    is set up after the blueprints, the first request exempts it.
    """

    def exempt(app) -> None:
        csrf = app.extensions.get("csrf")
        if csrf is not None:
            csrf.exempt(blueprint)

    blueprint.record_once(lambda state: exempt(state.app))
    blueprint.before_app_request(lambda: exempt(current_app))


exempt_from_csrf_protect(bp)


@bp.before_request
def _limit_body() -> None:
    # Per request, so the attachment upload limit elsewhere in the app is untouched.
    request.max_content_length = MAX_BODY_BYTES


def _error(status: int, message: str, errors: dict[str, str] | None = None, headers: dict[str, str] | None = None):
    return api_error(status, message, errors, headers)


@bp.errorhandler(InspectKitError)
def _domain_error(error: InspectKitError):
    return _error(error.status, error.message, error.field_errors, getattr(error, "headers", None))


def _http_error(error: HTTPException):
    headers = {k: v for k, v in error.get_headers() if k.lower() in ("allow", "www-authenticate")}
    message = error.description or error.name
    if error.code == 413:
        message = f"The request body is too large: the API reads at most {MAX_BODY_BYTES // 1024} KiB."
    return _error(error.code or 500, message, headers=headers)


# By code as well as by class: Flask looks for a handler by status code
# before it looks by class, so the app's page-rendering handlers for 400, 413 …
# would otherwise answer inside /api with HTML or another JSON shape.
bp.register_error_handler(HTTPException, _http_error)
for _code in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500):
    bp.register_error_handler(_code, _http_error)


@bp.errorhandler(Exception)
def _server_error(error: Exception):
    # Never a traceback to the caller; the log keeps it. Writes run in one
    # transaction (store.write_transaction), so a failure leaves nothing half-written.
    current_app.logger.exception("API request failed: %s %s", request.method, request.path)
    return _error(500, "The server could not complete this request; it has been logged. Nothing was half-saved: "
                       "retry with the same client_uuid.")


# A full or failing disk is a 507/503 saying so (web/errors.py), not the catch-all's 500.
register_storage_handlers(bp, _server_error)


def review_id() -> int:
    """The review the request acts on: ``?review=SLUG`` or the latest. :raise 404:"""
    if "api_review_id" not in g:
        slug = request.args.get("review") or None
        # web/auth.py's before-request hook has usually looked up the latest review already.
        latest = g.get("review")
        g.api_review_id = latest["id"] if latest and not slug else reviews.current_review(get_db(), slug)["id"]
    return g.api_review_id


def current_actor() -> Actor:
    """The caller, from a bearer token or the intake session.

    :raise 401: no credentials, or a bad token (with ``WWW-Authenticate``).
    :raise 400: a session request that changes state without a valid ``X-CSRFToken``.
    """
    if "api_actor" in g:
        return g.api_actor
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Send the API token as `Authorization: Bearer TOKEN` "
                                "(`inspect-kit user token USERNAME` prints one).",
                           headers={"WWW-Authenticate": f'{REALM}, error="invalid_request"'})
        account = accounts.account_for_token(get_private_db(), token.strip())
        if account is None:
            raise ApiError(401, "This API token is not valid: it may be mistyped, or its account disabled. "
                                "Ask the administrator for a new one.",
                           headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
        if "api_review_id" not in g:
            # As for a signed-in page: the latest review this account may open (web/auth.py).
            g.review = roster.chosen_review(get_db(), account)
    else:
        actor = session.get("actor")
        if not isinstance(actor, dict) or not actor.get("id"):
            raise ApiError(401, "Log in first, or send an API token as `Authorization: Bearer TOKEN`.",
                           headers={"WWW-Authenticate": REALM})
        if request.method in STATE_CHANGING:
            try:
                validate_csrf(request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token"))
            except CsrfRefused as error:
                raise ApiError(400, f"{error.args[0]} Send the page's CSRF token in the X-CSRFToken header.",
                               field_errors={"X-CSRFToken": str(error.args[0])}) from None
        try:
            account = accounts.get_account(get_private_db(), str(actor["id"]))
        except NotFound:
            account = None
        # Like the pages (web/auth.py): a disabled account or a changed role ends the session.
        if not policy.session_still_valid(account, actor.get("role"), actor.get("strand")):
            raise ApiError(401, "Your session has ended: log in again.", headers={"WWW-Authenticate": REALM})
    actor = accounts.actor_for(account, get_db(), review_id())
    if request.args.get("review"):
        latest = g.get("review") or reviews.current_review(get_db())
        if not policy.may_open_review(actor, current=latest["id"] == review_id()):
            raise NotFound(f"No review {request.args['review']!r}.")
    g.api_actor = actor
    return g.api_actor


def require_reader(actor: Actor) -> None:
    """Inspectors, leads and moderators read evidence; administrators do not. :raise 403:"""
    if policy.finding_strands(actor) is False:
        raise Forbidden("Administrators manage accounts and the review; reading evidence needs an inspector, "
                        "lead or moderator account.")


def require(actor: Actor, permission: str, message: str) -> None:
    """:raise 403: ``actor`` lacks ``permission`` of :mod:`inspect_kit.policy`."""
    if not policy.may(actor, permission):
        raise Forbidden(message)


class OutOfRange:
    """A JSON integer literal too long for any field (over 19 digits): every
    field refuses it with a field error (it is neither an int nor text),
    where Python's own parse raises past 4,300 digits (a 500) and SQLite past 2**63."""

    def __init__(self, literal: str):
        self.digits = len(literal)

    def __repr__(self) -> str:
        return f"<a {self.digits}-digit number>"


def _parse_int(literal: str) -> int | OutOfRange:
    return int(literal) if len(literal.lstrip("-")) <= 19 else OutOfRange(literal)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_body() -> dict[str, Any]:
    """The request's JSON object. :raise 400: not JSON, or not an object. :raise 413: too large.
    :raise 415: a body declared as something other than JSON."""
    mimetype = request.mimetype
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(415, f"Send the body as application/json, not {mimetype}.")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, "The request has no body: send a JSON object.")
    try:
        body = json.loads(raw, parse_int=_parse_int, parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise ApiError(400, "The request body is not UTF-8 text: send a JSON object.") from None
    except json.JSONDecodeError as error:
        raise ApiError(400, f"The request body is not valid JSON ({error.msg} at line {error.lineno}, "
                            f"column {error.colno}).") from None
    except ValueError as error:  # NaN, Infinity
        raise ApiError(400, f"The request body is not valid JSON ({error}).") from None
    except RecursionError:
        raise ApiError(400, "The request body is nested too deeply to be a record.") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"Send a JSON object ({{...}}), not a {type(body).__name__}.")
    return body


def query_int(name: str, default: int, low: int, high: int = validation.MAX_INT) -> int:
    """Query parameter ``name`` as a whole number from ``low`` to ``high`` (ASCII digits only).

    :raise 400: anything else, with a field error naming the parameter.
    """
    value = request.args.get(name)
    if value is None:
        return default
    number = validation.whole_number(value, low=low, high=high)
    if number is None:
        limit = f"from {low} to {high}"
        raise ApiError(400, f"{name} must be a whole number {limit}.", field_errors={name: f"Use a whole number {limit}"})
    return number


def query_flag(name: str) -> bool:
    """Query parameter ``name`` as a boolean (``true`` or ``false``; absent is false). :raise 400:"""
    value = request.args.get(name)
    if value in (None, "false"):
        return False
    if value == "true":
        return True
    raise ApiError(400, f"{name} must be true or false.", field_errors={name: "Use true or false"})


def strict_types(body: dict[str, Any], integers: tuple[str, ...] = (), booleans: tuple[str, ...] = (),
                 strings: tuple[str, ...] = ()) -> dict[str, str]:
    """Field errors for JSON values of the wrong type: a JSON client sends ids as
    numbers and flags as true/false (a form's "17" and "yes" are for forms), so
    ``17.9``, ``"17"`` and ``true`` are refused rather than read as 17 or 1.
    Null is left to the library (empty)."""
    errors: dict[str, str] = {}
    for name in integers:
        value = body.get(name)
        if value is not None and validation.whole_number(value, low=1, strings=False) is None:
            errors[name] = f"Send {name} as a whole number from 1 to {validation.MAX_INT}"
    for name in booleans:
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            errors[name] = "Use true or false"
    for name in strings:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = "Send text (a JSON string)"
    return errors


def event_id_types(body: dict[str, Any]) -> dict[str, str]:
    """A field error unless ``event_ids`` is absent, null or a list of JSON integers: as for
    ``case_id``, a JSON client sends ids as numbers (``"12"`` and ``12.5`` are refused)."""
    value = body.get("event_ids")
    if value is None:
        return {}
    if not isinstance(value, list) or any(
            validation.whole_number(item, low=1, strings=False) is None for item in value):
        return {"event_ids": "Send event_ids as a list of chronology event ids (whole numbers), e.g. [12, 15]"}
    return {}


def resolve_refs(body: dict[str, Any], fields: dict[str, Any]) -> dict[str, str]:
    """Turn ``case_ref`` / ``agency`` (name) into ids in ``fields``; returns field errors."""
    errors: dict[str, str] = {}
    for ref, id_field, label in (("case_ref", "case_id", "case"), ("agency", "agency_id", "agency")):
        value = body.get(ref)
        if value in (None, ""):
            continue
        if body.get(id_field) not in (None, ""):
            errors[ref] = f"Give the {label} by {id_field} or by {ref}, not both"
        elif not isinstance(value, str):
            errors[ref] = f"The {label} must be text"
        elif validation.text_fault(value, label=label, multiline=False):
            # A lone surrogate cannot even be looked up in SQLite; no name has a control character.
            errors[ref] = validation.text_fault(value, label=label, multiline=False)
        else:
            # The one rule for a typed reference (case and spaces folded, this review only),
            # as the capture workbook's importer and the command line read them.
            found = references.References(get_db(), review_id()).find(
                "cases" if ref == "case_ref" else "agencies", value)
            if found is not None:
                fields[id_field] = found[0]
            elif ref == "case_ref":
                errors[ref] = f"There is no case {value} in this review"
            else:
                errors[ref] = f"There is no agency called {value!r} in this review"
    return errors


def refuse(ref_errors: dict[str, str], check) -> None:
    """Raise one 422 naming the reference errors and every fault ``check()`` finds."""
    errors = dict(ref_errors)
    try:
        check()
    except ValidationError as error:
        errors = {**error.field_errors, **errors}
    raise ValidationError("There is a problem: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
                          field_errors=errors)


def require_uuid(body: dict[str, Any]) -> str:
    """The body's ``client_uuid``, canonical. :raise 422: missing or not a canonical uuid."""
    value = body.get("client_uuid")
    if value in (None, ""):
        raise ValidationError("Send a client_uuid: a uuid made once for this request and sent again on retries.",
                              field_errors={"client_uuid": "Send a uuid, for example from uuid4()"})
    return validation.submission_uuid(value)


def review_finding(public_id: str, actor: Actor) -> dict[str, Any]:
    """A finding of the request's review that ``actor`` may read. :raise 403, 404:

    The review is checked first: another review's finding is a 404 for
    everyone, never a 403 that tells its strand.
    """
    finding = findings.get_finding(get_db(), public_id)
    if finding["review_id"] != review_id():
        raise NotFound(f"No finding {public_id} in this review.")
    require_reader(actor)
    return findings.get_finding(get_db(), finding["id"], actor)


def finding_json(finding: dict[str, Any], actor: Actor | None = None) -> dict[str, Any]:
    out = {name: finding.get(name) for name in FINDING_OUT}
    out["url"] = url_for("api.read_finding", public_id=finding["public_id"])
    out["events"] = [
        {"id": event["id"], "url": url_for("api.read_event", event_id=event["id"]), "case_ref": event["case_ref"],
         "event_date": event["event_date"], "agency": event["agency"], "event_type": event["event_type"],
         "description": event["description"]}
        for event in finding_queries.cited_events(get_db(), finding["id"])]
    if actor is not None:
        out["qa_actions"] = [
            {k: action[k] for k in ("action", "from_status", "to_status", "actor", "at", "comment")}
            for action in qa.history(get_db(), finding["id"])
        ]
        out["allowed_actions"] = qa.allowed_actions(actor, finding)
    return out


def event_json(event: dict[str, Any]) -> dict[str, Any]:
    out = {name: event.get(name) for name in EVENT_OUT}
    for flag in FLAGS:
        out[flag] = bool(out[flag])
    out["recorded_by"] = event.get("recorded_by_code")
    out["url"] = url_for("api.read_event", event_id=event["id"])
    if "gap_days" in event:
        out["gap_days"] = event["gap_days"]
    return out


def created(result: findings.RecordResult, body: dict[str, Any], location: str):
    """201 with ``Location`` for a new record, 200 for a replay of a stored one."""
    response = jsonify(body)
    response.status_code = 201 if result.created else 200
    if result.created:
        response.headers["Location"] = location
    return response


# ----------------------------------------------------------------- endpoints


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document (no login needed: it holds no evidence).

    For a caller who may read the review (token or session), the document
    names the review's case and agency ids, case references, agency names
    and criterion codes as the only values accepted, so a client generated
    from it (or a fuzzer) sends only what the server takes; anonymous
    callers and administrators get plain integers and strings. :raise 404:
    """
    lists = None
    try:
        actor = current_actor()
        require_reader(actor)
    except InspectKitError:
        review_id()  # an unknown ?review= is still a 404
    else:
        db, review = get_db(), review_id()
        cases, agencies = reviews.cases(db, review), reviews.agencies(db, review)
        lists = ReviewLists(
            slug=request.args.get("review") or "",
            case_ids=[case["id"] for case in cases], case_refs=[case["case_ref"] for case in cases],
            agency_ids=[agency["id"] for agency in agencies], agency_names=[agency["name"] for agency in agencies],
            criteria=[code for (code,) in db.execute("SELECT code FROM criteria WHERE review_id = ? ORDER BY id",
                                                     [review])],
            grades=list(judgements.scale(db, review)))
    return jsonify(openapi_document(lists=lists))


@bp.get("/")
def index():
    return jsonify({"openapi": url_for("api.openapi"), "findings": url_for("api.list_findings")})


@bp.post("/findings")
def record_finding():
    """Record a finding. :raise 401, 403, 400, 409, 413, 422:"""
    actor = current_actor()
    body = json_body()
    uuid = require_uuid(body)
    fields = {name: body[name] for name in findings.FIELDS if name in body}
    submit = body.get("submit", False)
    ref_errors = {**strict_types(body, integers=("case_id", "agency_id"), booleans=("submit",),
                                 strings=("case_ref", "agency")),
                  **event_id_types(body), **resolve_refs(body, fields)}
    if not isinstance(body.get("criteria"), (dict, list, type(None))):
        ref_errors["criteria"] = "Send criteria as an object of code → relevance, or a list of codes"
    if ref_errors:
        refuse(ref_errors, lambda: findings.normalise(get_db(), review_id(), fields, require_criteria=submit is True))
    result = findings.record_finding(get_db(), actor, fields, client_uuid=uuid, submit=submit,
                                     review_id=review_id())
    body = finding_json(result.record)
    return created(result, body, body["url"])


@bp.put("/findings/<public_id>")
def edit_finding(public_id: str):
    """Replace a finding's content, as its author, on the version the caller read. :raise 401, 403, 404, 409, 422:

    The body is the whole record as for ``POST /findings`` (a field left out is
    emptied), with ``expected_version`` (required) and, once the finding has
    been submitted, a ``reason``. The same body sent again is a replay: 200
    with the finding, changed once.
    """
    actor = current_actor()
    body = json_body()
    finding = review_finding(public_id, actor)
    fields = {name: body[name] for name in findings.FIELDS if name in body}
    submit = body.get("submit", False)
    ref_errors = {**strict_types(body, integers=("case_id", "agency_id", "expected_version"), booleans=("submit",),
                                 strings=("case_ref", "agency", "reason")),
                  **event_id_types(body), **resolve_refs(body, fields)}
    if body.get("expected_version") is None:
        ref_errors["expected_version"] = "Send the finding's version you read (its `version`)"
    if not isinstance(body.get("criteria"), (dict, list, type(None))):
        ref_errors["criteria"] = "Send criteria as an object of code → relevance, or a list of codes"
    if ref_errors:
        refuse(ref_errors, lambda: findings.normalise(get_db(), review_id(), fields, require_criteria=submit is True))
    updated = findings.edit_finding(get_db(), actor, finding["id"], fields, reason=body.get("reason"),
                                    expected_version=body["expected_version"], submit=submit is True)
    return jsonify(finding_json(updated, actor))


@bp.get("/findings")
def list_findings():
    """A page of the findings the caller may see. :raise 401, 403, 400:"""
    actor = current_actor()
    require_reader(actor)
    limit = query_int("limit", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    # Up to the largest integer SQLite takes (2**63 and over were a 500).
    offset = query_int("offset", 0, 0)
    qa_status = request.args.get("qa_status")
    if qa_status is not None and qa_status not in vocab.QA_STATUSES:
        raise ApiError(400, f"qa_status must be one of {', '.join(vocab.QA_STATUSES)}.",
                       field_errors={"qa_status": "Unknown status"})
    mine = query_flag("mine")
    rows = findings.list_findings(get_db(), actor, review_id(), qa_status=qa_status, mine=mine,
                                  limit=limit + 1, offset=offset)
    page = [{**{k: row[k] for k in SUMMARY_OUT}, "url": url_for("api.read_finding", public_id=row["public_id"])}
            for row in rows[:limit]]
    following = None
    if len(rows) > limit and offset + limit <= validation.MAX_INT:
        args = {**request.args.to_dict(), "limit": limit, "offset": offset + limit}
        following = url_for("api.list_findings", **args)
    return jsonify({"findings": page, "limit": limit, "offset": offset, "next": following})


@bp.get("/findings/<public_id>")
def read_finding(public_id: str):
    """One finding with its QA history. :raise 401, 403, 404:"""
    actor = current_actor()
    return jsonify(finding_json(review_finding(public_id, actor), actor))


@bp.post("/findings/<public_id>/qa")
def qa_finding(public_id: str):
    """Submit, accept, return or withdraw, on the version the caller read. :raise 401, 403, 404, 409, 422:

    ``expected_version`` is required: an action on a finding changed since
    is a 409 naming the version now stored. ``client_uuid`` is required: a
    retry with the same one answers 200 with the finding and acts once.
    """
    actor = current_actor()
    body = json_body()
    finding = review_finding(public_id, actor)
    errors = strict_types(body, integers=("expected_version",), strings=("action",))
    action = body.get("action")
    if "action" not in errors and action not in qa.TRANSITIONS:
        errors["action"] = "Choose submit, accept, return or withdraw"
    if body.get("expected_version") is None:
        errors["expected_version"] = "Send the finding's version you read (its `version`)"
    if body.get("client_uuid") in (None, ""):
        errors["client_uuid"] = "Send a uuid made for this action, for example from uuid4(); the same on retries"
    if errors:
        raise ValidationError("There is a problem: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
                              field_errors=errors)
    qa.perform(get_db(), actor, finding["id"], action, body.get("comment"),
               expected_version=body["expected_version"], client_uuid=require_uuid(body))
    return jsonify(finding_json(findings.get_finding(get_db(), finding["id"]), actor))


@bp.post("/chronology")
def record_event():
    """Record a chronology event. :raise 401, 403, 400, 409, 413, 422:"""
    actor = current_actor()
    body = json_body()
    if not policy.may_write_chronology(actor):
        raise Forbidden("Chronology events are recorded by inspectors and leads linked to an inspector of the "
                        "review; this account is not one.")
    uuid = require_uuid(body)
    fields = {name: body[name] for name in chronology.FIELDS if name in body}
    ref_errors = {**strict_types(body, integers=("case_id", "agency_id"), booleans=FLAGS,
                                 strings=("case_ref", "agency")),
                  **resolve_refs(body, fields)}
    if ref_errors:
        refuse(ref_errors, lambda: chronology.normalise(get_db(), review_id(), fields))
    result = chronology.record_event(get_db(), actor, fields, client_uuid=uuid, review_id=review_id())
    body = event_json(result.record)
    return created(result, body, body["url"])


@bp.get("/chronology/<int:event_id>")
def read_event(event_id: int):
    """One chronology event. :raise 401, 403, 404:"""
    require(current_actor(), policy.READ_CHRONOLOGIES, CHRONOLOGY_READERS)
    if event_id > validation.MAX_INT:  # SQLite cannot even look it up
        raise NotFound(f"No chronology event {event_id} in this review.")
    event = chronology.get_event(get_db(), event_id)
    if event["review_id"] != review_id():
        raise NotFound(f"No chronology event {event_id} in this review.")
    return jsonify(event_json(event))


@bp.get("/cases/<case_ref>/chronology")
def case_chronology(case_ref: str):
    """A case's merged chronology. :raise 401, 403, 404:"""
    require(current_actor(), policy.READ_CHRONOLOGIES, CHRONOLOGY_READERS)
    case = chronology.case_by_ref(get_db(), review_id(), case_ref)
    events = chronology.case_chronology(get_db(), case["id"])
    return jsonify({
        "case": {k: case[k] for k in ("case_ref", "age_band", "legal_status", "cp_category", "selection_route")},
        "events": [event_json(event) for event in events],
    })
