"""The judgement workspace: per criterion (and agency), the accepted evidence beside the
lead's form, the warnings, the moderator's form, the history; and the draft report's download.

Who may see or do what is :mod:`inspect_kit.judgements`' decision
(``may_read``, ``may_propose``, ``may_moderate``); these views only ask it and
move form data in and pages out.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from .. import judgements, policy, report, reviews, roster, vocab
from ..errors import Conflict, NotFound, ValidationError
from .auth import permission_required, review_required
from .db import get_db
from .downloads import DOCX, send_and_remove, temporary_file
from .forms import JudgementForm, ModerationForm

bp = Blueprint("judgements", __name__)

EVIDENCE_SHOWN = 200


# Who reads judgements and who builds the report: the access policy, through the
# one decorator every view uses (inspectors and administrators get the 403 page).
READERS_ONLY = "Judgements are for the lead inspector and moderators."


def _agency_id() -> int | None:
    """The agency of an agency-scope judgement (``?agency=ID``), or None. :raise 404: not an agency of the review."""
    raw = request.values.get("agency") or None
    if raw is None:
        return None
    review = review_required()
    if not raw.isdigit() or not any(a["id"] == int(raw) for a in reviews.agencies(get_db(), review["id"])):
        raise NotFound("No such agency in this review.")
    return int(raw)


@bp.get("/judgements")
@permission_required(policy.READ_JUDGEMENTS, READERS_ONLY)
def index():
    review = review_required()
    db = get_db()
    stored = judgements.list_judgements(db, g.actor, review["id"])
    by_criterion: dict[int, list[dict]] = {}
    for judgement in stored:
        by_criterion.setdefault(judgement["criterion_id"], []).append(judgement)
    return render_template(
        "judgements/index.html", areas=reviews.criteria_by_area(db, review["id"]), by_criterion=by_criterion,
        grades=judgements.scale(db, review["id"]), disagreements=judgements.disagreements(db, g.actor, review["id"]),
        locked=judgements.is_locked(db, review["id"]), may_report=judgements.may_build_report(g.actor))


def _workspace(criterion_code: str, agency_id: int | None, *, form: JudgementForm | None = None,
               moderation_form: ModerationForm | None = None, conflict: dict | None = None, status: int = 200):
    review = review_required()
    db = get_db()
    criterion = judgements.criterion(db, review["id"], criterion_code)
    judgement = judgements.find_judgement(db, review["id"], criterion_code, judgements.scope_of(agency_id), agency_id)
    grades = judgements.scale(db, review["id"])
    filters = {name: request.args.get(name) or None for name in ("strand", "finding_type", "q")}
    if filters["finding_type"] not in vocab.FINDING_TYPES:
        filters["finding_type"] = None
    evidence_all = judgements.evidence_for(db, review["id"], criterion_code, agency_id=agency_id)
    evidence = judgements.evidence_for(db, review["id"], criterion_code, agency_id=agency_id,
                                       strand=filters["strand"], finding_type=filters["finding_type"],
                                       search=filters["q"])
    if form is None:
        form = JudgementForm()
        if judgement:
            form.load_judgement(judgement)
    form.set_grades(grades)
    if moderation_form is None:
        moderation_form = ModerationForm()
        if judgement and judgement["moderated_grade"] is not None:
            moderation_form.moderated_grade.data = str(judgement["moderated_grade"])
    moderation_form.set_grades(grades)
    cited_ids = list(form.citations.data or [])
    stored_quotes = {c["public_id"]: c["quote"] for c in (judgement or {}).get("citations", [])}
    quotes = {public_id: request.form.get(f"quote-{public_id}", stored_quotes.get(public_id) or "")
              for public_id in cited_ids} if request.method == "POST" else stored_quotes
    # The cited findings come first and stay in the form whatever the filters
    # show, so that saving with a filter on never drops a citation.
    known = {row["public_id"]: row for row in evidence_all}
    stored_citations = {c["public_id"]: c for c in (judgement or {}).get("citations", [])}
    cited_rows = []
    for public_id in cited_ids:
        row = known.get(public_id) or stored_citations.get(public_id)
        if row is None:
            try:
                from ..findings import get_finding

                row = get_finding(db, public_id)
            except NotFound:
                continue
            if row["review_id"] != review["id"]:
                continue
        cited_rows.append(row)
    listed = [row for row in evidence if row["public_id"] not in set(cited_ids)]
    # A page of full texts: a criterion of a 20,000-finding review has thousands;
    # the counts above cover them all and the filters narrow the list.
    shown = listed[:EVIDENCE_SHOWN]
    agency = next((a for a in reviews.agencies(db, review["id"]) if a["id"] == agency_id), None)
    return render_template(
        "judgements/workspace.html", criterion=criterion, judgement=judgement, agency=agency, grades=grades,
        form=form, moderation_form=moderation_form, conflict=conflict,
        warnings=judgements.warnings(db, review["id"], criterion_code, judgement, agency_id=agency_id),
        evidence=shown, evidence_total=len(listed), cited_rows=cited_rows, quotes=quotes,
        counts=judgements.evidence_counts(evidence_all),
        filters=filters, strands=roster.review_strands(db, review["id"]), agencies=reviews.agencies(db, review["id"]),
        locked=judgements.is_locked(db, review["id"]), may_propose=judgements.may_propose(g.actor),
        may_moderate=judgements.may_moderate(g.actor),
    ), status


@bp.get("/judgements/<criterion_code>")
@permission_required(policy.READ_JUDGEMENTS, READERS_ONLY)
def workspace(criterion_code: str):
    return _workspace(criterion_code, _agency_id())


@bp.post("/judgements/<criterion_code>")
@permission_required(policy.READ_JUDGEMENTS, READERS_ONLY)
def propose(criterion_code: str):
    review = review_required()
    agency_id = _agency_id()
    form = JudgementForm()
    form.set_grades(judgements.scale(get_db(), review["id"]))
    fields = form.domain_fields(request.form)
    try:
        judgement = judgements.record_judgement(
            get_db(), g.actor, review_id=review["id"], criterion_code=criterion_code, scope=judgements.scope_of(agency_id),
            agency_id=agency_id, expected_version=_version(form.expected_version.data), **fields)
    except ValidationError as error:
        form.show_errors(error.field_errors or {"narrative": error.message})
        return _workspace(criterion_code, agency_id, form=form, status=422)
    except Conflict as error:
        current = judgements.find_judgement(get_db(), review["id"], criterion_code, judgements.scope_of(agency_id), agency_id)
        form.expected_version.data = str(current["version"]) if current else ""
        return _workspace(criterion_code, agency_id, form=form, conflict={"message": error.message, "current": current},
                          status=409)
    flash(f"The judgement for {criterion_code} has been saved (version {judgement['version']}).")
    return redirect(url_for("judgements.workspace", criterion_code=criterion_code, agency=agency_id))


@bp.post("/judgements/<criterion_code>/moderate")
@permission_required(policy.READ_JUDGEMENTS, READERS_ONLY)
def moderate(criterion_code: str):
    review = review_required()
    agency_id = _agency_id()
    form = ModerationForm()
    try:
        judgements.moderate_judgement(get_db(), g.actor, review_id=review["id"], criterion_code=criterion_code,
                                      scope=judgements.scope_of(agency_id), agency_id=agency_id,
                                      moderated_grade=form.moderated_grade.data or None, note=form.note.data)
    except ValidationError as error:
        form.show_errors(error.field_errors or {"note": error.message})
        return _workspace(criterion_code, agency_id, moderation_form=form, status=422)
    flash(f"The moderated grade for {criterion_code} has been recorded.")
    return redirect(url_for("judgements.workspace", criterion_code=criterion_code, agency=agency_id))


@bp.get("/judgements/<criterion_code>/history")
@permission_required(policy.READ_JUDGEMENTS, READERS_ONLY)
def history(criterion_code: str):
    review = review_required()
    agency_id = _agency_id()
    db = get_db()
    judgement = judgements.find_judgement(db, review["id"], criterion_code, judgements.scope_of(agency_id), agency_id)
    if judgement is None:
        raise NotFound(f"No judgement has been proposed for {criterion_code} yet.")
    return render_template("judgements/history.html", criterion=judgements.criterion(db, review["id"], criterion_code),
                           judgement=judgement, versions=judgements.history(db, judgement["id"], g.actor),
                           grades=judgements.scale(db, review["id"]))


@bp.get("/report/draft.docx")
@permission_required(policy.PROPOSE_JUDGEMENTS, "Only the lead inspector builds the draft report.")
def draft_report():
    """The draft report, built now from accepted evidence (``?include_unaccepted=1`` for all). :raise 403:"""
    review = review_required()
    include = request.args.get("include_unaccepted") == "1"
    filename = report.report_filename(review["slug"])
    path = temporary_file(".docx")
    try:
        built = report.build_report(get_db(), g.actor, review["id"], path, include_unaccepted=include,
                                    file_name=filename)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    response = send_and_remove(path, filename, DOCX)
    response.headers["X-Inspect-Kit-Sha256"] = built.manifest["sha256"]
    return response


def _version(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return 0  # a damaged version is stale: the library answers with a conflict
