"""Chronology events: what happened to a child, by which agency, when.

Events are recorded against a case and an agency (a service), with the
practitioner's role, never their name. A case's merged chronology puts every
agency's events in one date order, so gaps and missed opportunities show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from . import audit, lifecycle, policy, references, validation
from .actors import Actor
from .errors import Forbidden, NotFound, ValidationError
from .fields import CHRONOLOGY_EVENT, read_record
from .store import RecordResult, idempotent_write, insert_row, now, write_transaction

FIELDS = tuple(field.name for field in CHRONOLOGY_EVENT)


def normalise(db: Database, review_id: int, fields: Mapping[str, Any], *, today: dt.date | None = None) -> dict[str, Any]:
    """Check an event's input and return the values to store.

    :raises ValidationError: with ``field_errors`` naming every fault.
    """
    fields = dict(fields)
    errors: dict[str, str] = {}
    values = read_record(CHRONOLOGY_EVENT, fields, errors, db=db, review_id=review_id, today=today)
    if errors:
        raise ValidationError("There is a problem: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
                              field_errors=errors)
    return values


def record_event(db: Database, actor: Actor, fields: Mapping[str, Any], *, client_uuid: str,
                 review_id: int | None = None, audit_detail: str | None = None) -> RecordResult:
    """Record a chronology event; idempotent by ``client_uuid`` like findings.

    ``audit_detail`` is kept on the creation's audit row (an import names its workbook and row).

    :raises Forbidden: the actor may not write chronologies (administrators,
        moderators: :data:`policy.WRITE_CHRONOLOGIES`) or is not linked to an
        inspector of the review: every event names the inspector who recorded it.
    :raises ValidationError: bad input or uuid.
    :raises Conflict: the uuid was already used for different content, or the
        review's status takes no new events (:mod:`inspect_kit.lifecycle`).
    """
    if not policy.may_write_chronology(actor):
        raise Forbidden("Chronology events are recorded by inspectors and leads linked to an inspector of the "
                        "review; this account is not one.")
    review_id = int(review_id if review_id is not None else fields.get("review_id") or 0)
    uuid = validation.submission_uuid(client_uuid)
    values = normalise(db, review_id, fields)
    digest = validation.content_hash({"review_id": review_id, **values})
    with write_transaction(db):
        def create() -> int:
            # After the replay check, as for findings: an event sent before the status moved on is still stored.
            lifecycle.require_may_add(db, review_id, lifecycle.CHRONOLOGY_EVENT)
            row = {"client_uuid": uuid, "content_hash": digest, "review_id": review_id, **values,
                   "recorded_by": actor.inspector_id, "created_at": now()}
            event_id = insert_row(db, "chronology_events", row)
            audit.record(db, actor, "chronology_event.create", table="chronology_events", row_id=event_id,
                         after=row, detail=audit_detail)
            return event_id

        written = idempotent_write(db, "chronology_events", uuid, {"content_hash": digest}, create,
                                   conflict="This submission id was already used for a different event; reload "
                                            "the form to record a new one.")
        return RecordResult(get_event(db, written.id), created=written.created)


EVENT_SELECT = """
    SELECT chronology_events.*, cases.case_ref, agencies.name AS agency, agencies.organisation,
           agencies.agency_type, inspectors.code AS recorded_by_code
    FROM chronology_events
    JOIN cases ON cases.id = chronology_events.case_id
    JOIN agencies ON agencies.id = chronology_events.agency_id
    LEFT JOIN inspectors ON inspectors.id = chronology_events.recorded_by
"""


def get_event(db: Database, event_id: int) -> dict[str, Any]:
    """:raises NotFound:"""
    rows = list(db.query(EVENT_SELECT + " WHERE chronology_events.id = ?", [event_id]))
    if not rows:
        raise NotFound(f"No chronology event {event_id}.")
    return rows[0]


def case_chronology(db: Database, case_id: int) -> list[dict[str, Any]]:
    """Every agency's events for one case in date order (then recording order),
    each with ``gap_days`` since the previous event (None for the first).

    Inspectors of every strand may read case chronologies (docs/architecture.md §8).
    """
    events = list(db.query(EVENT_SELECT + " WHERE chronology_events.case_id = ?"
                           " ORDER BY chronology_events.event_date, chronology_events.id", [case_id]))
    previous: dt.date | None = None
    for event in events:
        day = dt.date.fromisoformat(event["event_date"])
        event["gap_days"] = None if previous is None else (day - previous).days
        previous = day
    return events


def case_by_ref(db: Database, review_id: int, case_ref: str) -> dict[str, Any]:
    """The review's case ``case_ref``, found under the one rule of :mod:`inspect_kit.references`
    (``c-017`` finds ``C-017``).

    :raises NotFound: no such case in the review."""
    case_id = references.case_id(db, review_id, case_ref)
    if case_id is None:
        raise NotFound(f"No case {case_ref} in this review.")
    return next(db.query("SELECT * FROM cases WHERE id = ?", [case_id]))


def case_list(db: Database, review_id: int) -> list[dict[str, Any]]:
    """The review's cases by reference, each with ``events`` (chronology events
    recorded), ``key_events``, ``missed_opportunities`` and ``last_event_date``."""
    return list(db.query(
        """SELECT cases.*, count(chronology_events.id) AS events,
                  coalesce(sum(chronology_events.key_event), 0) AS key_events,
                  coalesce(sum(chronology_events.missed_opportunity), 0) AS missed_opportunities,
                  max(chronology_events.event_date) AS last_event_date
           FROM cases LEFT JOIN chronology_events ON chronology_events.case_id = cases.id
           WHERE cases.review_id = ?
           GROUP BY cases.id ORDER BY cases.case_ref""", [review_id]))
