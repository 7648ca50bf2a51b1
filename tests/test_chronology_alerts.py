"""Chronology events merge across agencies; safeguarding alerts move step by step."""

from __future__ import annotations

import datetime as dt

import pytest

from inspect_kit import alerts, chronology, judgements
from inspect_kit.errors import Conflict, Forbidden, InvalidTransition, ValidationError

from .library_fixtures import new_uuid, small_review


@pytest.fixture
def review(fresh_db):
    return small_review(fresh_db)


def event(review, **overrides):
    return {"review_id": review.review_id, "case_id": review.infant, "agency_id": review.ed,
            "practitioner_role": "ED registrar", "event_date": "2008-03-01", "event_type": "ed_attendance",
            "description": "Attended with a bruise to the forehead.", **overrides}


def test_the_case_chronology_merges_agencies_in_date_order_with_gaps(review):
    chronology.record_event(review.db, review.health, event(review, event_date="2008-05-10", agency_id=review.gp,
                                                            event_type="gp_appointment", missed_opportunity=True),
                            client_uuid=new_uuid())
    chronology.record_event(review.db, review.health, event(review, key_event="yes"), client_uuid=new_uuid())
    timeline = chronology.case_chronology(review.db, review.infant)
    assert [(e["event_date"], e["agency"]) for e in timeline] == [
        ("2008-03-01", "Emergency department"), ("2008-05-10", "Elm GP practice")]
    assert [e["gap_days"] for e in timeline] == [None, 70]
    assert timeline[0]["key_event"] == 1 and timeline[1]["missed_opportunity"] == 1


def test_an_event_is_idempotent_by_uuid(review):
    uuid = new_uuid()
    first = chronology.record_event(review.db, review.health, event(review), client_uuid=uuid)
    again = chronology.record_event(review.db, review.health, event(review), client_uuid=uuid)
    assert first.created and not again.created
    with pytest.raises(Conflict):
        chronology.record_event(review.db, review.health, event(review, description="Other"), client_uuid=uuid)
    assert review.db["chronology_events"].count == 1


@pytest.mark.parametrize("overrides, field", [
    ({"case_id": None}, "case_id"), ({"agency_id": 777}, "agency_id"), ({"event_type": "rumour"}, "event_type"),
    ({"date_precision": "roughly"}, "date_precision"), ({"description": ""}, "description"),
    ({"event_date": "yesterday"}, "event_date"), ({"key_event": "perhaps"}, "key_event"),
])
def test_a_bad_event_names_the_field(review, overrides, field):
    with pytest.raises(ValidationError) as raised:
        chronology.record_event(review.db, review.health, event(review, **overrides), client_uuid=new_uuid())
    assert field in raised.value.field_errors
    assert review.db["chronology_events"].count == 0


def test_an_alert_moves_from_raised_to_closed_with_due_dates(review):
    today = dt.date(2008, 11, 20)
    alert = alerts.raise_alert(review.db, review.health, review_id=review.review_id, urgency="urgent",
                               concern="Infant with unexplained bruising seen today.", case_id=review.infant,
                               today=today)
    assert alert["status"] == "raised" and alert["referral_due"] == "2008-11-20"
    assert alerts.open_alerts(review.db, review.review_id, today=dt.date(2008, 11, 21))[0]["overdue"]
    referred = alerts.refer(review.db, review.lead, alert["id"], referred_to="Ashbridge MASH", today=today)
    assert referred["response_due"] == "2008-11-21"
    with pytest.raises(InvalidTransition):
        alerts.close(review.db, review.lead, alert["id"])
    alerts.record_response(review.db, review.lead, alert["id"], "Strategy discussion held; child seen.")
    closed = alerts.close(review.db, review.lead, alert["id"], "Response checked")
    assert closed["status"] == "closed"
    assert alerts.open_alerts(review.db, review.review_id) == []
    actions = [r["action"] for r in review.db.query(
        "SELECT action FROM audit_log WHERE table_name = 'safeguarding_alerts' ORDER BY id")]
    assert actions == ["alert.raise", "alert.referred", "alert.responded", "alert.closed"]


def test_an_alert_needs_a_child_and_a_concern(review):
    with pytest.raises(ValidationError) as raised:
        alerts.raise_alert(review.db, review.health, review_id=review.review_id, urgency="soon", concern="")
    assert set(raised.value.field_errors) == {"urgency", "concern", "case_id"}


def test_judgements_take_grades_from_the_scale_and_only_from_leads(review):
    judgement = judgements.record_judgement(review.db, review.lead, review_id=review.review_id, criterion_code="2.1",
                                            scope="partnership", narrative="Referrals are prompt.", proposed_grade=3)
    assert judgement["proposed_grade"] == 3
    with pytest.raises(ValidationError):
        judgements.record_judgement(review.db, review.lead, review_id=review.review_id, criterion_code="2.1",
                                    scope="partnership", narrative="x", proposed_grade=7)
    with pytest.raises(Forbidden):
        judgements.record_judgement(review.db, review.health, review_id=review.review_id, criterion_code="2.1",
                                    scope="partnership", narrative="x")
    with pytest.raises(Forbidden):
        judgements.moderate_judgement(review.db, review.lead, review_id=review.review_id, criterion_code="2.1",
                                      scope="partnership", moderated_grade=2, note="x")
    moderated = judgements.moderate_judgement(review.db, review.moderator, review_id=review.review_id,
                                              criterion_code="2.1", scope="partnership", moderated_grade=2,
                                              note="Evidence of delay in 3 of 8 tracked cases.")
    assert moderated["id"] == judgement["id"] and moderated["moderated_grade"] == 2
    assert (moderated["proposed_grade"], moderated["proposed_by"]) == (3, "lead"), "the lead's proposal is kept"
