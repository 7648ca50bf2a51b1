"""What each person needs to see first: their own records, the QA queue,
open safeguarding alerts and the time left to the draft deadline.

One function per role's panel; the intake app's dashboard page only renders
what these return.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlite_utils import Database

from . import alerts, qa
from .actors import Actor

RECENT_LIMIT = 20


def days_left(review: dict[str, Any], today: dt.date | None = None) -> int | None:
    """Whole days from ``today`` to the review's draft deadline (negative when past), or None without one."""
    if not review.get("draft_due"):
        return None
    return (dt.date.fromisoformat(review["draft_due"]) - (today or dt.date.today())).days


def my_findings(db: Database, actor: Actor, review_id: int) -> dict[str, list[dict[str, Any]]]:
    """The actor's own findings by QA status: ``draft``, ``submitted`` and ``returned``
    (returned ones carry ``return_comment``/``returned_by``/``returned_at``, the latest return)."""
    panels: dict[str, list[dict[str, Any]]] = {"draft": [], "submitted": [], "returned": []}
    if actor.inspector_id is None:
        return panels
    rows = db.query(
        """SELECT findings.id, findings.public_id, findings.qa_status, findings.finding_type, findings.collected_on,
                  findings.updated_at, substr(findings.evidence_text, 1, 160) AS evidence_excerpt,
                  cases.case_ref, agencies.name AS agency,
                  ret.comment AS return_comment, ret.actor AS returned_by, ret.at AS returned_at
           FROM findings
           LEFT JOIN cases ON cases.id = findings.case_id
           LEFT JOIN agencies ON agencies.id = findings.agency_id
           LEFT JOIN qa_actions AS ret ON ret.id = (
               SELECT max(id) FROM qa_actions WHERE finding_id = findings.id AND action = 'return')
           WHERE findings.review_id = ? AND findings.inspector_id = ?
             AND findings.qa_status IN ('draft', 'submitted', 'returned')
           ORDER BY findings.updated_at DESC, findings.id DESC""",
        [review_id, actor.inspector_id])
    for row in rows:
        if len(panels[row["qa_status"]]) < RECENT_LIMIT:
            panels[row["qa_status"]].append(row)
    return panels


def qa_summary(db: Database, review_id: int, today: dt.date | None = None) -> dict[str, Any]:
    """For leads and moderators: the QA queue size, its oldest item's age and the open alerts
    (urgent first, each with ``overdue``)."""
    queue = qa.queue(db, review_id)
    open_alerts = alerts.open_alerts(db, review_id, today=today)
    return {
        "queue_size": len(queue),
        "oldest_age_days": max((row["age_days"] or 0 for row in queue), default=None),
        "open_alerts": open_alerts,
        "urgent_alerts": sum(1 for alert in open_alerts if alert["urgency"] == "urgent"),
        "overdue_alerts": sum(1 for alert in open_alerts if alert["overdue"]),
    }


def review_summary(db: Database, review_id: int) -> dict[str, Any]:
    """For administrators: counts of the review's set-up and evidence."""

    def count(sql: str) -> int:
        return db.execute(sql, [review_id]).fetchone()[0]

    by_status = dict(db.execute(
        "SELECT qa_status, count(*) FROM findings WHERE review_id = ? GROUP BY qa_status", [review_id]).fetchall())
    return {
        "agencies": count("SELECT count(*) FROM agencies WHERE review_id = ?"),
        "inspectors": count("SELECT count(*) FROM inspectors WHERE review_id = ?"),
        "cases": count("SELECT count(*) FROM cases WHERE review_id = ?"),
        "events": count("SELECT count(*) FROM chronology_events WHERE review_id = ?"),
        "findings": sum(by_status.values()),
        "findings_by_status": by_status,
        "alerts_open": count("SELECT count(*) FROM safeguarding_alerts WHERE review_id = ? AND status != 'closed'"),
    }
