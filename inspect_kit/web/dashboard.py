"""``/``: the first page after sign-in, different for each role."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from .. import accounts, chart_specs, charts, dashboard, policy
from .auth import login_required
from .db import get_db, get_private_db

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def index():
    db = get_db()
    review = g.review
    context = {"review": review, "days_left": dashboard.days_left(review) if review else None,
               "recent_limit": dashboard.RECENT_LIMIT}
    if review is not None:
        context["mine"] = dashboard.my_findings(db, g.actor, review["id"])
        if policy.may(g.actor, policy.QA_FINDINGS):
            context["qa"] = dashboard.qa_summary(db, review["id"])
            # The lead's pictures: evidence coming in against the deadline, and how long QA keeps it waiting.
            strands = policy.finding_strands(g.actor)
            progress = charts.evidence_by_day(db, review, strands)
            ageing = charts.qa_ageing(db, review["id"], strands=strands)
            context.update(progress=progress, progress_spec=chart_specs.evidence_by_day_spec(progress),
                           ageing=ageing, ageing_spec=chart_specs.qa_ageing_spec(ageing))
        if policy.may(g.actor, policy.ADMINISTER):
            context["summary"] = dashboard.review_summary(db, review["id"])
    if policy.may(g.actor, policy.ADMINISTER):
        context["accounts_count"] = len(accounts.list_accounts(get_private_db()))
    return render_template("dashboard/index.html", **context)
