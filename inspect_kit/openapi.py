"""The OpenAPI 3.1 description of the JSON API, served at ``/api/openapi.json``.

Built from the same vocabularies (:mod:`inspect_kit.vocab`) and limits
(:mod:`inspect_kit.validation`) that the schema's CHECKs and the forms use, so
the document cannot drift from what the server accepts. Flask-free: a plain
function returning a dict, tested with ``openapi-spec-validator``.
"""

from __future__ import annotations

from typing import Any

from . import __version__, qa, validation, vocab
from .judgements import NARRATIVE_LIMIT, QUOTE_LIMIT

JSON = "application/json"
# The largest request body the API reads (see inspect_kit.web.api): a finding's
# two long texts at their limit, with room for JSON escapes.
MAX_BODY_BYTES = 256 * 1024
PAGE_SIZE = 50
# The intake app's session cookie (inspect_kit.web.SESSION_COOKIE_NAME; kept
# literal here so this module stays Flask-free, and tested to match).
SESSION_COOKIE = "inspect_kit_session"
MAX_PAGE_SIZE = 200


def _enum(codes: dict[str, str], what: str) -> dict[str, Any]:
    labels = "; ".join(f"`{code}`: {label}" for code, label in codes.items())
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


def _long_text(description: str) -> dict[str, Any]:
    return {"type": "string", "maxLength": validation.LONG_TEXT_LIMIT, "description": description}


def _short_text(description: str, factor: int = 1) -> dict[str, Any]:
    return {"type": "string", "maxLength": validation.SHORT_TEXT_LIMIT * factor, "description": description}


ID = {"type": "integer", "minimum": 1}
DATE = {"type": "string", "format": "date", "description": "An ISO date, YYYY-MM-DD; not in the future."}
TIMESTAMP = {"type": "string", "format": "date-time"}
CLIENT_UUID = {
    "type": "string", "format": "uuid",
    "description": "Made by the client once per record and sent again unchanged on every retry: the same uuid "
                   "with the same content answers 200 with the stored record, with other content 409.",
}


def schemas() -> dict[str, Any]:
    """The ``components.schemas`` of the document."""
    criteria = {
        "description": "Framework criteria the evidence relates to: a map of criterion code to relevance, or a "
                       "list of codes (all primary). Required when submitting.",
        "oneOf": [
            {"type": "object", "additionalProperties": _enum(vocab.RELEVANCES, "Relevance")},
            {"type": "array", "items": {"type": "string"}},
        ],
    }
    finding_content = {
        "agency_id": _nullable({**ID, "description": "An agency of the review (or give `agency` by name)."}),
        "case_id": _nullable({**ID, "description": "A case of the review (or give `case_ref`)."}),
        "activity": _enum(vocab.ACTIVITIES, "How the evidence was gathered"),
        "collected_on": DATE,
        "evidence_text": _long_text("What was seen, read or heard."),
        "evaluation_text": _nullable(_long_text("The inspector's evaluation of it.")),
        "finding_type": _enum(vocab.FINDING_TYPES, "Type of finding"),
        "impact_on_child": _enum(vocab.IMPACTS_ON_CHILD, "Impact on the child (default `not_known`)"),
    }
    event_content = {
        "practitioner_role": _nullable(_short_text("The practitioner's role, never their name.")),
        "event_date": DATE,
        "date_precision": _enum(vocab.DATE_PRECISIONS, "How exact the date is (default `day`)"),
        "event_type": _enum(vocab.EVENT_TYPES, "Type of event"),
        "description": _long_text("What happened."),
        "source_of_information": _nullable(_short_text("Where the information came from.", 2)),
        "key_event": {"type": "boolean"},
        "missed_opportunity": {"type": "boolean"},
        "good_practice": {"type": "boolean"},
    }
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
            "required": ["client_uuid", "activity", "collected_on", "evidence_text", "finding_type"],
            "properties": {
                "client_uuid": CLIENT_UUID,
                **finding_content,
                "case_ref": _nullable({"type": "string", "description": "A case by reference, e.g. C-017."}),
                "agency": _nullable({"type": "string", "description": "An agency of the review by name."}),
                "criteria": criteria,
                "submit": {"type": "boolean", "default": False,
                           "description": "Send straight to the QA queue (criteria then required)."},
            },
        },
        "Finding": {
            "type": "object",
            "properties": {
                "public_id": {"type": "string", "examples": ["EF-POL-02-0041"]},
                "url": {"type": "string"},
                "client_uuid": CLIENT_UUID,
                "review_id": ID,
                "strand": {"type": "string"},
                "inspector": {"type": "string", "examples": ["POL-02"]},
                **finding_content,
                "agency": {"type": ["string", "null"]},
                "case_ref": {"type": ["string", "null"]},
                "criteria": {"type": "object", "additionalProperties": _enum(vocab.RELEVANCES, "Relevance")},
                "qa_status": _enum(vocab.QA_STATUSES, "Quality-assurance status"),
                "version": {"type": "integer", "minimum": 1},
                "created_at": TIMESTAMP,
                "updated_at": TIMESTAMP,
                "submitted_at": {**TIMESTAMP, "type": ["string", "null"]},
                "qa_actions": {"type": "array", "items": _ref("QaActionRecord"),
                               "description": "QA history, oldest first (a return carries the lead's comment)."},
                "allowed_actions": {"type": "array", "items": _enum(vocab.QA_ACTIONS, "QA action"),
                                    "description": "QA actions the caller may take now."},
            },
        },
        "FindingSummary": {
            "type": "object",
            "properties": {
                "public_id": {"type": "string"}, "url": {"type": "string"},
                "qa_status": _enum(vocab.QA_STATUSES, "Quality-assurance status"),
                "finding_type": _enum(vocab.FINDING_TYPES, "Type of finding"),
                "activity": _enum(vocab.ACTIVITIES, "Activity"),
                "collected_on": DATE, "version": {"type": "integer"}, "updated_at": TIMESTAMP,
                "evidence_text": {"type": "string"}, "strand": {"type": "string"}, "inspector": {"type": "string"},
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
            "required": ["action"],
            "properties": {
                "action": _enum({a: vocab.QA_ACTIONS[a] for a in qa.TRANSITIONS}, "QA action"),
                "comment": {"type": ["string", "null"], "maxLength": 5000,
                            "description": "Required to return (what to change) or withdraw (why)."},
            },
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
            "required": ["client_uuid", "event_date", "event_type", "description"],
            "description": "Give the case as `case_id` or `case_ref`, the agency as `agency_id` or `agency`.",
            "properties": {
                "client_uuid": CLIENT_UUID,
                "case_id": ID, "case_ref": {"type": "string"},
                "agency_id": ID, "agency": {"type": "string"},
                **event_content,
            },
        },
        "ChronologyEvent": {
            "type": "object",
            "properties": {
                "id": ID, "url": {"type": "string"}, "client_uuid": CLIENT_UUID, "case_id": ID,
                "case_ref": {"type": "string"}, "agency_id": ID, "agency": {"type": "string"},
                "agency_type": _enum(vocab.AGENCY_TYPES, "Type of agency"),
                **event_content,
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
    "400": "Bad request: the body is not a JSON object, a query parameter is wrong, or (with a session) the "
           "CSRF token is missing or wrong.",
    "401": "No credentials, or an invalid API token. The `WWW-Authenticate` header says which.",
    "403": "Authenticated, but this account may not do this (another strand's evidence; an administrator "
           "acting as an author).",
    "404": "No such record (or endpoint) in this review.",
    "405": "The endpoint does not take this method; the `Allow` header lists those it does.",
    "409": "Clashes with the stored state: a client_uuid reused for other content, or a QA action not allowed "
           "from the record's current status.",
    "413": f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.",
    "422": "The content breaks the domain's rules; `errors` names each field.",
    "500": "The server failed; nothing was half-written. The message is safe to show.",
}


def _responses(ok: dict[str, Any], *codes: str) -> dict[str, Any]:
    responses = dict(ok)
    for code in ("401", "403", "400", *codes, "500"):
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


def paths() -> dict[str, Any]:
    """The ``paths`` of the document: one entry per route of the API blueprint."""
    public_id = {"name": "public_id", "in": "path", "required": True, "schema": {"type": "string"},
                 "examples": {"finding": {"value": "EF-POL-02-0041"}}}
    created = {
        **_ok("201", "Created.", "Finding", location=True),
        **_ok("200", "A replay: this client_uuid was already stored with the same content.", "Finding"),
    }
    return {
        "/api/openapi.json": {"get": {
            "operationId": "openapi", "summary": "This document.", "security": [],
            "responses": {"200": {"description": "The OpenAPI document.", "content": {JSON: {"schema": {}}}}},
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
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
                    {"name": "qa_status", "in": "query", "schema": _enum(vocab.QA_STATUSES, "Only this status")},
                    {"name": "mine", "in": "query", "schema": {"type": "boolean"},
                     "description": "Only the caller's own findings."},
                ],
                "responses": _responses(_ok("200", "A page of findings.", "FindingPage")),
            },
            "post": {
                "operationId": "recordFinding",
                "summary": "Record a finding (idempotent by client_uuid).",
                "security": WRITE_SECURITY,
                "parameters": [REVIEW_PARAM],
                "requestBody": _body("FindingInput"),
                "responses": _responses(created, "409", "413", "422"),
            },
        },
        "/api/findings/{public_id}": {"get": {
            "operationId": "readFinding", "summary": "One finding with its QA history.",
            "security": READ_SECURITY, "parameters": [public_id],
            "responses": _responses(_ok("200", "The finding.", "Finding"), "404"),
        }},
        "/api/findings/{public_id}/qa": {"post": {
            "operationId": "qaFinding",
            "summary": "Submit, accept, return or withdraw a finding.",
            "description": "Authors submit and withdraw their own findings; leads and moderators accept and return "
                           "(with a comment). A move not allowed from the current status is 409.",
            "security": WRITE_SECURITY, "parameters": [public_id],
            "requestBody": _body("QaActionInput"),
            "responses": _responses(_ok("200", "The finding after the action.", "Finding"),
                                    "404", "409", "413", "422"),
        }},
        "/api/chronology": {"post": {
            "operationId": "recordChronologyEvent",
            "summary": "Record a chronology event (idempotent by client_uuid).",
            "security": WRITE_SECURITY, "parameters": [REVIEW_PARAM],
            "requestBody": _body("ChronologyEventInput"),
            "responses": _responses({
                **_ok("201", "Created.", "ChronologyEvent", location=True),
                **_ok("200", "A replay of a stored event.", "ChronologyEvent"),
            }, "409", "413", "422"),
        }},
        "/api/chronology/{event_id}": {"get": {
            "operationId": "readChronologyEvent", "summary": "One chronology event.",
            "security": READ_SECURITY,
            "parameters": [{"name": "event_id", "in": "path", "required": True, "schema": ID}],
            "responses": _responses(_ok("200", "The event.", "ChronologyEvent"), "404"),
        }},
        "/api/cases/{case_ref}/chronology": {"get": {
            "operationId": "caseChronology",
            "summary": "A case's merged chronology across all agencies, in date order.",
            "security": READ_SECURITY,
            "parameters": [REVIEW_PARAM, {"name": "case_ref", "in": "path", "required": True,
                                          "schema": {"type": "string"}, "examples": {"index": {"value": "C-017"}}}],
            "responses": _responses(_ok("200", "The chronology.", "CaseChronology"), "404"),
        }},
    }


# ----------------------------------------------------------------- judgements (issue 11)



def judgement_schemas() -> dict[str, Any]:
    """The judgement workspace's schemas (``components.schemas``)."""
    citation_in = {
        "type": "object", "required": ["finding"],
        "properties": {
            "finding": {"type": "string", "description": "The cited finding's public id.",
                        "examples": ["EF-POL-02-0041"]},
            "quote": {"type": ["string", "null"], "maxLength": QUOTE_LIMIT,
                      "description": "Words copied exactly from the finding's evidence or evaluation text."},
        },
    }
    grade = {"type": ["integer", "null"], "description": "A grade of the review's scale (null on ungraded frameworks)."}
    return {
        "JudgementInput": {
            "type": "object", "required": ["narrative"],
            "description": "The lead's proposal. `citations` replaces the whole list when sent, and is left as it "
                           "is when absent. On an ungraded framework send `strengths` and/or "
                           "`areas_for_improvement` instead of a grade.",
            "properties": {
                "proposed_grade": grade,
                "narrative": {"type": "string", "maxLength": NARRATIVE_LIMIT},
                "strengths": {"type": ["string", "null"], "maxLength": validation.LONG_TEXT_LIMIT},
                "areas_for_improvement": {"type": ["string", "null"], "maxLength": validation.LONG_TEXT_LIMIT},
                "citations": {"type": "array", "items": citation_in, "maxItems": 200},
                "reason": {"type": ["string", "null"], "maxLength": 5000,
                           "description": "Why it changed (kept in the history)."},
                "expected_version": {"type": "integer", "minimum": 1,
                                     "description": "The version you edited: a stale one is 409."},
            },
        },
        "ModerationInput": {
            "type": "object", "required": ["reason"],
            "properties": {"moderated_grade": grade, "reason": {"type": "string", "maxLength": 5000}},
        },
        "Citation": {
            "type": "object",
            "properties": {
                "public_id": {"type": "string"}, "quote": {"type": ["string", "null"]},
                "finding_version": {"type": "integer", "description": "The finding's version when cited."},
                "current_version": {"type": "integer"},
                "qa_status": _enum(vocab.QA_STATUSES, "The finding's QA status now"),
                "finding_type": _enum(vocab.FINDING_TYPES, "Type of finding"),
                "strand": {"type": "string"}, "agency": {"type": ["string", "null"]}, "collected_on": DATE,
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


def judgement_paths() -> dict[str, Any]:
    """The judgement workspace's ``paths``: leads and moderators read; the lead proposes; a moderator moderates."""
    code = {"name": "criterion_code", "in": "path", "required": True, "schema": {"type": "string"},
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
                                        "404", "409", "413", "422"),
            },
        },
        "/api/judgements/{criterion_code}/moderation": {"post": {
            "operationId": "moderateJudgement",
            "summary": "A moderator records the moderated grade and reason, beside the proposal.",
            "security": WRITE_SECURITY, "parameters": [REVIEW_PARAM, code, agency],
            "requestBody": _body("ModerationInput"),
            "responses": _responses(_ok("200", "Moderated.", "CriterionWorkspace"), "404", "409", "413", "422"),
        }},
        "/api/judgements/{criterion_code}/history": {"get": {
            "operationId": "judgementHistory", "summary": "Every version of a judgement, oldest first.",
            "security": READ_SECURITY, "parameters": [REVIEW_PARAM, code, agency],
            "responses": _responses(_ok("200", "The history.", "JudgementHistory"), "404"),
        }},
    }


def openapi_document(server_url: str = "/") -> dict[str, Any]:
    """The whole OpenAPI 3.1 document for the API."""
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
        "paths": {**paths(), **judgement_paths()},
        "components": {
            "schemas": {**schemas(), **judgement_schemas()},
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
