"""The JSON API of the judgement workspace, under ``/api/judgements``.

A blueprint nested in the API's (:mod:`inspect_kit.web.api`), so it shares its
authentication (bearer token or session plus ``X-CSRFToken``), its JSON error
shape and its body limit; its endpoints are ``api.judgements.*``. Who may do
what is :mod:`inspect_kit.judgements`' decision, as on the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, request, url_for

from .. import judgements, reviews
from ..errors import NotFound, ValidationError
from . import api
from .db import get_db

bp = Blueprint("judgements", __name__, url_prefix="/judgements")

JUDGEMENT_OUT = (
    "id", "criterion_code", "criterion_title", "area_code", "scope", "agency_id", "agency", "proposed_grade",
    "moderated_grade", "narrative", "strengths", "areas_for_improvement", "proposed_by", "moderation_reason",
    "moderated_by", "moderated_at", "version", "updated_at",
)
CITATION_OUT = ("public_id", "quote", "finding_version", "current_version", "qa_status", "finding_type", "strand",
                "agency", "collected_on", "cited_by", "cited_at")
EVIDENCE_OUT = ("public_id", "finding_type", "qa_status", "version", "activity", "collected_on", "strand",
                "inspector", "agency", "case_ref", "relevance", "evidence_text", "evaluation_text")
PROPOSAL_FIELDS = ("proposed_grade", "narrative", "strengths", "areas_for_improvement", "citations", "reason")


# As the API's own blueprint: callers send JSON and X-CSRFToken (checked by api.current_actor).
api.exempt_from_csrf_protect(bp)


def _reader():
    actor = api.current_actor()
    judgements.require_read(actor)
    return actor


def _agency_id() -> int | None:
    """``?agency=ID`` for an agency's judgement. :raise 400: not a number. :raise 404: not in this review."""
    raw = request.args.get("agency")
    if raw in (None, ""):
        return None
    if not raw.isdigit():
        raise api.ApiError(400, "agency must be an agency's id (a whole number).",
                           field_errors={"agency": "Use an agency id"})
    if not any(a["id"] == int(raw) for a in reviews.agencies(get_db(), api.review_id())):
        raise NotFound(f"No agency {raw} in this review.")
    return int(raw)


def _write_request(require: Callable[[Any], None]) -> tuple[Any, dict[str, Any], int | None]:
    """The acting account, the JSON body and the agency asked about (``?agency=ID``), once
    ``require`` has let the account do this. :raise 401, 403, 400, 404, 413:"""
    actor = api.current_actor()
    body = api.json_body()
    require(actor)
    return actor, body, _agency_id()


def judgement_json(judgement: dict[str, Any]) -> dict[str, Any]:
    out = {name: judgement.get(name) for name in JUDGEMENT_OUT}
    out["citations"] = [{name: c.get(name) for name in CITATION_OUT} for c in judgement.get("citations") or []]
    out["url"] = url_for("api.judgements.read_judgement", criterion_code=judgement["criterion_code"],
                         agency=judgement.get("agency_id"))
    return out


@bp.get("")
def list_judgements():
    """Every judgement of the review. :raise 401, 403:"""
    actor = _reader()
    db = get_db()
    return jsonify({
        "grades": {str(g): label for g, label in judgements.scale(db, api.review_id()).items()},
        "locked": judgements.is_locked(db, api.review_id()),
        "judgements": [judgement_json(j) for j in judgements.list_judgements(db, actor, api.review_id())],
        "disagreements": [j["id"] for j in judgements.disagreements(db, actor, api.review_id())],
    })


def _criterion_json(criterion_code: str, agency_id: int | None) -> dict[str, Any]:
    db = get_db()
    criterion = judgements.criterion(db, api.review_id(), criterion_code)
    scope = judgements.scope_of(agency_id)
    judgement = judgements.find_judgement(db, api.review_id(), criterion_code, scope, agency_id)
    evidence = judgements.evidence_for(db, api.review_id(), criterion_code, agency_id=agency_id)
    return {
        "criterion": {k: criterion[k] for k in ("code", "title", "description", "area_code", "area_title")},
        "scope": scope, "agency_id": agency_id,
        "judgement": judgement_json(judgement) if judgement else None,
        "warnings": judgements.warnings(db, api.review_id(), criterion_code, judgement, agency_id=agency_id),
        "evidence": [{k: row[k] for k in EVIDENCE_OUT} for row in evidence],
        "counts": judgements.evidence_counts(evidence),
    }


@bp.get("/<criterion_code>")
def read_judgement(criterion_code: str):
    """A criterion's judgement, warnings and accepted evidence. :raise 401, 403, 404:"""
    _reader()
    return jsonify(_criterion_json(criterion_code, _agency_id()))


@bp.post("/<criterion_code>")
def propose_judgement(criterion_code: str):
    """The lead proposes or revises. :raise 401, 403, 404, 409, 413, 422:"""
    actor, body, agency_id = _write_request(judgements.require_propose)
    fields = {name: body.get(name) for name in PROPOSAL_FIELDS if name in body}
    if "citations" in fields and not isinstance(fields["citations"], list):
        raise ValidationError("citations must be a list of {\"finding\": public id, \"quote\": text or null}.",
                              field_errors={"citations": "Send a list"})
    expected = body.get("expected_version")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
        raise ValidationError("expected_version must be a whole number.", field_errors={"expected_version": "Use a number"})
    scope = judgements.scope_of(agency_id)
    existed = judgements.find_judgement(get_db(), api.review_id(), criterion_code, scope, agency_id) is not None
    judgements.record_judgement(get_db(), actor, review_id=api.review_id(), criterion_code=criterion_code,
                                scope=scope, agency_id=agency_id, expected_version=expected,
                                narrative=fields.pop("narrative", None), **fields)
    response = jsonify(_criterion_json(criterion_code, agency_id))
    if not existed:
        response.status_code = 201
        response.headers["Location"] = url_for("api.judgements.read_judgement", criterion_code=criterion_code,
                                               agency=agency_id)
    return response


@bp.post("/<criterion_code>/moderation")
def moderate_judgement(criterion_code: str):
    """A moderator records the moderated grade and reason. :raise 401, 403, 404, 409, 413, 422:"""
    actor, body, agency_id = _write_request(judgements.require_moderate)
    judgements.moderate_judgement(get_db(), actor, review_id=api.review_id(), criterion_code=criterion_code,
                                  scope=judgements.scope_of(agency_id), agency_id=agency_id,
                                  moderated_grade=body.get("moderated_grade"), note=body.get("reason"))
    return jsonify(_criterion_json(criterion_code, agency_id))


@bp.get("/<criterion_code>/history")
def judgement_history(criterion_code: str):
    """Every version of a judgement, oldest first. :raise 401, 403, 404:"""
    actor = _reader()
    agency_id = _agency_id()
    judgement = judgements.find_judgement(get_db(), api.review_id(), criterion_code, judgements.scope_of(agency_id),
                                          agency_id)
    if judgement is None:
        raise NotFound(f"No judgement has been proposed for {criterion_code} yet.")
    versions = judgements.history(get_db(), judgement["id"], actor)
    return jsonify({"judgement": judgement_json(judgement), "versions": [
        {k: v[k] for k in ("version", "action", "changed_by", "changed_at", "reason", "snapshot")} for v in versions]})


# Nested in the API's blueprint (once, at import): its error handlers, body
# limit and CSRF rules then apply here too.
api.bp.register_blueprint(bp)
