"""The OpenAPI 3.1 description of the JSON API, served at ``/api/openapi.json``.

Built from the same vocabularies (:mod:`inspect_kit.vocab`) and limits
(:mod:`inspect_kit.validation`) that the schema's CHECKs and the forms use, so
the document cannot drift from what the server accepts. Flask-free: a plain
function returning a dict, tested with ``openapi-spec-validator``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .. import __version__, fields, qa, session_contract, validation, vocab
from ..judgements import NARRATIVE_LIMIT, QUOTE_LIMIT, REASON_LIMIT, STATEMENT_LIMIT

JSON = "application/json"
# The largest request body the API reads (see inspect_kit.web.api): a finding's
# two long texts at their limit, with room for JSON escapes.
MAX_BODY_BYTES = 256 * 1024
PAGE_SIZE = 50
# The intake app's session cookie (the Flask-free session contract).
SESSION_COOKIE = session_contract.COOKIE_NAME
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class ReviewLists:
    """A review's reference data, for a document that names the only ids,
    references and criterion codes the server will accept (for a caller who
    may read the review: the anonymous document has plain integers and strings)."""

    slug: str
    case_ids: list[int] = field(default_factory=list)
    case_refs: list[str] = field(default_factory=list)
    agency_ids: list[int] = field(default_factory=list)
    agency_names: list[str] = field(default_factory=list)
    criteria: list[str] = field(default_factory=list)
    grades: list[int] = field(default_factory=list)


# ----------------------------------------------------------------- the text rule as JSON Schema

# validation.text's refusals as a character class: C0 but tab and newline, DEL,
# C1, and the non-characters. Lone surrogates are left out: JSON text that
# holds one is not Unicode, and JSON Schema validators written in Rust refuse
# a pattern that names them (the server refuses them anyway).
_FORBIDDEN = (r"\x00-\x08\x0b-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff"
              + "".join(chr(plane * 0x10000 + last) for plane in range(1, 17) for last in (0xFFFE, 0xFFFF)))


def text_pattern(*, required: bool, multiline: bool) -> str:
    """The text rule (:func:`inspect_kit.validation.text`) as a regular expression.

    Multi-line texts may hold tabs, newlines and CRLF pairs (stored as
    newlines); one-line texts none of them. A required text needs one
    character that is not whitespace (blank is refused as empty).
    """
    forbidden = _FORBIDDEN if multiline else _FORBIDDEN + r"\t\n"
    unit = f"(?:[^{forbidden}]|\\r\\n)" if multiline else f"[^{forbidden}]"
    return f"^{unit}*[^\\s{forbidden}]{unit}*$" if required else f"^{unit}*$"


def _text(description: str, limit: int, *, required: bool = True, multiline: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "string" if required else ["string", "null"], "maxLength": limit,
        "pattern": text_pattern(required=required, multiline=multiline),
        "description": f"{description} At most {limit:,} characters; " + (
            "tabs and line breaks allowed" if multiline else "one line") +
        ", no control characters or Unicode non-characters; spaces and line breaks at the ends are trimmed.",
    }
    if required:
        schema["minLength"] = 1
    return schema


# ----------------------------------------------------------------- dates from 1900 to today


def _digits_between(low: str, high: str) -> str:
    """A regex for the fixed-width digit strings from ``low`` to ``high`` inclusive."""
    if not low:
        return ""
    if low[0] == high[0]:
        return low[0] + _digits_between(low[1:], high[1:])
    rest = len(low) - 1
    if low[1:] == "0" * rest and high[1:] == "9" * rest:
        return f"[{low[0]}-{high[0]}]" + "[0-9]" * rest
    parts = [low[0] + _digits_between(low[1:], "9" * rest)]
    if int(high[0]) - int(low[0]) > 1:
        parts.append(f"[{int(low[0]) + 1}-{int(high[0]) - 1}]" + "[0-9]" * rest)
    parts.append(high[0] + _digits_between("0" * rest, high[1:]))
    return "(?:" + "|".join(parts) + ")"


def _month_days(year_pattern: str, months: range, leap_years: list[int]) -> list[str]:
    """Alternatives for every real ``-MM-DD`` of ``months`` in the years ``year_pattern`` matches
    (29 February only in ``leap_years``)."""
    parts = []
    for month in months:
        days = 28 if month == 2 else calendar.monthrange(2001, month)[1]
        parts.append(f"{year_pattern}-{month:02d}-{_digits_between('01', f'{days:02d}')}")
    if 2 in months and leap_years:
        parts.append(f"(?:{'|'.join(str(year) for year in leap_years)})-02-29")
    return parts


def date_pattern(today: dt.date, earliest: dt.date = validation.EARLIEST_DATE) -> str:
    """A regex for exactly the real ``YYYY-MM-DD`` dates from ``earliest`` (a 1 January) to ``today``."""
    parts = []
    if today.year > earliest.year:
        years = range(earliest.year, today.year)
        parts += _month_days(_digits_between(str(years[0]), str(years[-1])), range(1, 13),
                             [year for year in years if calendar.isleap(year)])
    year = str(today.year)
    leap = [today.year] if calendar.isleap(today.year) and today.month > 2 else []
    if today.month > 1:
        parts += _month_days(year, range(1, today.month), leap)
    parts.append(f"{year}-{today.month:02d}-{_digits_between('01', f'{today.day:02d}')}")
    return "^(?:" + "|".join(parts) + ")$"


def _date(today: dt.date, description: str) -> dict[str, Any]:
    return {"type": "string", "format": "date", "pattern": date_pattern(today),
            "description": f"{description} An ISO date, YYYY-MM-DD, from 1900-01-01 to today."}


def _enum(codes: dict[str, str], what: str, *, optional: bool = False) -> dict[str, Any]:
    labels = "; ".join(f"`{code}`: {label}" for code, label in codes.items())
    if optional:  # empty or null takes the default
        return {"enum": [*codes, "", None], "description": f"{what}. {labels}."}
    return {"type": "string", "enum": list(codes), "description": f"{what}. {labels}."}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if kind:
        schema = {**schema, "type": [kind, "null"]}
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


ID = {"type": "integer", "minimum": 1, "maximum": validation.MAX_INT}
TIMESTAMP = {"type": "string", "format": "date-time"}
CLIENT_UUID = {
    "type": "string", "format": "uuid", "pattern": validation.UUID_PATTERN,
    "not": {"enum": sorted(validation.RESERVED_UUIDS)},
    "description": "Made by the client once per request and sent again unchanged on every retry: the same uuid "
                   "with the same content answers 200 with the stored record, with other content 409. The "
                   "36-character hyphenated form (uppercase is read as lowercase); not the nil or max uuid.",
}
STORED_DATE = {"type": "string", "format": "date"}


def _row_id(ids: list[int] | None, description: str, *, nullable: bool = True) -> dict[str, Any]:
    if ids is None:
        schema = {**ID, "description": description}
        return _nullable(schema) if nullable else schema
    return {"enum": [*ids, None] if nullable else list(ids), "description": description}


def _name(names: list[str] | None, description: str) -> dict[str, Any]:
    if names is None:
        return {"type": ["string", "null"], "maxLength": validation.SHORT_TEXT_LIMIT,
                "pattern": text_pattern(required=False, multiline=False), "description": description}
    return {"enum": [*names, "", None], "description": description}


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def field_input(spec: fields.Field, today: dt.date) -> dict[str, Any]:
    """The input schema of a registry field (not a reference: those are given by id or by name)."""
    if spec.kind in fields.TEXT_KINDS:
        return _text(_sentence(spec.hint), spec.max_length or validation.LONG_TEXT_LIMIT, required=spec.required,
                     multiline=spec.multiline)
    if spec.kind == fields.CHOICE:
        default = f" (default `{spec.default}`)" if spec.default else ""
        return _enum(dict(spec.vocabulary or {}), spec.hint + default, optional=not spec.required)
    if spec.kind == fields.DATE:
        return _date(today, _sentence(spec.hint))
    if spec.kind == fields.FLAG:
        return {"type": ["boolean", "null"], "description": f"{_sentence(spec.hint)} true or false (null is false)."}
    if spec.kind == fields.REFERENCES:
        return {"type": ["array", "null"], "items": ID, "maxItems": spec.max_items, "uniqueItems": True,
                "description": f"{spec.hint}: the events' ids (`id` in the case's chronology), each once. Events "
                               "of the finding's own case only, so a finding with no case cites none; empty or "
                               "null cites none."}
    raise ValueError(f"no input schema for a {spec.kind} field ({spec.name})")


def field_output(spec: fields.Field) -> dict[str, Any]:
    """The schema of a registry field as the API returns it."""
    if spec.kind in fields.TEXT_KINDS:
        return {"type": "string" if spec.required else ["string", "null"], "description": _sentence(spec.hint)}
    if spec.kind == fields.CHOICE:
        return _enum(dict(spec.vocabulary or {}), spec.hint)
    if spec.kind == fields.DATE:
        return {**STORED_DATE, "description": _sentence(spec.hint)}
    if spec.kind == fields.FLAG:
        return {"type": "boolean", "description": _sentence(spec.hint)}
    if spec.kind == fields.REFERENCE:
        return {**ID} if spec.required else _nullable({**ID})
    if spec.kind == fields.REFERENCES:
        return {"type": "array", "items": ID, "description": f"{_sentence(spec.hint)} Their ids, ascending."}
    raise ValueError(f"no output schema for a {spec.kind} field ({spec.name})")


def record_inputs(record: tuple[fields.Field, ...], today: dt.date) -> dict[str, Any]:
    """The input schemas of a record's fields that are typed as values (references aside)."""
    return {spec.name: field_input(spec, today) for spec in record if spec.kind != fields.REFERENCE}


def required_inputs(record: tuple[fields.Field, ...]) -> list[str]:
    """``client_uuid`` and the record's required fields (a reference may be given by name instead)."""
    return ["client_uuid", *(spec.name for spec in record if spec.required and spec.kind != fields.REFERENCE)]


def _given(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Matches a body where ``name`` is present and not empty."""
    return {"required": [name], "properties": {name: schema}}


def schemas(lists: ReviewLists | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """The ``components.schemas`` of the document (with ``lists``, only that review's ids and codes)."""
    built = _schemas(lists, today)
    recorded = built["FindingInput"]
    built["FindingEdit"] = {
        **recorded,
        "required": ["expected_version", *(name for name in recorded["required"] if name != "client_uuid")],
        "properties": {
            **{name: schema for name, schema in recorded["properties"].items() if name != "client_uuid"},
            "expected_version": {**ID, "description": "The finding's `version` the caller read."},
            "reason": _text(fields.EDIT_REASON.hint, fields.EDIT_REASON.max_length or validation.COMMENT_LIMIT,
                            required=False),
        },
    }
    return built


def _schemas(lists: ReviewLists | None = None, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.date.today()
    criterion = {"type": "string"} if lists is None else {"enum": lists.criteria}
    criteria = {
        "description": "Framework criteria the evidence relates to: a map of criterion code to relevance, or a "
                       "list of codes (all primary). At least one is required when submitting.",
        "oneOf": [
            {"type": "object", "propertyNames": criterion,
             "additionalProperties": _enum(vocab.RELEVANCES, "Relevance")},
            {"type": "array", "items": criterion},
            {"type": "null"},
        ],
    }
    some_criteria = {"oneOf": [{"type": "object", "minProperties": 1}, {"type": "array", "minItems": 1}]}
    with_id = {"type": "integer"}
    with_name = {"type": "string", "minLength": 1}
    finding_out = {spec.name: field_output(spec) for spec in fields.FINDING}
    event_out = {spec.name: field_output(spec) for spec in fields.CHRONOLOGY_EVENT if spec.kind != fields.REFERENCE}
    return {
        "Error": {
            "type": "object",
            "description": "Every error has this shape; `errors` names each faulty field (empty when the fault is "
                           "not one field's).",
            "required": ["status", "message", "errors"],
            "properties": {
                "status": {"type": "integer"},
                "message": {"type": "string", "description": "What went wrong and how to put it right."},
                "errors": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "FindingInput": {
            "type": "object",
            "required": required_inputs(fields.FINDING),
            "properties": {
                "client_uuid": CLIENT_UUID,
                "agency_id": _row_id(lists and lists.agency_ids, "An agency of the review (or give `agency`)."),
                "case_id": _row_id(lists and lists.case_ids, "A case of the review (or give `case_ref`)."),
                "case_ref": _name(lists and lists.case_refs, "A case of the review by reference, e.g. C-017."),
                "agency": _name(lists and lists.agency_names, "An agency of the review by name."),
                **record_inputs(fields.FINDING, today),
                "criteria": criteria,
                "submit": {"type": ["boolean", "null"], "default": False,
                           "description": "Send straight to the QA queue (criteria then required)."},
            },
            "allOf": [
                {"not": {"allOf": [_given("case_id", with_id), _given("case_ref", with_name)]}},
                {"not": {"allOf": [_given("agency_id", with_id), _given("agency", with_name)]}},
                {"if": {"required": ["submit"], "properties": {"submit": {"const": True}}},
                 "then": {"required": ["criteria"], "properties": {"criteria": some_criteria}}},
            ],
            "description": "Give the case by `case_id` or `case_ref` (not both), the agency by `agency_id` or "
                           "`agency` (not both).",
        },
        "Finding": {
            "type": "object",
            "properties": {
                "public_id": {"type": "string", "examples": ["EF-POL-02-0041"]},
                "url": {"type": "string"},
                "client_uuid": {"type": "string", "format": "uuid"},
                "review_id": ID,
                "strand": {"type": "string"},
                "inspector": {"type": "string", "examples": ["POL-02"]},
                **finding_out,
                "agency": {"type": ["string", "null"]},
                "case_ref": {"type": ["string", "null"]},
                "criteria": {"type": "object", "additionalProperties": _enum(vocab.RELEVANCES, "Relevance")},
                "events": {"type": "array", "items": _ref("CitedEvent"),
                           "description": "The cited events in date order, each with its date, agency and link."},
                "qa_status": _enum(vocab.QA_STATUSES, "Quality-assurance status"),
                "version": {"type": "integer", "minimum": 1,
                            "description": "Send it back as `expected_version` with a QA action."},
                "created_at": TIMESTAMP,
                "updated_at": TIMESTAMP,
                "submitted_at": {**TIMESTAMP, "type": ["string", "null"]},
                "qa_actions": {"type": "array", "items": _ref("QaActionRecord"),
                               "description": "QA history, oldest first (a return carries the lead's comment)."},
                "allowed_actions": {"type": "array", "items": _enum(vocab.QA_ACTIONS, "QA action"),
                                    "description": "QA actions the caller may take now."},
            },
        },
        "CitedEvent": {
            "type": "object",
            "required": ["id", "url"],
            "properties": {
                "id": ID, "url": {"type": "string"}, "case_ref": {"type": "string"},
                "event_date": STORED_DATE, "agency": {"type": "string"},
                "event_type": _enum(vocab.EVENT_TYPES, "Type of event"),
                "description": {"type": "string", "description": "What happened."},
            },
        },
        "FindingSummary": {
            "type": "object",
            "properties": {
                "public_id": {"type": "string"}, "url": {"type": "string"},
                "qa_status": _enum(vocab.QA_STATUSES, "Quality-assurance status"),
                **{name: finding_out[name] for name in ("finding_type", "activity", "collected_on", "evidence_text")},
                "version": {"type": "integer"}, "updated_at": TIMESTAMP, "strand": {"type": "string"},
                "inspector": {"type": "string"},
                "agency": {"type": ["string", "null"]}, "case_ref": {"type": ["string", "null"]},
            },
        },
        "FindingPage": {
            "type": "object",
            "required": ["findings", "limit", "offset", "next"],
            "properties": {
                "findings": {"type": "array", "items": _ref("FindingSummary")},
                "limit": {"type": "integer"},
                "offset": {"type": "integer"},
                "next": {"type": ["string", "null"], "description": "The next page's URL, null on the last page."},
            },
        },
        "QaActionInput": {
            "type": "object",
            "required": ["action", "expected_version", "client_uuid"],
            "properties": {
                "action": _enum({a: vocab.QA_ACTIONS[a] for a in qa.TRANSITIONS}, "QA action"),
                "expected_version": {**ID, "description": "The finding's `version` the caller read: if the "
                                                          "finding has changed since, nothing is done (409)."},
                "client_uuid": {**CLIENT_UUID, "description": "Made once for this action: a retry with the same "
                                                              "uuid answers 200 and acts once. " +
                                                              CLIENT_UUID["description"].split(": ", 1)[0]},
                "comment": _text("Required to return (what to change) or withdraw (why).",
                                 validation.COMMENT_LIMIT, required=False),
            },
            "if": {"required": ["action"], "properties": {"action": {"enum": ["return", "withdraw"]}}},
            "then": {"required": ["comment"],
                     "properties": {"comment": _text("", validation.COMMENT_LIMIT, required=True)}},
        },
        "QaActionRecord": {
            "type": "object",
            "properties": {
                "action": _enum(vocab.QA_ACTIONS, "QA action"),
                "from_status": _enum(vocab.QA_STATUSES, "Status before"),
                "to_status": _enum(vocab.QA_STATUSES, "Status after"),
                "actor": {"type": "string"}, "at": TIMESTAMP, "comment": {"type": ["string", "null"]},
            },
        },
        "ChronologyEventInput": {
            "type": "object",
            "required": required_inputs(fields.CHRONOLOGY_EVENT),
            "description": "Give the case as `case_id` or `case_ref`, the agency as `agency_id` or `agency` "
                           "(one of each, not both).",
            "properties": {
                "client_uuid": CLIENT_UUID,
                "case_id": _row_id(lists and lists.case_ids, "A case of the review."),
                "case_ref": _name(lists and lists.case_refs, "A case of the review by reference."),
                "agency_id": _row_id(lists and lists.agency_ids, "An agency of the review."),
                "agency": _name(lists and lists.agency_names, "An agency of the review by name."),
                **record_inputs(fields.CHRONOLOGY_EVENT, today),
            },
            "allOf": [
                {"anyOf": [_given("case_id", with_id), _given("case_ref", with_name)]},
                {"anyOf": [_given("agency_id", with_id), _given("agency", with_name)]},
                {"not": {"allOf": [_given("case_id", with_id), _given("case_ref", with_name)]}},
                {"not": {"allOf": [_given("agency_id", with_id), _given("agency", with_name)]}},
            ],
        },
        "ChronologyEvent": {
            "type": "object",
            "properties": {
                "id": ID, "url": {"type": "string"}, "client_uuid": {"type": "string", "format": "uuid"},
                "case_id": ID, "case_ref": {"type": "string"}, "agency_id": ID, "agency": {"type": "string"},
                "agency_type": _enum(vocab.AGENCY_TYPES, "Type of agency"),
                **event_out,
                "recorded_by": {"type": ["string", "null"], "description": "The recording inspector's code."},
                "created_at": TIMESTAMP,
                "gap_days": {"type": ["integer", "null"],
                             "description": "Days since the case's previous event (in a chronology)."},
            },
        },
        "CaseChronology": {
            "type": "object",
            "required": ["case", "events"],
            "properties": {
                "case": {
                    "type": "object",
                    "properties": {
                        "case_ref": {"type": "string"},
                        "age_band": _enum(vocab.AGE_BANDS, "Age band"),
                        "legal_status": _enum(vocab.LEGAL_STATUSES, "Legal status"),
                        "cp_category": _nullable(_enum(vocab.CP_CATEGORIES, "Child-protection category")),
                        "selection_route": _enum(vocab.SELECTION_ROUTES, "How the case was selected"),
                    },
                },
                "events": {"type": "array", "items": _ref("ChronologyEvent")},
            },
        },
    }


ERRORS = {
    "400": "Bad request: the body is not JSON or not an object, a query parameter is wrong (`errors` names it), "
           "or (with a session) the CSRF token is missing or wrong.",
    "401": "No credentials, or an invalid API token. The `WWW-Authenticate` header says which.",
    "403": "Authenticated, but this account may not do this (another strand's evidence; an administrator "
           "acting as an author).",
    "404": "No such record in this review, or no review called `?review=`.",
    "405": "The endpoint does not take this method; the `Allow` header lists those it does.",
    "409": "Clashes with the stored state: a client_uuid reused for other content, a QA action on a version "
           "the caller did not read (`errors.expected_version` names the version now stored), one not allowed "
           "from the record's current status, or a submit of a finding with no framework criterion.",
    "413": f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.",
    "415": "The body is declared as something other than `application/json`.",
    "422": "The content breaks the domain's rules; `errors` names each field.",
    "429": "Too many requests from this account or address: wait and retry (`Retry-After` says how long).",
    "500": "The server failed; nothing was half-written. The message is safe to show.",
}


def _responses(ok: dict[str, Any], *codes: str) -> dict[str, Any]:
    responses = dict(ok)
    for code in ("400", "401", "403", "404", *codes, "429", "500"):
        responses[code] = {"$ref": f"#/components/responses/E{code}"}
    return responses


def _ok(status: str, description: str, schema: str, *, location: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description, "content": {JSON: {"schema": _ref(schema)}}}
    if location:
        body["headers"] = {"Location": {"schema": {"type": "string"}, "description": "The record's URL."}}
    return {status: body}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": _ref(schema)}}}


READ_SECURITY = [{"bearerToken": []}, {"sessionCookie": []}]
WRITE_SECURITY = [{"bearerToken": []}, {"sessionCookie": [], "csrfHeader": []}]
REVIEW_PARAM = {"$ref": "#/components/parameters/review"}
WRITE_ERRORS = ("409", "413", "415", "422")


def _finding_change(operation_id: str, summary: str, description: str, body: str, answer: str,
                    public_id: dict[str, Any]) -> dict[str, Any]:
    """An operation that changes one finding, on the version the caller read, and answers with it."""
    return {
        "operationId": operation_id, "summary": summary, "description": description,
        "security": WRITE_SECURITY, "parameters": [REVIEW_PARAM, public_id], "requestBody": _body(body),
        "responses": _responses(_ok("200", answer, "Finding"), *WRITE_ERRORS),
    }


def paths() -> dict[str, Any]:
    """The ``paths`` of the document: one entry per route of the API blueprint.

    Every operation but this document's acts on a review (``?review=SLUG``,
    default the latest), so every one may answer 404 for an unknown slug.
    """
    public_id = {"name": "public_id", "in": "path", "required": True, "schema": {"type": "string"},
                 "examples": {"finding": {"value": "EF-POL-02-0041"}}}
    created = {
        **_ok("201", "Created.", "Finding", location=True),
        **_ok("200", "A replay: this client_uuid was already stored with the same content.", "Finding"),
    }
    return {
        "/api/openapi.json": {"get": {
            "operationId": "openapi", "summary": "This document.", "security": [],
            "description": "With a reader's credentials, the document names the review's own case and agency "
                           "ids, case references, agency names and criterion codes (the only ones accepted).",
            "parameters": [REVIEW_PARAM],
            "responses": {"200": {"description": "The OpenAPI document.", "content": {JSON: {"schema": {}}}},
                          "404": {"$ref": "#/components/responses/E404"},
                          "500": {"$ref": "#/components/responses/E500"}},
        }},
        "/api/findings": {
            "get": {
                "operationId": "listFindings",
                "summary": "Findings the caller may see, newest first, a page at a time.",
                "security": READ_SECURITY,
                "parameters": [
                    REVIEW_PARAM,
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": PAGE_SIZE}},
                    {"name": "offset", "in": "query",
                     "schema": {"type": "integer", "minimum": 0, "maximum": validation.MAX_INT, "default": 0}},
                    {"name": "qa_status", "in": "query", "schema": _enum(vocab.QA_STATUSES, "Only this status")},
                    {"name": "mine", "in": "query", "schema": {"type": "boolean", "default": False},
                     "description": "Only the caller's own findings (`true` or `false`)."},
                ],
                "responses": _responses(_ok("200", "A page of findings.", "FindingPage")),
            },
            "post": {
                "operationId": "recordFinding",
                "summary": "Record a finding (idempotent by client_uuid).",
                "security": WRITE_SECURITY,
                "parameters": [REVIEW_PARAM],
                "requestBody": _body("FindingInput"),
                "responses": _responses(created, *WRITE_ERRORS),
            },
        },
        "/api/findings/{public_id}": {
            "get": {
                "operationId": "readFinding", "summary": "One finding with its QA history.",
                "security": READ_SECURITY, "parameters": [REVIEW_PARAM, public_id],
                "responses": _responses(_ok("200", "The finding.", "Finding")),
            },
            "put": _finding_change(
                "editFinding", "Replace a finding's content (its author only), on the version the caller read.",
                "The whole record as for recording one (a field left out is emptied). A finding changed since "
                "`expected_version` is 409 unless this body says what it holds already (a retry: 200, nothing "
                "changed twice). An accepted finding that is edited goes back to the QA queue.",
                "FindingEdit", "The finding as stored.", public_id),
        },
        "/api/findings/{public_id}/qa": {"post": _finding_change(
            "qaFinding", "Submit, accept, return or withdraw a finding, on the version the caller read.",
            "Authors submit and withdraw their own findings; leads and moderators accept, return (with a comment) "
            "and withdraw. A move not allowed from the current status is 409; so is one whose `expected_version` "
            "is not the finding's current `version` (nothing is done: read the finding again). A retry with the "
            "same `client_uuid` answers 200 with the finding and records the action once.",
            "QaActionInput", "The finding after the action.", public_id)},
        "/api/chronology": {"post": {
            "operationId": "recordChronologyEvent",
            "summary": "Record a chronology event (idempotent by client_uuid).",
            "security": WRITE_SECURITY, "parameters": [REVIEW_PARAM],
            "requestBody": _body("ChronologyEventInput"),
            "responses": _responses({
                **_ok("201", "Created.", "ChronologyEvent", location=True),
                **_ok("200", "A replay of a stored event.", "ChronologyEvent"),
            }, *WRITE_ERRORS),
        }},
        "/api/chronology/{event_id}": {"get": {
            "operationId": "readChronologyEvent", "summary": "One chronology event.",
            "security": READ_SECURITY,
            "parameters": [REVIEW_PARAM, {"name": "event_id", "in": "path", "required": True, "schema": ID}],
            "responses": _responses(_ok("200", "The event.", "ChronologyEvent")),
        }},
        "/api/cases/{case_ref}/chronology": {"get": {
            "operationId": "caseChronology",
            "summary": "A case's merged chronology across all agencies, in date order.",
            "security": READ_SECURITY,
            "parameters": [REVIEW_PARAM, {"name": "case_ref", "in": "path", "required": True,
                                          "schema": {"type": "string"}, "examples": {"index": {"value": "C-017"}}}],
            "responses": _responses(_ok("200", "The chronology.", "CaseChronology")),
        }},
    }


# ----------------------------------------------------------------- judgements



FINDING = fields.by_name(fields.FINDING)
JUDGEMENT = fields.by_name(fields.JUDGEMENT)


def judgement_schemas(lists: ReviewLists | None = None) -> dict[str, Any]:
    """The judgement workspace's schemas (``components.schemas``; with ``lists``, only the review's grades)."""
    citation_in = {
        "type": "object", "required": ["finding"],
        "properties": {
            "finding": {"type": "string", "description": "The cited finding's public id.",
                        "examples": ["EF-POL-02-0041"]},
            "quote": {**_text("Words copied exactly from the finding's evidence or evaluation text.", QUOTE_LIMIT,
                              required=False)},
        },
    }
    grade = {"type": ["integer", "null"], "description": "A grade of the review's scale (null on ungraded frameworks)."}
    # As the library decides (judgements.record_judgement, moderate_judgement):
    # a graded review needs a grade from its scale; an ungraded one takes none.
    graded = bool(lists and lists.grades)
    grade_in = grade if lists is None else {"enum": lists.grades if graded else [None],
                                            "description": grade["description"]}
    return {
        "JudgementInput": {
            "type": "object", "required": ["narrative", *(["proposed_grade"] if graded else [])],
            "description": "The lead's proposal. `citations` replaces the whole list when sent, and is left as it "
                           "is when absent. On an ungraded framework send `strengths` and/or "
                           "`areas_for_improvement` instead of a grade.",
            "properties": {
                "proposed_grade": grade_in,
                "narrative": _text("The judgement's narrative.", NARRATIVE_LIMIT),
                "strengths": _text("Strengths.", STATEMENT_LIMIT, required=False),
                "areas_for_improvement": _text("Areas for improvement.", STATEMENT_LIMIT, required=False),
                "citations": {"type": "array", "items": citation_in, "maxItems": 200},
                "reason": _text("Why it changed (kept in the history).", REASON_LIMIT, required=False),
                "expected_version": {"type": ["integer", "null"], "minimum": 1,
                                     "description": "The version you edited: a stale one is 409 (null or absent: "
                                                    "no check, as for a first proposal)."},
            },
        },
        "ModerationInput": {
            "type": "object", "required": ["reason", *(["moderated_grade"] if graded else [])],
            "properties": {"moderated_grade": grade_in,
                           "reason": _text("Why the moderated grade is what it is.", REASON_LIMIT)},
        },
        "Citation": {
            "type": "object",
            "properties": {
                "public_id": {"type": "string"}, "quote": {"type": ["string", "null"]},
                "finding_version": {"type": "integer", "description": "The finding's version when cited."},
                "current_version": {"type": "integer"},
                "qa_status": _enum(vocab.QA_STATUSES, "The finding's QA status now"),
                **{name: field_output(FINDING[name]) for name in ("finding_type", "collected_on")},
                "strand": {"type": "string"}, "agency": {"type": ["string", "null"]},
                "cited_by": {"type": "string"}, "cited_at": TIMESTAMP,
            },
        },
        "Judgement": {
            "type": "object",
            "properties": {
                "id": ID, "url": {"type": "string"}, "criterion_code": {"type": "string"},
                "criterion_title": {"type": "string"}, "area_code": {"type": "string"},
                "scope": _enum(vocab.JUDGEMENT_SCOPES, "Scope"), "agency_id": {"type": ["integer", "null"]},
                "agency": {"type": ["string", "null"]}, "proposed_grade": grade, "moderated_grade": grade,
                "narrative": {"type": "string"}, "strengths": {"type": ["string", "null"]},
                "areas_for_improvement": {"type": ["string", "null"]}, "proposed_by": {"type": "string"},
                "moderation_reason": {"type": ["string", "null"]}, "moderated_by": {"type": ["string", "null"]},
                "moderated_at": {"type": ["string", "null"]}, "version": {"type": "integer"},
                "updated_at": TIMESTAMP, "citations": {"type": "array", "items": _ref("Citation")},
            },
        },
        "JudgementList": {
            "type": "object",
            "properties": {
                "grades": {"type": "object", "additionalProperties": {"type": "string"}},
                "locked": {"type": "boolean", "description": "True from the factual accuracy check on."},
                "judgements": {"type": "array", "items": _ref("Judgement")},
                "disagreements": {"type": "array", "items": ID,
                                  "description": "Ids of judgements whose moderated grade differs from the proposal."},
            },
        },
        "CriterionWorkspace": {
            "type": "object",
            "properties": {
                "criterion": {"type": "object"}, "scope": _enum(vocab.JUDGEMENT_SCOPES, "Scope"),
                "agency_id": {"type": ["integer", "null"]},
                "judgement": {"oneOf": [_ref("Judgement"), {"type": "null"}]},
                "warnings": {"type": "array", "items": {"type": "object", "properties": {
                    "kind": {"type": "string", "enum": ["grade", "citation", "coverage"]},
                    "message": {"type": "string"}}}},
                "evidence": {"type": "array", "items": {"type": "object"},
                             "description": "Accepted findings linked to the criterion (and agency), full text."},
                "counts": {"type": "object"},
            },
        },
        "JudgementHistory": {
            "type": "object",
            "properties": {
                "judgement": _ref("Judgement"),
                "versions": {"type": "array", "items": {"type": "object", "properties": {
                    "version": {"type": "integer"},
                    "action": {"type": "string", "enum": ["propose", "revise", "moderate"]},
                    "changed_by": {"type": "string"}, "changed_at": TIMESTAMP,
                    "reason": {"type": ["string", "null"]}, "snapshot": {"type": "object"}}}},
            },
        },
    }


def judgement_paths(lists: ReviewLists | None = None) -> dict[str, Any]:
    """The judgement workspace's ``paths``: leads and moderators read; the lead proposes; a moderator moderates.

    With ``lists`` a criterion code is one of the review's (another is 404 on reading, 422 on proposing)."""
    code_schema = {"type": "string"} if lists is None else {"type": "string", "enum": lists.criteria}
    code = {"name": "criterion_code", "in": "path", "required": True, "schema": code_schema,
            "examples": {"criterion": {"value": "2.3"}}}
    agency = {"name": "agency", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1},
              "description": "An agency's id, for that agency's judgement (default: partnership-wide)."}
    return {
        "/api/judgements": {"get": {
            "operationId": "listJudgements", "summary": "Every judgement of the review (leads and moderators).",
            "security": READ_SECURITY, "parameters": [REVIEW_PARAM],
            "responses": _responses(_ok("200", "The judgements.", "JudgementList")),
        }},
        "/api/judgements/{criterion_code}": {
            "get": {
                "operationId": "readJudgement",
                "summary": "A criterion's judgement, its warnings and the accepted evidence for it.",
                "security": READ_SECURITY, "parameters": [REVIEW_PARAM, code, agency],
                "responses": _responses(_ok("200", "The workspace.", "CriterionWorkspace"), "404"),
            },
            "post": {
                "operationId": "proposeJudgement",
                "summary": "The lead proposes or revises the judgement and its citations.",
                "description": "Only the lead. A quote not found in its finding, a withdrawn finding or a grade "
                               "off the scale is 422; locked judgements (factual accuracy) and a stale "
                               "expected_version are 409.",
                "security": WRITE_SECURITY, "parameters": [REVIEW_PARAM, code, agency],
                "requestBody": _body("JudgementInput"),
                "responses": _responses({**_ok("201", "Proposed.", "CriterionWorkspace", location=True),
                                         **_ok("200", "Revised.", "CriterionWorkspace")},
                                        "409", "413", "415", "422"),
            },
        },
        "/api/judgements/{criterion_code}/moderation": {"post": {
            "operationId": "moderateJudgement",
            "summary": "A moderator records the moderated grade and reason, beside the proposal.",
            "security": WRITE_SECURITY, "parameters": [REVIEW_PARAM, code, agency],
            "requestBody": _body("ModerationInput"),
            "responses": _responses(_ok("200", "Moderated.", "CriterionWorkspace"), "409", "413", "415", "422"),
        }},
        "/api/judgements/{criterion_code}/history": {"get": {
            "operationId": "judgementHistory", "summary": "Every version of a judgement, oldest first.",
            "security": READ_SECURITY, "parameters": [REVIEW_PARAM, code, agency],
            "responses": _responses(_ok("200", "The history.", "JudgementHistory"), "404"),
        }},
    }


def openapi_document(server_url: str = "/", lists: ReviewLists | None = None,
                     today: dt.date | None = None) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document for the API.

    With ``lists`` the inputs name only that review's ids, references and
    criterion codes; ``today`` (default: today) bounds the dates.
    """
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "inspect_kit API",
            "version": __version__,
            "description": (
                "Record and read evidence (findings), QA actions and chronology events of a joint review, with "
                "the same validation and idempotency as the intake forms. Authenticate with "
                "`Authorization: Bearer TOKEN` (`inspect-kit user token USERNAME` prints a token) or the intake "
                "session cookie plus the page's CSRF token in `X-CSRFToken` for changes. Requests act on the "
                "latest review unless `?review=SLUG` names another."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": {**paths(), **judgement_paths(lists)},
        "components": {
            "schemas": {**schemas(lists, today), **judgement_schemas(lists)},
            "parameters": {
                "review": {"name": "review", "in": "query", "required": False, "schema": {"type": "string"},
                           "description": "The review's slug (default: the latest review)."},
            },
            "responses": {
                f"E{code}": {
                    "description": description,
                    "content": {JSON: {"schema": _ref("Error")}},
                    **({"headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}} if code == "401" else {}),
                    **({"headers": {"Allow": {"schema": {"type": "string"}}}} if code == "405" else {}),
                    **({"headers": {"Retry-After": {"schema": {"type": "string"}}}} if code == "429" else {}),
                }
                for code, description in ERRORS.items()
            },
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer",
                                "description": "A per-user API token from `inspect-kit user token USERNAME`."},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                                  "description": "The intake app's login session."},
                "csrfHeader": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                               "description": "The page's CSRF token; required with a session for changes."},
            },
        },
    }
