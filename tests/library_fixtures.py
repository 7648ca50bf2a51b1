"""A small review built through the library, for tests of the domain modules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlite_utils import Database

from inspect_kit import reviews
from inspect_kit.actors import SYSTEM, Actor


@dataclass
class SmallReview:
    """One review with two agencies, two cases, a health and a police inspector, and a lead."""

    db: Database
    review_id: int
    ed: int
    gp: int
    infant: int
    sibling: int
    health: Actor
    police: Actor
    lead: Actor
    moderator: Actor

    def finding(self, **overrides) -> dict:
        """A valid finding's fields, with ``overrides``."""
        return {
            "review_id": self.review_id, "agency_id": self.ed, "case_id": self.infant,
            "activity": "case_file_review", "collected_on": "2008-11-20",
            "evidence_text": "ED notes record a bruise to the forehead; referral made the same day.",
            "evaluation_text": "Prompt referral; good recognition of risk.",
            "finding_type": "strength", "impact_on_child": "positive", "criteria": {"2.1": "primary"},
            **overrides,
        }


def small_review(db: Database, slug: str = "testshire") -> SmallReview:
    """The review ``slug``; a second call with another slug makes a second review with the same codes and case refs."""
    review = reviews.create_review(db, slug=slug, title=f"Special joint review of {slug.title()}", area=slug.title(),
                                   review_type="special_jar", framework="sjar-2008", actor=SYSTEM)
    rid = review["id"]
    ed = reviews.add_agency(db, review_id=rid, name="Emergency department", agency_type="emergency_department",
                            lead_strand="health", actor=SYSTEM, organisation="Testshire Hospitals")
    gp = reviews.add_agency(db, review_id=rid, name="Elm GP practice", agency_type="gp", lead_strand="health",
                            actor=SYSTEM)
    infant = reviews.add_case(db, review_id=rid, case_ref="C-017", age_band="under_1", legal_status="cp_plan",
                              selection_route="index", cp_category="physical_abuse", actor=SYSTEM)
    sibling = reviews.add_case(db, review_id=rid, case_ref="C-018", age_band="1_4", legal_status="child_in_need",
                               selection_route="sampled", actor=SYSTEM)
    hlt = reviews.add_inspector(db, review_id=rid, code="HLT-01", strand="health", role="team", actor=SYSTEM)
    pol = reviews.add_inspector(db, review_id=rid, code="POL-02", strand="police", role="team", actor=SYSTEM)
    lead = reviews.add_inspector(db, review_id=rid, code="OFS-01", strand="ofsted", role="lead", actor=SYSTEM)
    mod = reviews.add_inspector(db, review_id=rid, code="MOD-01", strand="ofsted", role="moderator", actor=SYSTEM)
    return SmallReview(
        db, rid, ed, gp, infant, sibling,
        health=Actor("health1", "inspector", "health", hlt),
        police=Actor("police2", "inspector", "police", pol),
        lead=Actor("lead", "lead", "ofsted", lead),
        moderator=Actor("moderator", "moderator", "ofsted", mod),
    )


def new_uuid() -> str:
    return str(uuid.uuid4())
