"""Helpers for the Datasette tests: a small review built through the library,
and login cookies exactly as the intake app sets them.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

from inspect_kit import chronology, findings
from inspect_kit.actors import Actor
from inspect_kit.datasette_plugin.session import login_session, sign_session
from inspect_kit.store import Store

from .review_builder import add_review, agency, case, inspector

COOKIE = "inspect_kit_session"
SECRET = "datasette-test-secret"
ROLES = {
    "lead": ("lead", None, None),
    "moderator": ("moderator", None, None),
    "admin": ("admin", None, None),
    "police_inspector": ("inspector", "police", "POL-01"),
    "health_inspector": ("inspector", "health", "HLT-01"),
}


def cookies_as(username: str, role: str, strand: str | None = None, secret: str = SECRET) -> dict[str, str]:
    """The signed intake session cookie of ``username`` as the intake app sets it at login."""
    return {COOKIE: sign_session(login_session(username, role, strand), secret)}


def cookies_for(role_key: str, secret: str = SECRET) -> dict[str, str]:
    """The signed intake session cookie of one of :data:`ROLES` (empty for ``anonymous``)."""
    if role_key == "anonymous":
        return {}
    role, strand, inspector = ROLES[role_key]
    return {COOKIE: sign_session(login_session(role_key.replace("_", "-"), role, strand, inspector), secret)}


@dataclass
class SmallReview:
    review_id: int
    police_finding: str
    health_finding: str


def add_role_accounts(store: Store) -> None:
    """An account for each of :data:`ROLES` in private.db (the plugin checks they are enabled).

    Written directly with a placeholder hash: nobody logs in with a password here.
    """
    with contextlib.closing(store.private()) as db:
        for username, (role, strand, inspector) in ROLES.items():
            db.execute(
                "INSERT INTO accounts (username, role, strand, inspector_code, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, 'not-a-hash', '2026-01-01T00:00:00+00:00')",
                [username.replace("_", "-"), role, strand, inspector])


def build_small_review(store: Store) -> SmallReview:
    """Two strands, three agencies, two cases, a finding per strand, a short chronology and the accounts."""
    add_role_accounts(store)
    with contextlib.closing(store.evidence()) as db:
        built = add_review(db, slug="testshire", title="Special review of Testshire", area="Testshire",
                           fieldwork_start="2026-01-05", fieldwork_end="2026-01-16", draft_due="2026-01-22",
                           strands=["health", "police"], steps=[
                               agency("Testshire MASH", "mash", "ofsted"),
                               agency("Testshire ED", "emergency_department", "health"),
                               agency("Testshire CAIT", "police_cait", "police"),
                               inspector("POL-01", "police", "team"),
                               inspector("HLT-01", "health", "team"),
                               case("C-001", "under_1", "cp_plan", "index"),
                               case("C-002", "5_9", "child_in_need", "sampled"),
                           ])
        rid = built.id
        social_care, ed, cait = (built.agencies[name] for name in ("Testshire MASH", "Testshire ED", "Testshire CAIT"))
        case_a = built.cases["C-001"]
        police = Actor("police_inspector", "inspector", "police", built.inspectors["POL-01"])
        health = Actor("health_inspector", "inspector", "health", built.inspectors["HLT-01"])
        police_finding = findings.record_finding(db, police, {
            "agency_id": cait, "case_id": case_a, "activity": "case_file_review", "collected_on": "2026-01-06",
            "evidence_text": "The CAIT filed the referral without a strategy discussion.",
            "finding_type": "area_for_improvement", "impact_on_child": "negative", "criteria": ["2.3"],
        }, client_uuid=str(uuid.uuid4()), submit=True, review_id=rid).record
        health_finding = findings.record_finding(db, health, {
            "agency_id": ed, "case_id": case_a, "activity": "case_file_review", "collected_on": "2026-01-07",
            "evidence_text": "The emergency department referred the bruised infant the same day.",
            "finding_type": "strength", "criteria": ["2.1"],
        }, client_uuid=str(uuid.uuid4()), submit=True, review_id=rid).record
        for agency_id, day, event_type, text in [
            (ed, "2025-10-01", "ed_attendance", "Infant brought with a bruise to the cheek."),
            (ed, "2025-10-01", "referral", "ED consultant referred to the MASH."),
            (social_care, "2025-10-02", "strategy_discussion",
             "Strategy discussion between social care and police only; health not invited."),
            (cait, "2025-12-20", "police_incident", "Police called to a disturbance at the home."),
        ]:
            chronology.record_event(db, police, {
                "case_id": case_a, "agency_id": agency_id, "event_date": day, "event_type": event_type,
                "description": text, "missed_opportunity": event_type == "strategy_discussion",
            }, client_uuid=str(uuid.uuid4()), review_id=rid)
    return SmallReview(review_id=rid, police_finding=police_finding["public_id"],
                       health_finding=health_finding["public_id"])
