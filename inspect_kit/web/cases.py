"""Cases and their merged chronology. ``/cases/<case_ref>`` is linked to from
Datasette: keep it. Every inspector, lead and moderator reads every case's
chronology; inspectors and leads write it; administrators, who run the system
rather than the inspection, see no case content (:mod:`inspect_kit.policy`)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from .. import chart_specs, charts, chronology, policy, reviews
from ..finding_queries import citing_findings
from .auth import permission_required, review_required
from .db import get_db
from .errors import save_form
from .forms import EventForm

bp = Blueprint("cases", __name__)

DEFAULT_GAP_DAYS = charts.GAP_DAYS


@bp.get("/cases")
@permission_required(policy.READ_CHRONOLOGIES)
def index():
    review = review_required()
    return render_template("cases/index.html", cases=chronology.case_list(get_db(), review["id"]))


@bp.get("/cases/<case_ref>")
@permission_required(policy.READ_CHRONOLOGIES)
def show(case_ref: str):
    review = review_required()
    db = get_db()
    case = chronology.case_by_ref(db, review["id"], case_ref)
    try:
        gap_days = max(1, int(request.args.get("gap") or current_app.config.get("CHRONOLOGY_GAP_DAYS",
                                                                                 DEFAULT_GAP_DAYS)))
    except ValueError:
        gap_days = DEFAULT_GAP_DAYS
    events = chronology.case_chronology(db, case["id"])
    timeline = charts.timeline(events, gap_days)
    return render_template("cases/show.html", case=case, events=events, gap_days=gap_days,
                           citing=citing_findings(db, g.actor, case["id"]),
                           timeline=timeline, timeline_spec=chart_specs.timeline_spec(timeline),
                           lanes=charts.timeline_lanes(events),
                           agencies=sorted({event["agency"] for event in events}),
                           counts={flag: sum(event[flag] for event in events)
                                   for flag in ("key_event", "missed_opportunity", "good_practice")})


@bp.route("/cases/<case_ref>/events/new", methods=["GET", "POST"])
@permission_required(policy.WRITE_CHRONOLOGIES, "Chronology events are recorded by inspectors and leads.")
def new_event(case_ref: str):
    review = review_required()
    if not policy.may_write_chronology(g.actor):  # the library refuses too; this keeps the form from being shown
        abort(403, "Chronology events are recorded by inspectors and leads of the review; this account is not "
                   "linked to an inspector of it.")
    db = get_db()
    case = chronology.case_by_ref(db, review["id"], case_ref)
    form = EventForm()
    form.set_agencies(reviews.agencies(db, review["id"], current_only=True))
    status = 200
    if form.is_submitted():
        result, status = save_form(form, lambda: chronology.record_event(
            db, g.actor, form.domain_fields(case["id"]), client_uuid=form.client_uuid.data, review_id=review["id"]),
            field="description")
        if result is not None:
            flash("The event was already recorded; nothing was saved twice." if not result.created
                  else "The event has been added to the chronology.")
            return redirect(url_for("cases.show", case_ref=case_ref) + f"#event-{result.record['id']}")
    return render_template("cases/event_form.html", form=form, case=case), status
