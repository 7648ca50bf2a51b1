"""Safeguarding alerts: a child found at risk during fieldwork.

An alert is raised from a case or a finding and must reach the lead at once.
It moves ``raised → referred → responded → closed``; each step has a due date
so overdue ones stand out. Urgent alerts are due for referral the same day;
routine ones within 2 days, and a response within 1 (urgent) or 5 days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlite_utils import Database

from . import audit, lifecycle, policy, validation
from .actors import Actor
from .errors import Forbidden, InvalidTransition, NotFound, ValidationError
from .fields import ALERT, read_record
from .store import RecordResult, idempotent_write, insert_row, now, write_transaction

REFERRAL_DAYS = {"urgent": 0, "routine": 2}
RESPONSE_DAYS = {"urgent": 1, "routine": 5}


def raise_alert(db: Database, actor: Actor, *, review_id: int, urgency: str, concern: str,
                case_id: int | None = None, finding_id: int | None = None,
                referral_due: str | None = None, today: dt.date | None = None,
                client_uuid: str | None = None) -> dict[str, Any]:
    """Raise an alert about a case or finding; returns it.

    With ``client_uuid`` (the raising form's id) a repeat of the same request
    returns the alert already raised instead of raising a second one.

    :raises Forbidden: the actor may not raise alerts (:data:`policy.RAISE_ALERTS`).
    :raises ValidationError: no case or finding, bad urgency, empty concern, bad uuid.
    :raises Conflict: ``client_uuid`` already raised an alert with other content, or the
        review is closed (:mod:`inspect_kit.lifecycle`).
    """
    if not policy.may(actor, policy.RAISE_ALERTS):
        raise Forbidden("Inspectors raise safeguarding alerts; this account may not.")
    if client_uuid is not None:
        client_uuid = validation.submission_uuid(client_uuid)
    errors: dict[str, str] = {}
    typed = {"urgency": urgency, "concern": concern, "case_id": case_id, "referral_due": referral_due}
    values = read_record(ALERT, typed, errors, db=db, review_id=review_id)
    urgency, concern, case_id = values["urgency"], values["concern"], values["case_id"]
    if finding_id is not None:
        row = db.execute("SELECT case_id FROM findings WHERE id = ? AND review_id = ?", [finding_id, review_id]).fetchone()
        if row is None:
            errors["finding_id"] = "Choose a finding from this review"
        elif case_id is None:
            case_id = row[0]
    elif case_id is None and "case_id" not in errors:
        errors["case_id"] = "Say which case (child) the alert is about"
    due = values["referral_due"]
    if errors:
        raise ValidationError("The alert was not raised: " + "; ".join(errors.values()), field_errors=errors)
    today = today or dt.date.today()
    due = due or (today + dt.timedelta(days=REFERRAL_DAYS[urgency])).isoformat()
    with write_transaction(db):
        row = {"review_id": review_id, "case_id": case_id, "finding_id": finding_id, "urgency": urgency,
               "concern": concern, "status": "raised", "raised_by": actor.username, "raised_at": now(),
               "referral_due": due, "client_uuid": client_uuid}

        def create() -> int:
            lifecycle.require_may_add(db, review_id, lifecycle.SAFEGUARDING_ALERT)
            alert_id = insert_row(db, "safeguarding_alerts", row)
            audit.record(db, actor, "alert.raise", table="safeguarding_alerts", row_id=alert_id, after=row)
            return alert_id

        if client_uuid is None:
            return get_alert(db, create())
        same = {key: row[key] for key in ("review_id", "case_id", "finding_id", "urgency", "concern")}
        written = idempotent_write(
            db, "safeguarding_alerts", client_uuid, same, create,
            conflict="This form was already used to raise a different alert. Nothing more was raised; "
                     "reload the form to raise a new one.")
        return get_alert(db, written.id)


def refer(db: Database, actor: Actor, alert_id: int, *, referred_to: str, response_due: str | None = None,
          today: dt.date | None = None) -> dict[str, Any]:
    """Record that the concern was referred to the local authority (or police)."""
    errors: dict[str, str] = {}
    fields = {"referred_to": referred_to, "response_due": response_due}
    referred_to = validation.text(fields, "referred_to", errors, label="who it was referred to", required=True, limit=300,
                                  multiline=False)
    response_due = validation.iso_date(fields, "response_due", errors, label="response due date", required=False)
    if errors:
        raise ValidationError("; ".join(errors.values()), field_errors=errors)
    with write_transaction(db):
        alert = get_alert(db, alert_id)
        due = response_due or ((today or dt.date.today()) + dt.timedelta(days=RESPONSE_DAYS[alert["urgency"]])).isoformat()
        return _move(db, actor, alert, "raised", "referred",
                     {"referred_to": referred_to, "referred_at": now(), "response_due": due})


def record_response(db: Database, actor: Actor, alert_id: int, response: str) -> dict[str, Any]:
    """Record the agency's response to a referred alert."""
    errors: dict[str, str] = {}
    response = validation.text({"response": response}, "response", errors, label="response", required=True,
                               limit=validation.COMMENT_LIMIT)
    if errors:
        raise ValidationError(errors["response"], field_errors=errors)
    with write_transaction(db):
        alert = get_alert(db, alert_id)
        return _move(db, actor, alert, "referred", "responded", {"response": response, "responded_at": now()})


def close(db: Database, actor: Actor, alert_id: int, note: str | None = None) -> dict[str, Any]:
    """Close an alert once the response has been checked, with an optional closing note.

    The note follows the same text rule as every other field (it is kept on
    the audit row, which leads read in Datasette).

    :raises ValidationError: the note breaks the text rule or is over 5,000 characters.
    :raises InvalidTransition: the alert has no recorded response yet, or is closed.
    """
    errors: dict[str, str] = {}
    note = validation.text({"note": note}, "note", errors, label="closing note", limit=validation.COMMENT_LIMIT)
    if errors:
        raise ValidationError(errors["note"], field_errors=errors)
    with write_transaction(db):
        alert = get_alert(db, alert_id)
        return _move(db, actor, alert, "responded", "closed", {"closed_at": now()}, detail=note)


# A lead's steps, and the status each leads to.
STEPS = {"refer": "referred", "respond": "responded", "close": "closed"}


def take_step(db: Database, actor: Actor, alert_id: int, step: str, *, referred_to: str | None = None,
              response_due: str | None = None, response: str | None = None,
              note: str | None = None) -> RecordResult:
    """Take a lead's ``step`` (:data:`STEPS`) with :func:`refer`, :func:`record_response` or :func:`close`.

    A step that repeats the one stored (a double click or a retry: the alert
    is already in the step's status with the same typed text) is a replay:
    the alert comes back with ``created`` False and nothing is written. A
    different referral or response by another lead stays a refusal, so its
    typed text is not dropped with an "already done" message.

    :raises InvalidTransition: the alert is not at the step's starting status (and not a replay).
    :raises ValidationError, Forbidden: as the step's function.
    """
    try:
        if step == "refer":
            alert = refer(db, actor, alert_id, referred_to=referred_to or "", response_due=response_due)
        elif step == "respond":
            alert = record_response(db, actor, alert_id, response or "")
        elif step == "close":
            alert = close(db, actor, alert_id, note)
        else:
            raise ValueError(f"no alert step {step!r}")
    except InvalidTransition:
        stored = get_alert(db, alert_id)
        if stored["status"] != STEPS[step]:
            raise
        typed = {"refer": (referred_to, stored["referred_to"]), "respond": (response, stored["response"])}.get(step)
        if typed is not None and (typed[0] or "").replace("\r\n", "\n").strip() != (typed[1] or ""):
            raise
        return RecordResult(stored, created=False)  # closing: its optional note is in the audit log
    return RecordResult(alert, created=True)


def get_alert(db: Database, alert_id: int) -> dict[str, Any]:
    """:raises NotFound:"""
    rows = list(db.query(
        "SELECT safeguarding_alerts.*, cases.case_ref, findings.public_id AS finding_public_id"
        " FROM safeguarding_alerts LEFT JOIN cases ON cases.id = safeguarding_alerts.case_id"
        " LEFT JOIN findings ON findings.id = safeguarding_alerts.finding_id WHERE safeguarding_alerts.id = ?",
        [alert_id]))
    if not rows:
        raise NotFound(f"No safeguarding alert {alert_id}.")
    return rows[0]


def open_alerts(db: Database, review_id: int, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Alerts not yet closed, urgent first, each with ``overdue`` (bool) and ``due``."""
    today_iso = (today or dt.date.today()).isoformat()
    alerts = list(db.query(
        "SELECT safeguarding_alerts.*, cases.case_ref FROM safeguarding_alerts"
        " LEFT JOIN cases ON cases.id = safeguarding_alerts.case_id"
        " WHERE safeguarding_alerts.review_id = ? AND status != 'closed'"
        " ORDER BY urgency = 'urgent' DESC, raised_at", [review_id]))
    for alert in alerts:
        alert["due"] = alert["referral_due"] if alert["status"] == "raised" else alert["response_due"]
        alert["overdue"] = alert["status"] in ("raised", "referred") and bool(alert["due"]) and alert["due"] < today_iso
    return alerts


def list_alerts(db: Database, review_id: int, *, status: str | None = None,
                today: dt.date | None = None) -> list[dict[str, Any]]:
    """Every alert of the review (or those with ``status``): open ones first, urgent
    first, then newest; each with ``due`` (the next step's due date) and ``overdue``."""
    today_iso = (today or dt.date.today()).isoformat()
    where, params = ["safeguarding_alerts.review_id = ?"], [review_id]
    if status:
        where.append("safeguarding_alerts.status = ?")
        params.append(status)
    alerts = list(db.query(
        "SELECT safeguarding_alerts.*, cases.case_ref, findings.public_id AS finding_public_id"
        " FROM safeguarding_alerts LEFT JOIN cases ON cases.id = safeguarding_alerts.case_id"
        " LEFT JOIN findings ON findings.id = safeguarding_alerts.finding_id"
        f" WHERE {' AND '.join(where)}"
        " ORDER BY status = 'closed', urgency = 'urgent' DESC, raised_at DESC, safeguarding_alerts.id DESC", params))
    for alert in alerts:
        _annotate_due(alert, today_iso)
    return alerts


def _annotate_due(alert: dict[str, Any], today_iso: str) -> None:
    alert["due"] = {"raised": alert["referral_due"], "referred": alert["response_due"]}.get(alert["status"])
    alert["overdue"] = bool(alert["due"]) and alert["due"] < today_iso


def _move(db: Database, actor: Actor, alert: dict[str, Any], from_status: str, to_status: str,
          updates: dict[str, Any], detail: str | None = None) -> dict[str, Any]:
    """:raises Forbidden: the actor may not progress alerts (:data:`policy.PROGRESS_ALERTS`)."""
    if not policy.may(actor, policy.PROGRESS_ALERTS):
        raise Forbidden("Lead inspectors refer, record the response to and close safeguarding alerts.")
    if alert["status"] != from_status:
        raise InvalidTransition(
            f"This alert is {alert['status']}; it can only become {to_status} when it is {from_status}.")
    updates = {**updates, "status": to_status}
    db.execute(f"UPDATE safeguarding_alerts SET {', '.join(f'{k} = ?' for k in updates)} WHERE id = ?",
               [*updates.values(), alert["id"]])
    audit.record(db, actor, f"alert.{to_status}", table="safeguarding_alerts", row_id=alert["id"],
                 before={"status": from_status}, after=updates, detail=detail)
    return get_alert(db, alert["id"])


