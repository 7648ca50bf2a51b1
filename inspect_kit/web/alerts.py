"""Safeguarding alerts: raised from a finding or a case by an inspector, then
referred, responded to and closed by a lead; every inspector, lead and
moderator reads them (:mod:`inspect_kit.policy`).
Open alerts are on the leads' dashboard from the moment they are raised."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from .. import alerts, chronology, policy, reviews, vocab
from ..errors import NotFound, ValidationError
from .auth import permission_required, review_required
from .db import get_db
from .errors import save_form
from .findings import review_finding
from .forms import AlertForm, AlertStepForm

bp = Blueprint("alerts", __name__)

STEPS = alerts.STEPS


@bp.get("/alerts")
@permission_required(policy.READ_ALERTS)
def index():
    review = review_required()
    status = request.args.get("status")
    status = status if status in vocab.ALERT_STATUSES else None
    return render_template("alerts/index.html", alerts=alerts.list_alerts(get_db(), review["id"], status=status),
                           status=status)


@bp.route("/alerts/new", methods=["GET", "POST"])
@permission_required(policy.RAISE_ALERTS,
                     "Inspectors and lead inspectors raise safeguarding alerts; moderators and administrators do not.")
def new():
    review = review_required()
    db = get_db()
    form = AlertForm()
    form.set_cases(reviews.cases_to_choose(db, review["id"], g.actor.inspector_id))
    finding = None
    finding_ref = form.finding.data or request.args.get("finding")
    if finding_ref:
        finding = review_finding(finding_ref)
        form.finding.data = finding["public_id"]
    if not form.is_submitted():
        case_ref = request.args.get("case")
        if case_ref:
            form.case_id.data = str(chronology.case_by_ref(db, review["id"], case_ref)["id"])
        elif finding and finding["case_id"]:
            form.case_id.data = str(finding["case_id"])
    status = 200
    if form.is_submitted():
        # One way to save a form: a refusal next to the fields, a closed review or a full disk
        # said above them, and the typed concern kept (web.errors.save_form).
        alert, status = save_form(form, lambda: alerts.raise_alert(
            db, g.actor, review_id=review["id"], urgency=form.urgency.data, concern=form.concern.data,
            case_id=form.case_id.data or None, finding_id=finding["id"] if finding else None,
            client_uuid=form.client_uuid.data), field="concern")
        if alert is not None:
            flash(f"Safeguarding alert {alert['id']} has been raised; "
                  "the lead inspector sees it on their dashboard now.")
            return redirect(url_for("alerts.show", alert_id=alert["id"]))
    return render_template("alerts/new.html", form=form, finding=finding), status


@bp.get("/alerts/<int:alert_id>")
@permission_required(policy.READ_ALERTS)
def show(alert_id: int):
    return render_alert(alert_id)


def review_alert(alert_id: int) -> dict:
    """An alert of the current review. :raise 404: no review yet, or no such alert in it."""
    review = review_required()
    alert = alerts.get_alert(get_db(), alert_id)
    if alert["review_id"] != review["id"]:
        raise NotFound(f"No safeguarding alert {alert_id} in this review.")
    return alert


def render_alert(alert_id: int, form: AlertStepForm | None = None, status: int = 200):
    """The alert's page; a step's form may come back with errors."""
    alert = review_alert(alert_id)
    return render_template("alerts/show.html", alert=alert, form=form or AlertStepForm(),
                           may_act=policy.may(g.actor, policy.PROGRESS_ALERTS)), status


@bp.post("/alerts/<int:alert_id>/<step>")
@permission_required(policy.PROGRESS_ALERTS, "Lead inspectors refer, record the response to and close alerts.")
def move(alert_id: int, step: str):
    if step not in STEPS:
        abort(404)
    review_alert(alert_id)  # another review's alert is not moved from here
    db = get_db()
    form = AlertStepForm()
    try:
        result = alerts.take_step(db, g.actor, alert_id, step, referred_to=form.referred_to.data,
                                  response_due=form.response_due.iso_or_raw(), response=form.response.data,
                                  note=form.note.data or None)
    except ValidationError as error:
        form.show_errors(error.field_errors)
        form.step.data = step
        return render_alert(alert_id, form=form, status=422)
    # Otherwise a refused step raises on: the 409 page hands back what was typed.
    if not result.created:
        flash(f"Alert {alert_id} was already {STEPS[step]}.")
        return redirect(url_for("alerts.show", alert_id=alert_id))
    flash(f"Alert {alert_id} is now {STEPS[step]}.")
    return redirect(url_for("alerts.show", alert_id=alert_id))
