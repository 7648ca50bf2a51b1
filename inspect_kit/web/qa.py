"""Quality assurance: the leads' and moderators' queue, and the QA actions
(submit, accept, return with a comment, withdraw with a reason) posted from
a finding's page."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for

from .. import policy, qa
from ..errors import InvalidTransition, ValidationError
from ..forms import QaForm
from .auth import login_required, permission_required, review_required
from .db import get_db
from .findings import render_finding, review_finding

bp = Blueprint("qa", __name__)

DONE = {"submit": "submitted for QA", "accept": "accepted", "return": "returned to its author",
        "withdraw": "withdrawn"}


@bp.get("/qa")
@permission_required(policy.QA_FINDINGS)
def queue():
    review = review_required()
    return render_template("qa/queue.html", queue=qa.queue(get_db(), review["id"]))


@bp.post("/findings/<public_id>/qa")
@login_required
def act(public_id: str):
    db = get_db()
    finding = review_finding(public_id)
    form = QaForm()
    action = form.action.data
    try:
        qa.perform(db, g.actor, finding["id"], action, form.comment.data)
    except ValidationError as error:
        form.show_errors(error.field_errors or {"comment": error.message})
        return render_finding(finding, qa_form=form, status=422)
    except InvalidTransition:
        last = (qa.history(db, finding["id"]) or [{}])[-1]
        typed = (form.comment.data or "").replace("\r\n", "\n").strip()
        if (last.get("action"), last.get("actor"), last.get("comment") or "") == (action, g.actor.username, typed):
            # The same button pressed twice: the first press did the work. (Another
            # comment is not dropped: the 409 page hands it back.)
            flash(f"{public_id} was already {DONE.get(action, action)}.")
            return redirect(url_for("findings.show", public_id=public_id))
        raise
    flash(f"{public_id} has been {DONE.get(action, action)}.")
    if action in ("accept", "return") and policy.may(g.actor, policy.QA_FINDINGS):
        return redirect(url_for("qa.queue"))
    return redirect(url_for("findings.show", public_id=public_id))
