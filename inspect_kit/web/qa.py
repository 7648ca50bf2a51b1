"""Quality assurance: the leads' and moderators' queue, and the QA actions
(submit, accept, return with a comment, withdraw with a reason) posted from
a finding's page.

Each QA form on the page carries the finding's version shown
(``expected_version``) and a client uuid made when the page was drawn: the
library refuses an action on a version the reader never saw, and answers a
repeated post of the same form once.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from .. import finding_queries, findings, policy, qa
from ..errors import StaleVersion, ValidationError
from . import listing
from .auth import login_required, permission_required, review_required
from .db import get_db
from .findings import render_finding, review_finding
from .forms import QaForm, new_client_uuid

bp = Blueprint("qa", __name__)

DONE = {"submit": "submitted for QA", "accept": "accepted", "return": "returned to its author",
        "withdraw": "withdrawn"}


@bp.get("/qa")
@permission_required(policy.QA_FINDINGS)
def queue():
    """The queue, filtered by strand, inspector and case and sorted, a page at a time, with
    the number of queued records for each filter's options."""
    review = review_required()
    db = get_db()
    filters, sort = listing.queue_view(request.args)
    args = listing.queue_args(filters, sort)
    if (tidy := listing.tidy_url("qa.queue", request.args, args)) is not None:
        return redirect(tidy)
    total = qa.queue_size(db, g.actor, review["id"], filters)
    page, pages = listing.page_number(request.args, total)
    rows = qa.queue(db, review["id"], filters, actor=g.actor, sort=sort, limit=listing.PAGE_SIZE,
                    offset=(page - 1) * listing.PAGE_SIZE)
    return render_template(
        "qa/queue.html", queue=rows, filters=filters, sort=sort, sorts=listing.QUEUE_SORT_LABELS, total=total,
        first=(page - 1) * listing.PAGE_SIZE + 1, args=args,
        choices=finding_queries.filter_choices(db, g.actor, review["id"]),
        counts=qa.queue_facets(db, g.actor, review["id"], filters),
        pagination=listing.pagination("qa.queue", page, pages, {**args}))


@bp.post("/findings/<public_id>/qa")
@login_required
def act(public_id: str):
    db = get_db()
    finding = review_finding(public_id)
    form = QaForm()
    action = form.action.data
    try:
        qa.perform(db, g.actor, finding["id"], action, form.comment.data,
                   expected_version=form.version_read(), client_uuid=form.client_uuid.data or None)
    except StaleVersion as error:
        # The author saved a new version after this page was drawn: show it,
        # keep the typed comment, and let the reader act again on what they now see.
        current = findings.get_finding(db, finding["id"], g.actor)
        form.expected_version.data = str(error.current_version)
        form.client_uuid.data = new_client_uuid()
        form.form_errors.append(error.message)
        return render_finding(current, qa_form=form, status=409)
    except ValidationError as error:
        form.show_errors(error.field_errors or {"comment": error.message})
        return render_finding(finding, qa_form=form, status=422)
    flash(f"{public_id} has been {DONE.get(action, action)}.")
    if action in ("accept", "return") and policy.may(g.actor, policy.QA_FINDINGS):
        # Accept and next: the record after this one in the queue as the reader had it filtered and sorted.
        filters, sort = listing.queue_view(request.form)
        args = listing.queue_args(filters, sort)
        following = qa.next_in_queue(db, g.actor, finding["review_id"], finding["id"], filters, sort)
        if action == "accept" and following is not None:
            return redirect(url_for("findings.show", public_id=following["public_id"], **args, _anchor="qa"))
        return redirect(url_for("qa.queue", **args))
    return redirect(url_for("findings.show", public_id=public_id))
