"""``/coverage``: where the evidence is, as charts with their tables.

The criterion × strand heatmap (each cell a link to the findings behind it,
or to a page saying there are none and how to record some) and, on a page of
its own, the balance of strengths and areas for improvement by agency and by
criterion. Counts
cover only the strands the reader may read (:func:`inspect_kit.policy.finding_strands`):
an inspector sees their own strand's column (another strand's cell is a 403, as
another strand's finding is), leads and moderators every strand.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, render_template

from .. import chart_specs, charts, policy
from .auth import login_required, review_required
from .db import get_db

bp = Blueprint("coverage", __name__)


def readable_strands() -> str | bool:
    """The strands whose findings the signed-in actor reads. :raise 403: none (administrators)."""
    strands = policy.finding_strands(g.actor)
    if strands is False:
        abort(403, "Administrators manage the review and accounts; the coverage of the evidence is for "
                   "inspectors, leads and moderators.")
    return strands


@bp.get("/coverage")
@login_required
def index():
    review = review_required()
    strands = readable_strands()
    matrix = charts.coverage(get_db(), review["id"], strands)
    return render_template("coverage/index.html", matrix=matrix, strands=strands,
                           matrix_spec=chart_specs.coverage_spec(matrix))


@bp.get("/coverage/balance")
@login_required
def balance():
    """Strengths against areas for improvement by agency and by criterion, from the
    counts kept by triggers per finding type (:func:`inspect_kit.charts.balance`)."""
    review = review_required()
    strands = readable_strands()
    balance = charts.balance(get_db(), review["id"], strands)
    return render_template(
        "coverage/balance.html", balance=balance, strands=strands,
        agency_spec=chart_specs.balance_spec(balance["agencies"], balance["agency_summary"]),
        criterion_spec=chart_specs.balance_spec(balance["criteria"], balance["criterion_summary"]))


@bp.get("/coverage.json")
@login_required
def data():
    """The heatmap's cells as JSON, scoped like the page."""
    review = review_required()
    matrix = charts.coverage(get_db(), review["id"], readable_strands())
    return jsonify({key: matrix[key] for key in ("summary", "criteria", "strands", "cells")})


@bp.get("/coverage/<strand>/<criterion>")
@login_required
def cell(strand: str, criterion: str):
    """One cell: its findings, or that there are none and how to record some.

    :raise 403: another strand's cell, for an inspector (as another strand's finding is).
    :raise 404: no such strand or criterion in the review.
    """
    review = review_required()
    strands = readable_strands()
    if strands is not True and strand != strands:
        abort(403, "This cell holds another strand's evidence; ask your lead inspector if you need to see it.")
    db = get_db()
    matrix = charts.coverage(db, review["id"], strands)
    found = next((c for c in matrix["cells"] if c["strand"] == strand and c["criterion"] == criterion), None)
    if found is None:
        abort(404, f"No cell {strand} × {criterion} in this review's coverage.")
    total, rows = charts.cell_findings(db, review["id"], criterion, strand)
    return render_template("coverage/cell.html", cell=found, total=total, findings=rows,
                           limit=charts.CELL_FINDINGS_LIMIT,
                           may_record=policy.may_record_findings(g.actor) and g.actor.strand == strand,
                           may_record_other=policy.may_record_findings(g.actor))
