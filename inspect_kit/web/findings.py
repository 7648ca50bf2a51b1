"""Evidence records: the list, the form (new and edit), the record's page and
its history. ``/findings/new``, ``/findings/<public_id>`` and
``/findings/<public_id>/edit`` are linked to from Datasette: keep them.

Every rule (who may see or edit, what is valid, idempotency by client uuid,
lost-update protection by version) is the library's; these views only move
form data in and pages out.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from .. import attachments, chronology, finding_queries, findings, policy, qa, reviews
from ..errors import Conflict, InvalidTransition, NotFound
from ..finding_queries import cited_events
from . import listing
from .auth import login_required, review_required
from .db import get_db
from .errors import save_form
from .forms import AttachmentForm, FindingForm, QaForm

bp = Blueprint("findings", __name__)


def require_author() -> None:
    """Inspectors and leads linked to an inspector of the review record evidence (:mod:`inspect_kit.policy`)."""
    if not policy.may_record_findings(g.actor):
        abort(403, "Evidence is recorded by inspectors and leads of the review. Administrators manage the review "
                   "but are not authors; moderators quality-assure evidence.")


def require_reader() -> None:
    """Administrators do not read raw evidence: they run the system, not the inspection."""
    if policy.finding_strands(g.actor) is False:
        abort(403, "Administrators manage the review and accounts; evidence records are for inspectors, "
                   "leads and moderators.")


def review_finding(finding_ref: int | str) -> dict:
    """A finding of the current review (by public id or row id) that the signed-in actor may read.

    An evidence store may hold more than one review, and accounts are not tied
    to one; evidence of another review is not found here, as in the API
    (``api.review_finding``), whatever the actor's role or strand.

    :raise 404: no review yet, or no such finding in the current review.
    :raise 403: the actor may not read the finding (another strand, or an administrator).
    """
    review = review_required()
    db = get_db()
    finding = findings.get_finding(db, finding_ref)
    if finding["review_id"] != review["id"]:
        raise NotFound(f"No finding {finding_ref}.")  # for every caller, before any other answer
    require_reader()
    return findings.get_finding(db, finding["id"], g.actor)


# The form's "Show this case's events" button: re-shows the form with the chosen case's events, saving nothing.
SHOW_EVENTS = "events"


def event_months(events: list[dict]) -> list[tuple[str, list[dict]]]:
    """A chronology's events grouped by month of the event date (``March 2008``), in date order."""
    months: dict[str, list[dict]] = {}
    for event in events:
        months.setdefault(dt.date.fromisoformat(event["event_date"]).strftime("%B %Y"), []).append(event)
    return list(months.items())


def _form_context(form: FindingForm, review: dict, stored_criteria: dict[str, str] | None = None) -> dict:
    case_id = form.chosen_case_id()
    return {
        "form": form,
        "review": review,
        "event_months": event_months(chronology.case_chronology(get_db(), case_id)) if case_id is not None else [],
        "cited": set(form.event_ids.data or []),
        "areas": reviews.criteria_by_area(get_db(), review["id"]),
        "selected": set(form.criteria.data or []),
        "relevance": {code: form.relevance_of(code, request.form, stored_criteria or {})
                      for code in (form.criteria.data or [])},
    }


def _lists(form: FindingForm, review: dict, finding: dict | None = None) -> None:
    db = get_db()
    # Retired agencies are not offered for new records; an edited record keeps its own.
    form.set_review_lists(reviews.cases_to_choose(db, review["id"], g.actor.inspector_id),
                          reviews.agencies(db, review["id"], current_only=True,
                                           keep=finding["agency_id"] if finding else None))


@bp.get("/findings")
@login_required
def index():
    """The records the reader may see, searched and filtered from the query string, a page at a time."""
    review = review_required()
    require_reader()
    db = get_db()
    filters, errors = listing.finding_filters(request.args)
    args = listing.query_args(filters)
    if not errors and (tidy := listing.tidy_url("findings.index", request.args, args)) is not None:
        return redirect(tidy)
    total = finding_queries.count_findings(db, g.actor, review["id"], filters)
    page, pages = listing.page_number(request.args, total)
    rows = finding_queries.list_findings(db, g.actor, review["id"], filters=filters, limit=listing.PAGE_SIZE,
                                         offset=(page - 1) * listing.PAGE_SIZE)
    return render_template(
        "findings/index.html", findings=rows, filters=filters, errors=errors, total=total,
        first=(page - 1) * listing.PAGE_SIZE + 1, args=args,
        choices=finding_queries.filter_choices(db, g.actor, review["id"]),
        words_cut=len(filters.text.split()) > finding_queries.SEARCH_WORDS,
        pagination=listing.pagination("findings.index", page, pages, args))


@bp.route("/findings/new", methods=["GET", "POST"])
@login_required
def new():
    review = review_required()
    require_author()
    db = get_db()
    form = FindingForm()
    _lists(form, review)
    if not form.is_submitted() and request.args.get("criterion"):
        # A coverage cell's "record evidence for this criterion" link (an unknown code ticks nothing).
        form.criteria.data = [request.args["criterion"]]
    status = 200
    if form.is_submitted() and request.form.get("action") != SHOW_EVENTS:
        submit = request.form.get("action") == "submit"
        result, status = save_form(form, lambda: findings.record_finding(
            db, g.actor, form.domain_fields(request.form), client_uuid=form.client_uuid.data, submit=submit,
            review_id=review["id"]), field="evidence_text")
        if result is not None:
            record = result.record
            if not result.created:
                # A double click, a back-button resubmit or a retry: the record exists already.
                flash(f"{record['public_id']} was already saved; nothing was recorded twice.")
            elif record["qa_status"] == "submitted":
                flash(f"{record['public_id']} has been submitted for QA.")
            else:
                flash(f"{record['public_id']} has been saved as a draft.")
            return redirect(url_for("findings.show", public_id=record["public_id"]))
    return render_template("findings/form.html", mode="new", **_form_context(form, review)), status


@bp.route("/findings/<public_id>/edit", methods=["GET", "POST"])
@login_required
def edit(public_id: str):
    review = review_required()
    db = get_db()
    finding = review_finding(public_id)
    if not policy.may_edit_text(g.actor, finding):
        abort(403, "Only the inspector who recorded this finding can edit it.")
    if finding["qa_status"] == "withdrawn":
        raise InvalidTransition("This finding was withdrawn and can no longer be edited.")
    form = FindingForm()
    _lists(form, review, finding)
    status, conflict = 200, None
    if not form.is_submitted():
        form.load_finding(finding)
    elif request.form.get("action") == SHOW_EVENTS:
        pass  # the same form again, with the chosen case's events to choose from
    else:
        fields = form.domain_fields(request.form)
        submit = request.form.get("action") == "submit"
        try:
            updated, status = save_form(form, lambda: findings.edit_finding(
                db, g.actor, finding["id"], fields, reason=form.reason.data,
                expected_version=_version(form.expected_version.data), submit=submit), field="evidence_text")
        except Conflict as error:
            current = findings.get_finding(db, finding["id"])
            conflict, status, updated = {"message": error.message, "current": current}, 409, None
            form.expected_version.data = str(current["version"])
        if updated is not None:
            flash(f"{public_id} has been saved (version {updated['version']})."
                  + (" It is in the QA queue." if updated["qa_status"] == "submitted" else ""))
            return redirect(url_for("findings.show", public_id=public_id))
    returns = [action for action in qa.history(db, finding["id"]) if action["action"] == "return"]
    return render_template("findings/form.html", mode="edit", finding=finding, conflict=conflict,
                           needs_reason=finding["qa_status"] != "draft",
                           last_return=returns[-1] if returns and finding["qa_status"] == "returned" else None,
                           **_form_context(form, review, finding["criteria"])), status


def _version(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0  # a damaged version is stale: the library answers with a conflict


@bp.get("/findings/<public_id>")
@login_required
def show(public_id: str):
    return render_finding(review_finding(public_id))


def render_finding(finding: dict, *, qa_form: QaForm | None = None, attachment_form: AttachmentForm | None = None,
                   status: int = 200):
    """The finding's page; the QA and upload forms may come back with errors."""
    db = get_db()
    qa_history = qa.history(db, finding["id"])
    returns = [action for action in qa_history if action["action"] == "return"]
    criteria = {criterion["code"]: criterion for area in reviews.criteria_by_area(db, finding["review_id"])
                for criterion in area["criteria"]}
    actions = qa.allowed_actions(g.actor, finding)
    # Opened from the QA queue: the queue's filters and sort go with each QA form, so that
    # accepting opens the next record of the same queue.
    queue_filters, queue_sort = listing.queue_view(request.values)
    following = (qa.next_in_queue(db, g.actor, finding["review_id"], finding["id"], queue_filters, queue_sort)
                 if "accept" in actions else None)
    return render_template(
        "findings/show.html",
        finding=finding,
        cited_events=cited_events(db, finding["id"]),
        criteria=criteria,
        qa_history=qa_history,
        last_return=returns[-1] if returns and finding["qa_status"] == "returned" else None,
        actions=actions,
        queue_args=listing.queue_args(queue_filters, queue_sort),
        next_in_queue=following,
        is_author=policy.is_author(g.actor, finding),
        qa_form=qa_form or QaForm(),
        attachments=attachments.list_attachments(db, finding["id"]),
        may_attach=attachments.may_attach(g.actor, finding),
        attachment_form=attachment_form or AttachmentForm(),
    ), status


@bp.get("/findings/<public_id>/history")
@login_required
def history(public_id: str):
    review = review_required()
    db = get_db()
    finding = review_finding(public_id)
    versions = findings.finding_history(db, finding["id"], g.actor)
    names = {
        "case_id": {case["id"]: case["case_ref"] for case in reviews.cases(db, review["id"])},
        "agency_id": {agency["id"]: agency["name"] for agency in reviews.agencies(db, review["id"])},
    }
    return render_template("findings/history.html", finding=finding, versions=versions, names=names)
